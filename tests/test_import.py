"""``import hf_lr`` has no side effects: it imports neither Transformers, Accelerate nor matplotlib."""

from __future__ import annotations

import subprocess
import sys

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
