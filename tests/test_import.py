"""``import hf_lr`` has no side effects: it imports neither Transformers, Accelerate nor matplotlib."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pytest

import hf_lr


def test_import_does_not_pull_heavy_optional_packages() -> None:
    code = (
        "import sys, hf_lr; print(sorted(m for m in ('transformers', 'accelerate', 'matplotlib') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert output.strip() == "[]"


def test_public_api_is_exported_and_documented() -> None:
    for name in hf_lr.__all__:
        obj = getattr(hf_lr, name)
        if isinstance(obj, type):
            assert obj.__doc__, f"class {name} has no docstring"
        elif callable(obj):
            assert obj.__doc__ and "Example:" in obj.__doc__ and ">>>" in obj.__doc__, f"{name} has no example"
    assert "get_scheduler" in hf_lr.__all__ and "get_noam_schedule" in hf_lr.__all__


def test_transformers_imports_work_unchanged() -> None:
    """Every schedule name of ``transformers.optimization`` that hf_lr replaces is importable from ``hf_lr`` under the
    same name: ``from transformers.optimization import X`` becomes ``from hf_lr import X``."""
    import transformers.optimization as theirs

    replaced = {name for name in dir(theirs) if name.startswith("get_") and name.endswith(("schedule", "scheduler"))}
    replaced |= {
        name for name in ("get_cosine_with_min_lr_schedule_with_warmup_lr_rate", "GreedyLR") if hasattr(theirs, name)
    }
    replaced -= {"get_adafactor_schedule"}  # Adafactor's, not a schedule of the learning rate's own
    assert replaced - set(hf_lr.__all__) == set()
    for name in replaced:
        assert callable(getattr(hf_lr, name))


def test_the_top_level_is_small() -> None:
    """The top level is Transformers' API, the registry, the scheduler, composition and tools; the schedule classes
    live in their modules."""
    names = [name for name in hf_lr.__all__ if not name.startswith("__")]
    assert len(names) <= 35
    assert not any(name in names for name in ("CosineWithWarmup", "CosineAnnealing", "Warmup", "Join", "Expression"))


@pytest.mark.parametrize("name", sorted(hf_lr._MOVED))
def test_names_moved_off_the_top_level_still_resolve_with_a_warning(name: str) -> None:
    module = importlib.import_module(hf_lr._MOVED[name])
    assert name in module.__all__
    with pytest.warns(FutureWarning, match=rf"`hf_lr\.{name}` moved to `{re.escape(module.__name__)}\.{name}`"):
        moved = getattr(hf_lr, name)
    assert moved is getattr(module, name)
    with pytest.warns(FutureWarning):
        exec(f"from hf_lr import {name}", {})
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchSchedule'"):
        hf_lr.NoSuchSchedule  # noqa: B018
