"""The compatibility matrix: the whole test suite against the versions ``setup.cfg`` declares.

Each session is one cell of the table in ``docs/compatibility.md``: a fresh virtual environment (under ``.nox/``)
with hf_lr installed editable with its ``dev`` extra, the versions pinned below, and ``python -m pytest -q``. List
them with ``nox -l``; run one with ``nox -s transformers_4``. Arguments after ``--`` go to pytest.

Only torch 2.13.0 for Python 3.11 installs from a local file on this project's machines (the ``LOCAL`` cells, seconds);
the other cells take torch from the registry with several GB of CUDA packages (it runs on the CPU), so they are run
by hand, never by ``.ci/run``.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]
nox.options.download_python = "never"

ROOT = Path(__file__).parent
LOCAL_TORCH = "2.13.0"  # a CPU build for Python 3.11 that pip takes from a local folder on this project's machines

#: session -> (Python, pins for pip's constraints or None for constraints.txt, what the cell proves). An unpinned
#: package gets the newest release that the others allow.
CELLS: dict[str, tuple[str, dict[str, str] | None, str]] = {
    "tests": ("3.11", None, "what CI runs"),
    "transformers_min": (
        "3.11",
        {"torch": f"=={LOCAL_TORCH}", "transformers": "==4.40.2", "accelerate": "==1.1.0"},
        "the oldest Transformers and Accelerate declared",
    ),
    "transformers_4": (
        "3.11",
        {"torch": f"=={LOCAL_TORCH}", "transformers": "==4.57.6", "huggingface_hub": "<1"},
        "the last Transformers 4.x (.ci/run runs its Transformers-facing tests)",
    ),
    "transformers_newest": ("3.11", {"torch": f"=={LOCAL_TORCH}"}, "the newest Transformers, Accelerate and NumPy"),
    # pyarrow 26 (for datasets) imports only with NumPy 2 but does not say so in its metadata.
    "numpy1": ("3.11", {"torch": f"=={LOCAL_TORCH}", "numpy": "<2", "pyarrow": "<26"}, "NumPy 1.x"),
    # From here on, torch comes from the registry (several GB): run by hand.
    "torch_min": (
        "3.11",
        {"torch": "==2.4.1", "transformers": "==5.13.1"},
        "the oldest torch declared, with the newest Transformers that supports it",
    ),
    "python_min": (
        "3.10",
        {"torch": "==2.4.1", "numpy": "==1.22.4", "transformers": "==4.40.2", "accelerate": "==1.1.0"},
        "the oldest of everything declared",
    ),
    "python_max": ("3.13", {}, "the newest Python, with the newest of everything"),
}
#: The style checkers pinned in constraints.txt, for every cell.
TOOLS = {
    line.split("==")[0]: "==" + line.split("==")[1]
    for line in (ROOT / "constraints.txt").read_text().splitlines()
    if line.startswith(("ruff==", "mypy=="))
}
LOCAL = ("tests", "transformers_min", "transformers_4", "transformers_newest", "numpy1")
REPORT = (
    "import sys, importlib.metadata as m; print('versions: python', sys.version.split()[0], *("
    "f'{d} {m.version(d)}' for d in ('torch', 'transformers', 'accelerate', 'numpy')))"
)


def _interpreter(version: str) -> str:
    """``pythonX.Y`` from PATH, or from pyenv's folder (this project's machines keep several there, off PATH)."""
    found = shutil.which(f"python{version}")
    if found and os.access(found, os.X_OK) and ".pyenv/shims" not in found:
        return found
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"))
    return candidates[-1] if candidates else version


def _cell(name: str, python: str, pins: dict[str, str] | None, doc: str) -> None:
    def run(session: nox.Session) -> None:
        if pins is None:
            constraints = ROOT / "constraints.txt"
        else:
            # The cell's pins, and CI's ruff and mypy: tests/test_style.py checks the code, not the cell's versions.
            constraints = Path(session.create_tmp()) / "constraints.txt"
            constraints.write_text("".join(f"{package}{spec}\n" for package, spec in {**TOOLS, **pins}.items()))
        session.install("-c", str(constraints), "-e", ".[dev]")
        session.run("python", "-c", REPORT)
        session.run("python", "-m", "pytest", "-q", *session.posargs)

    versions = "constraints.txt" if pins is None else ", ".join(f"{p}{s}" for p, s in pins.items()) or "no pins"
    run.__doc__ = f"Python {python}, {versions}: {doc}."
    nox.session(name=name, python=_interpreter(python))(run)


for _name, (_python, _pins, _doc) in CELLS.items():
    _cell(_name, _python, _pins, _doc)
