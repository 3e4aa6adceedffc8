"""The closed-form equivalents of torch's schedulers give torch's learning rates.

Compared over at least 3x each schedule's period (``one_cycle`` over its whole cycle: torch raises past it), on two
groups with different learning rates, within 1e-10 relative: torch's chainable forms multiply the previous learning
rate by a ratio at every step, so rounding accumulates by about an ulp per step (under 1e-12 relative over these
lengths), while hf_lr evaluates the closed form at each step.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
from conftest import make_optimizer, trajectory
from torch.optim import lr_scheduler as torch_sched

import hf_lr

LRS = (0.1, 0.05)

CASES: list[tuple[str, dict[str, Any], Callable[..., Any], dict[str, Any], int]] = [
    ("exponential", {"gamma": 0.97}, torch_sched.ExponentialLR, {"gamma": 0.97}, 300),
    ("exponential", {"gamma": 1.0}, torch_sched.ExponentialLR, {"gamma": 1.0}, 30),
    ("step", {"step_size": 7, "gamma": 0.5}, torch_sched.StepLR, {"step_size": 7, "gamma": 0.5}, 70),
    ("step", {"step_size": 1}, torch_sched.StepLR, {"step_size": 1}, 20),
    ("multistep", {"milestones": [5, 12, 12, 30]}, torch_sched.MultiStepLR, {"milestones": [5, 12, 12, 30]}, 100),
    (
        "multistep",
        {"milestones": [0, 3], "gamma": 0.7},
        torch_sched.MultiStepLR,
        {"milestones": [0, 3], "gamma": 0.7},
        20,
    ),
    ("cosine_annealing", {"T_max": 20}, torch_sched.CosineAnnealingLR, {"T_max": 20}, 80),
    (
        "cosine_annealing",
        {"T_max": 7, "eta_min": 1e-3},
        torch_sched.CosineAnnealingLR,
        {"T_max": 7, "eta_min": 1e-3},
        40,
    ),
    ("cosine_annealing", {"T_max": 1}, torch_sched.CosineAnnealingLR, {"T_max": 1}, 10),
    ("cosine_annealing_warm_restarts", {"T_0": 10}, torch_sched.CosineAnnealingWarmRestarts, {"T_0": 10}, 40),
    (
        "cosine_annealing_warm_restarts",
        {"T_0": 3, "T_mult": 2, "eta_min": 1e-3},
        torch_sched.CosineAnnealingWarmRestarts,
        {"T_0": 3, "T_mult": 2, "eta_min": 1e-3},
        100,
    ),
    (
        "cosine_annealing_warm_restarts",
        {"T_0": 1, "T_mult": 3},
        torch_sched.CosineAnnealingWarmRestarts,
        {"T_0": 1, "T_mult": 3},
        130,
    ),
    (
        "one_cycle",
        {"total_steps": 100, "max_lr": 0.05},
        torch_sched.OneCycleLR,
        {"total_steps": 100, "max_lr": 0.05},
        100,
    ),
    (
        "one_cycle",
        {
            "total_steps": 37,
            "max_lr": 0.2,
            "pct_start": 0.4,
            "anneal_strategy": "linear",
            "div_factor": 10.0,
            "final_div_factor": 100.0,
        },
        torch_sched.OneCycleLR,
        {
            "total_steps": 37,
            "max_lr": 0.2,
            "pct_start": 0.4,
            "anneal_strategy": "linear",
            "div_factor": 10.0,
            "final_div_factor": 100.0,
        },
        37,
    ),
    (
        "one_cycle",
        {"total_steps": 50, "max_lr": 0.1, "three_phase": True},
        torch_sched.OneCycleLR,
        {"total_steps": 50, "max_lr": 0.1, "three_phase": True},
        50,
    ),
    (
        "one_cycle",
        {"epochs": 4, "steps_per_epoch": 10, "max_lr": 0.1},
        torch_sched.OneCycleLR,
        {"epochs": 4, "steps_per_epoch": 10, "max_lr": 0.1},
        40,
    ),
    (
        "cyclic",
        {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5},
        torch_sched.CyclicLR,
        {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5},
        60,
    ),
    (
        "cyclic",
        {"base_lr": 0.001, "max_lr": 0.05, "step_size_up": 3, "step_size_down": 7, "mode": "triangular2"},
        torch_sched.CyclicLR,
        {"base_lr": 0.001, "max_lr": 0.05, "step_size_up": 3, "step_size_down": 7, "mode": "triangular2"},
        60,
    ),
    (
        "cyclic",
        {"base_lr": 0.001, "max_lr": 0.05, "step_size_up": 4, "mode": "exp_range", "gamma": 0.97},
        torch_sched.CyclicLR,
        {"base_lr": 0.001, "max_lr": 0.05, "step_size_up": 4, "mode": "exp_range", "gamma": 0.97},
        60,
    ),
    (
        "polynomial_lr",
        {"total_iters": 12, "power": 2.0},
        torch_sched.PolynomialLR,
        {"total_iters": 12, "power": 2.0},
        40,
    ),
    ("polynomial_lr", {}, torch_sched.PolynomialLR, {}, 20),
    (
        "linear_lr",
        {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 8},
        torch_sched.LinearLR,
        {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 8},
        30,
    ),
    (
        "linear_lr",
        {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 10},
        torch_sched.LinearLR,
        {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 10},
        30,
    ),
    ("linear_lr", {}, torch_sched.LinearLR, {}, 20),
    ("constant_lr", {"factor": 0.5, "total_iters": 4}, torch_sched.ConstantLR, {"factor": 0.5, "total_iters": 4}, 20),
    ("constant_lr", {}, torch_sched.ConstantLR, {}, 20),
]


def _close(ours: list[tuple[float, ...]], theirs: list[tuple[float, ...]]) -> None:
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a == pytest.approx(b, rel=1e-10, abs=1e-300), f"step {step}: {a} != {b}"


@pytest.mark.parametrize(
    ("name", "kwargs", "torch_class", "torch_kwargs", "steps"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_trajectory_equals_torch(
    name: str, kwargs: dict[str, Any], torch_class: Any, torch_kwargs: dict[str, Any], steps: int
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = trajectory(lambda o: torch_class(o, **torch_kwargs), steps, LRS, train=False)
    ours = trajectory(
        lambda o: hf_lr.get_scheduler(name, o, scheduler_specific_kwargs=dict(kwargs)), steps, LRS, train=False
    )
    _close(ours, theirs)


def test_every_torch_equivalent_name_is_compared() -> None:
    torch_names = {
        "exponential", "step", "multistep", "cosine_annealing", "cosine_annealing_warm_restarts", "one_cycle", "cyclic",
        "polynomial_lr", "linear_lr", "constant_lr",
    }  # fmt: skip
    assert torch_names <= set(hf_lr.list_schedules())
    assert torch_names == {case[0] for case in CASES}


@pytest.mark.parametrize("start_factor", [0.1, 0.5])
def test_warmup_then_cosine_annealing_equals_torch_sequential_lr(start_factor: float) -> None:
    """What plain-torch users build with SequentialLR(LinearLR, CosineAnnealingLR): the same learning rates."""
    w, t_max, steps = 10, 30, 100

    def sequential(optimizer: torch.optim.Optimizer) -> Any:
        ramp = torch_sched.LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=w)
        cosine = torch_sched.CosineAnnealingLR(optimizer, T_max=t_max, eta_min=1e-3)
        return torch_sched.SequentialLR(optimizer, [ramp, cosine], milestones=[w])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = trajectory(sequential, steps, LRS, train=False)
    ours = trajectory(
        lambda o: hf_lr.get_scheduler(
            "cosine_annealing",
            o,
            w,
            scheduler_specific_kwargs={"T_max": t_max, "eta_min": 1e-3, "warmup_start_factor": start_factor},
        ),
        steps,
        LRS,
        train=False,
    )
    _close(ours, theirs)


def test_sequential_lr_resumed_through_last_epoch_is_wrong_and_hf_lr_is_exact() -> None:
    """SequentialLR cannot be resumed through last_epoch; the hf_lr composite can, at any step, in O(1)."""
    w, t_max, resume_at = 10, 200, 150

    def sequential(optimizer: torch.optim.Optimizer, last_epoch: int = -1) -> Any:
        ramp = torch_sched.LinearLR(optimizer, start_factor=0.1, total_iters=w, last_epoch=last_epoch)
        cosine = torch_sched.CosineAnnealingLR(optimizer, T_max=t_max, last_epoch=last_epoch)
        return torch_sched.SequentialLR(optimizer, [ramp, cosine], milestones=[w], last_epoch=last_epoch)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        uninterrupted = trajectory(sequential, resume_at + 1, (0.1,), train=False)[resume_at][0]
        optimizer = make_optimizer((0.1,))
        for group in optimizer.param_groups:
            group["initial_lr"] = 0.1
        resumed_torch = sequential(optimizer, last_epoch=resume_at - 1).get_last_lr()[0]
    assert resumed_torch != pytest.approx(uninterrupted, rel=1e-3)  # torch's documented failure mode

    make = lambda o, **r: hf_lr.get_scheduler(
        "cosine_annealing", o, w, scheduler_specific_kwargs={"T_max": t_max, "warmup_start_factor": 0.1}, **r
    )
    ours_uninterrupted = trajectory(make, resume_at + 1, (0.1,), train=False)[resume_at][0]
    ours_resumed = make(make_optimizer((0.1,)), completed_steps=resume_at).get_last_lr()[0]
    assert ours_resumed == ours_uninterrupted
    assert ours_resumed == pytest.approx(uninterrupted, rel=1e-12)


def test_composite_resumed_at_a_million_equals_the_closed_form() -> None:
    schedule = hf_lr.warmup(hf_lr.equivalents.CosineAnnealing(T_max=300_000, eta_min=1e-4), 1000, warmup_type="cosine")
    optimizer = make_optimizer((0.1,))
    scheduler = hf_lr.ScheduleLR(optimizer, schedule, completed_steps=10**6)
    expected = 1e-4 + (0.1 - 1e-4) * (1 + __import__("math").cos(__import__("math").pi * (10**6 - 1000) / 300_000)) / 2
    assert scheduler.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)
    assert scheduler.state_dict()["hf_lr"]["schedules"][0]["schedule"]["type"] == "CosineAnnealing"
