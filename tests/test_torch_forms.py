"""torch's argument forms for the torch-named equivalents: tensors where torch takes tensors, per-group lists where
torch takes lists, each with torch's numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import hf_lr

LRS = (0.1, 0.02, 1e-4)


def _optimizer() -> torch.optim.Optimizer:
    generator = torch.Generator().manual_seed(0)
    groups = [{"params": [torch.nn.Parameter(torch.randn(2, generator=generator))], "lr": lr} for lr in LRS]
    return torch.optim.SGD(groups, lr=LRS[0], momentum=0.9)


def _lrs(make: Any, steps: int) -> list[list[float]]:
    optimizer = _optimizer()
    scheduler = make(optimizer)
    seen = []
    for _ in range(steps):
        seen.append([float(g["lr"]) for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return seen


def _assert_torch_numbers(ours: list[list[float]], theirs: list[list[float]], rel: float = 1e-12) -> None:
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a == pytest.approx(b, rel=rel, abs=1e-15), f"step {step}"


CYCLIC = [
    {"base_lr": [1e-3, 5e-4, 1e-5], "max_lr": [0.05, 0.01, 1e-3]},
    {"base_lr": 1e-3, "max_lr": [0.05, 0.01, 2e-3]},
    {"base_lr": [1e-3, 5e-4, 1e-5], "max_lr": 0.05},
    {"base_lr": (1e-3, 5e-4, 1e-5), "max_lr": (0.05, 0.01, 1e-3), "mode": "triangular2"},
]


@pytest.mark.parametrize("kwargs", CYCLIC, ids=range(len(CYCLIC)))
def test_cyclic_per_group_lists_as_torch(kwargs: dict[str, Any]) -> None:
    extra = {"step_size_up": 3, "step_size_down": 4, **kwargs}
    ours = _lrs(lambda o: hf_lr.get_scheduler("cyclic", o, scheduler_specific_kwargs=extra), 30)
    theirs = _lrs(lambda o: torch.optim.lr_scheduler.CyclicLR(o, cycle_momentum=False, **extra), 30)
    _assert_torch_numbers(ours, theirs)


@pytest.mark.parametrize("max_lr", [[0.5, 0.1, 1e-3], (0.5, 0.1, 1e-3), 0.3])
def test_one_cycle_max_lr_per_group_as_torch(max_lr: Any) -> None:
    ours = _lrs(
        lambda o: hf_lr.get_scheduler("one_cycle", o, scheduler_specific_kwargs={"max_lr": max_lr, "total_steps": 25}),
        25,
    )
    theirs = _lrs(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=max_lr, total_steps=25, cycle_momentum=False), 25
    )
    _assert_torch_numbers(ours, theirs)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_tensor_arguments_as_torch(dtype: torch.dtype) -> None:
    """Tensors where torch takes them (one-element, float64 or float32): the numbers of the same values as floats."""
    rel = 1e-12 if dtype == torch.float64 else 1e-6
    as_tensor = lambda v: torch.tensor(v, dtype=dtype)
    ours = _lrs(
        lambda o: hf_lr.get_scheduler(
            "one_cycle", o, scheduler_specific_kwargs={"max_lr": as_tensor(0.3), "total_steps": 20}
        ),
        20,
    )
    theirs = _lrs(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.3, total_steps=20, cycle_momentum=False), 20
    )
    _assert_torch_numbers(ours, theirs, rel)
    listed = {"max_lr": [as_tensor(0.5), 0.1, as_tensor(1e-3)], "total_steps": 20}
    ours = _lrs(lambda o: hf_lr.get_scheduler("one_cycle", o, scheduler_specific_kwargs=listed), 20)
    theirs = _lrs(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=[0.5, 0.1, 1e-3], total_steps=20, cycle_momentum=False),
        20,
    )
    _assert_torch_numbers(ours, theirs, rel)
    kwargs = {"base_lr": as_tensor(1e-3), "max_lr": as_tensor(0.05), "step_size_up": 3}
    ours = _lrs(lambda o: hf_lr.get_scheduler("cyclic", o, scheduler_specific_kwargs=kwargs), 20)
    theirs = _lrs(
        lambda o: torch.optim.lr_scheduler.CyclicLR(o, base_lr=1e-3, max_lr=0.05, step_size_up=3, cycle_momentum=False),
        20,
    )
    _assert_torch_numbers(ours, theirs, rel)
    ours = _lrs(
        lambda o: hf_lr.get_scheduler(
            "cosine_annealing", o, scheduler_specific_kwargs={"T_max": as_tensor(8.0).int(), "eta_min": as_tensor(1e-3)}
        ),
        20,
    )
    theirs = _lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=1e-3), 20)
    _assert_torch_numbers(ours, theirs, max(rel, 1e-10))
    ours = _lrs(
        lambda o: hf_lr.get_scheduler(
            "cosine_annealing", o, scheduler_specific_kwargs={"T_max": np.int64(8), "eta_min": np.float32(1e-3)}
        ),
        20,
    )
    _assert_torch_numbers(ours, theirs, 1e-6)


def _half(step: int) -> float:
    return 0.5 ** (step // 2)


def _third(step: int) -> float:
    return 1.0 / (1 + step)


def test_lambda_with_one_function_per_group_through_get_scheduler() -> None:
    functions = [_half, _third, _half]
    ours = _lrs(lambda o: hf_lr.get_scheduler("lambda", o, scheduler_specific_kwargs={"lr_lambda": functions}), 12)
    theirs = _lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, lr_lambda=functions), 12)
    assert ours == theirs
    scheduler = hf_lr.get_scheduler("lambda", _optimizer(), scheduler_specific_kwargs={"lr_lambda": functions})
    assert [c["fn"].rsplit(".", 1)[-1] for c in scheduler.schedule_configs()] == ["_half", "_third", "_half"]


@pytest.mark.parametrize(
    ("name", "kwargs", "pattern"),
    [
        (
            "cyclic",
            {"base_lr": [1e-3, 1e-4], "max_lr": 0.05},
            r"`base_lr` must have one value per parameter group: expected 3, got 2",
        ),
        (
            "one_cycle",
            {"max_lr": [0.1] * 4, "total_steps": 10},
            r"`max_lr` must have one value per parameter group: expected 3, got 4",
        ),
        ("lambda", {"lr_lambda": [_half]}, r"`lr_lambda` must have one value per parameter group: expected 3, got 1"),
        (
            "one_cycle",
            {"max_lr": torch.tensor([0.1, 0.2, 0.3]), "total_steps": 10},
            r"`max_lr` must be a number or a one-element tensor, got a Tensor of shape \(3,\)",
        ),
        (
            "cyclic",
            {"base_lr": [1e-3, "x", 1e-5], "max_lr": 0.05},
            r"parameter group 1: `base_lr` must be a real number, got 'x'",
        ),
    ],
)
def test_malformed_per_group_values_are_refused_clearly(name: str, kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises((ValueError, TypeError), match=pattern):
        hf_lr.get_scheduler(name, _optimizer(), scheduler_specific_kwargs=kwargs)


def test_a_per_group_list_without_an_optimizer_is_refused_clearly() -> None:
    with pytest.raises(
        TypeError, match=r"list of per-group values for 'max_lr' needs the optimizer's parameter groups"
    ):
        hf_lr.build_schedule("one_cycle", max_lr=[0.1, 0.2], total_steps=10)
