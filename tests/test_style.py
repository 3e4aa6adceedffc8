"""The codebase is lint-clean, formatted and type-checks: ruff (configured in pyproject.toml) and mypy (setup.cfg).

These run in the test suite, hence in `.ci/run`; run them alone with `python -m pytest tests/test_style.py`, or
directly: `ruff check .`, `ruff format --check .`, `mypy hf_lr`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy", "hf_lr")],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_clean(command: tuple[str, ...]) -> None:
    result = _run(*command)
    assert result.returncode == 0, (
        f"{' '.join(command)} found problems:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"
    )
