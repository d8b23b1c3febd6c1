"""The public Python API: the names in ``rural_logistics`` (loaded on first use)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import rural_logistics as rl


@pytest.mark.parametrize("name", sorted(rl.PUBLIC))
def test_public_name_is_the_object_of_its_module(name: str) -> None:
    assert getattr(rl, name) is getattr(importlib.import_module(rl.PUBLIC[name]), name)
    assert name in rl.__all__ and name in dir(rl)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        rl.nope  # noqa: B018


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = ("import sys, rural_logistics; "
            "print(sorted(m for m in ('geopandas', 'ortools', 'pyvrp', 'matplotlib', "
            "'rural_logistics.pipeline') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_readme_python_example_runs(
    grid_config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Python API\n"):]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = (code.replace("configs/demo_county.yaml", str(grid_config_path))
            .replace("time_limit_s=20", "time_limit_s=0.5")
            .replace("runs/demo-notebook", str(tmp_path / "run")))
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("placing 2 stations") for line in printed)
    assert (tmp_path / "run" / "stops.csv").is_file()
