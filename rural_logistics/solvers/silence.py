"""One stdout silencer for native solver libraries.

HiGHS prints a banner to file descriptor 1 when given parameters, and HiGHS 1.12 writes a
debug line (``HighsMipSolverData::transformNewIntegerFeasibleSolution``) straight to the
process's standard output on some MIPs whatever its output flag says; either would end up
in the command's results. Python-level redirection cannot catch C++ writes, so the file
descriptor itself is pointed at the null device meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def stdout_silenced() -> Iterator[None]:
    """File descriptor 1 sent to the null device while the block runs (Python's own
    buffered output is flushed first, so nothing printed before is lost)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # pragma: no cover - no real stdout (embedded use)
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)
