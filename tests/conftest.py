from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import settings

# CI runs the same examples every time (a failure there is reproducible); local runs explore new ones.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

sys.path.insert(0, str(Path(__file__).parent))

import hf_lr  # noqa: E402
from hf_lr import registry  # noqa: E402


def make_optimizer(
    lrs: Sequence[float] = (0.1,), optimizer: str = "sgd", tensor_lr: bool = False, seed: int = 0
) -> torch.optim.Optimizer:
    """An optimizer over small fresh parameters, one group per learning rate."""
    generator = torch.Generator().manual_seed(seed)
    groups = []
    for lr in lrs:
        params = [torch.nn.Parameter(torch.randn(3, generator=generator))]
        groups.append({"params": params, "lr": torch.tensor(lr, dtype=torch.float64) if tensor_lr else lr})
    if optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    return torch.optim.AdamW(groups, lr=lrs[0])


def group_lrs(optimizer: torch.optim.Optimizer) -> tuple[float, ...]:
    return tuple(float(group["lr"]) for group in optimizer.param_groups)


def train_step(optimizer: torch.optim.Optimizer, step: int) -> None:
    """One deterministic optimizer update on a toy objective (depends on the step so updates differ)."""
    optimizer.zero_grad()
    loss = sum(((p - (step % 5)) ** 2).sum() for g in optimizer.param_groups for p in g["params"])
    loss.backward()
    optimizer.step()


def trajectory(
    make_scheduler: Callable[[torch.optim.Optimizer], Any],
    num_steps: int,
    lrs: Sequence[float] = (0.1,),
    train: bool = True,
    **optimizer_kwargs: Any,
) -> list[tuple[float, ...]]:
    """The learning rates of every group used at updates 0..num_steps-1 (``train=False``: no backward pass)."""
    optimizer = make_optimizer(lrs, **optimizer_kwargs)
    scheduler = make_scheduler(optimizer)
    lrs_seen = []
    for step in range(num_steps):
        lrs_seen.append(group_lrs(optimizer))
        if train:
            train_step(optimizer, step)
        else:
            optimizer.step()
        scheduler.step()
    return lrs_seen


def scheduler_for(
    name: str, w: int | None, t: int | None, kwargs: dict[str, Any]
) -> Callable[[torch.optim.Optimizer], Any]:
    def make(optimizer: torch.optim.Optimizer, **resume: Any) -> Any:
        return hf_lr.get_scheduler(name, optimizer, w, t, dict(kwargs), **resume)

    return make


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """Remove the names a test registers."""
    before = dict(registry._REGISTRY)
    loaded = set(registry._ENTRY_POINTS_LOADED)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)
    registry._ENTRY_POINTS_LOADED.clear()
    registry._ENTRY_POINTS_LOADED.update(loaded)


# The fast day-to-day selection is `python -m pytest -q -m "not slow"`. These start launchers, example scripts, Trainer
# or Lightning runs, or many interpreters; the marker only selects (CI runs every test). Listed here, by module or by
# test, so the test modules stay as they are; tests/test_docs.py marks its own.
SLOW_MODULES = frozenset({
    "test_finetune_example.py", "test_trainer_example.py", "test_lr_find_example.py", "test_lightning.py",
    "test_trainer_integration.py", "test_plot_cli.py",
})  # fmt: skip
SLOW_TESTS = frozenset({
    "test_clock.py::test_accelerate_default_prepare",
    "test_lr_finder.py::test_training_at_the_suggestion_lowers_the_loss",
    "test_lr_finder.py::test_transformers_model_with_gradient_accumulation",
    "test_import.py::test_import_does_not_pull_heavy_optional_packages",
})  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = item.path.name
        if name in SLOW_MODULES or f"{name}::{getattr(item, 'originalname', item.name)}" in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


# tests/test_docs.py stores its count of the documentation's code blocks here; printed at the end of the run.
DOCS_BLOCKS_SUMMARY = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    summary = config.stash.get(DOCS_BLOCKS_SUMMARY, None)
    if summary:
        terminalreporter.write_line(summary)
