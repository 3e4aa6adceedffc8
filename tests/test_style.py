"""The codebase is lint-clean, formatted and type-checks: ruff (configured in pyproject.toml) and mypy (setup.cfg).

These run in the test suite, hence in `.ci/run`; run them alone with `python -m pytest tests/test_style.py`, or
directly: `ruff check .`, `ruff format --check .`, `mypy hf_lr`.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: mypy reads the types of torch and Transformers, which change between releases: the check is defined against the
#: versions constraints.txt pins (CI's); a matrix cell with other releases skips it (ruff does not depend on them).
TYPED_AGAINST = ("torch", "transformers")


def _pinned(package: str) -> str | None:
    text = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(package)}==([^\s#]+)", text, flags=re.MULTILINE)
    return match.group(1) if match else None


def _other_releases() -> list[str]:
    found = []
    for package in TYPED_AGAINST:
        pinned, installed = _pinned(package), importlib.metadata.version(package)
        if pinned is not None and installed.split("+")[0] != pinned:
            found.append(f"{package} {installed} (constraints.txt: {pinned})")
    return found


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy", "hf_lr")],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_clean(command: tuple[str, ...]) -> None:
    other = _other_releases() if command[0] == "mypy" else []
    if other:
        pytest.skip(f"mypy checks hf_lr against constraints.txt's releases; this environment has {other}")
    result = _run(*command)
    assert result.returncode == 0, (
        f"{' '.join(command)} found problems:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"
    )
