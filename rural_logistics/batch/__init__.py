"""Many runs at once on Dask: ``rural-logistics batch``.

A batch takes config files, a glob or a manifest CSV with per-run overrides
(:func:`collect_runs`), checks its folder and fingerprints every run
(:func:`prepare_batch`), and executes the runs on a Dask cluster — a local one started
for the batch or an existing one (:func:`batch_cluster`) — writing one run folder per
config (the files of ``solve``), one record per run and one results table for all
(:func:`run_batch`). Each run is :func:`execute_run`: ``load_config`` → ``plan_region`` →
``write_run``, its failure recorded on one line and never stopping the others.

Modules: :mod:`~rural_logistics.batch.runs` (inputs, manifest, fingerprints),
:mod:`~rural_logistics.batch.task` (one run in a worker),
:mod:`~rural_logistics.batch.results` (records, the results table),
:mod:`~rural_logistics.batch.cluster` (the Dask cluster) and
:mod:`~rural_logistics.batch.driver` (submitting, collecting, resuming).
"""

from rural_logistics.batch.cluster import (
    ClusterInfo,
    batch_cluster,
    default_workers,
    format_bytes,
    parse_memory_limit,
)
from rural_logistics.batch.driver import (
    RECORDS_DIR,
    RUNS_DIR,
    SETTINGS_FILE,
    BatchPlan,
    BatchProgress,
    BatchResult,
    prepare_batch,
    run_batch,
)
from rural_logistics.batch.results import (
    RECORD_COLUMNS,
    RESULTS_CSV,
    RESULTS_PARQUET,
    RUN_FAILED,
    RUN_NOT_RUN,
    RUN_OK,
    flatten,
    results_frame,
)
from rural_logistics.batch.runs import (
    MANIFEST_COLUMNS,
    BatchRun,
    collect_runs,
    effective_config,
    fingerprint,
    read_manifest,
)
from rural_logistics.batch.task import RunTask, execute_run

__all__ = [
    "MANIFEST_COLUMNS",
    "RECORDS_DIR",
    "RECORD_COLUMNS",
    "RESULTS_CSV",
    "RESULTS_PARQUET",
    "RUNS_DIR",
    "RUN_FAILED",
    "RUN_NOT_RUN",
    "RUN_OK",
    "SETTINGS_FILE",
    "BatchPlan",
    "BatchProgress",
    "BatchResult",
    "BatchRun",
    "ClusterInfo",
    "RunTask",
    "batch_cluster",
    "collect_runs",
    "default_workers",
    "effective_config",
    "execute_run",
    "fingerprint",
    "flatten",
    "format_bytes",
    "parse_memory_limit",
    "prepare_batch",
    "read_manifest",
    "results_frame",
    "run_batch",
]
