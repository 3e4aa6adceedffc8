"""An interrupted-and-resumed run reproduces the uninterrupted one bit for bit, for every closed-form name.

Routes: torch's ``last_epoch = k - 1`` with the optimizer's ``initial_lr``; hf_lr's ``completed_steps = k``; and the
scheduler's ``state_dict`` saved with ``torch.save`` and loaded with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import group_lrs, make_optimizer, scheduler_for, train_step
from registry_cases import example_id, examples

import hf_lr

LRS = (0.1, 0.05)  # two groups with different learning rates
ROUTES = ["last_epoch", "completed_steps", "state_dict"]


def _length(t: int | None) -> int:
    return 2 * (t or 15) + 6


def _run(make: Any, num_steps: int) -> tuple[list[tuple[float, ...]], list[torch.Tensor]]:
    optimizer = make_optimizer(LRS)
    scheduler = make(optimizer)
    lrs = []
    for step in range(num_steps):
        lrs.append(group_lrs(optimizer))
        train_step(optimizer, step)
        scheduler.step()
    return lrs, [p.detach().clone() for g in optimizer.param_groups for p in g["params"]]


def _interrupted(
    make: Any, num_steps: int, stop: int, route: str, tmp_path: Path
) -> tuple[list[tuple[float, ...]], list[torch.Tensor]]:
    optimizer = make_optimizer(LRS)
    scheduler = make(optimizer)
    lrs = []
    for step in range(stop):
        lrs.append(group_lrs(optimizer))
        train_step(optimizer, step)
        scheduler.step()
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save(
        {
            "params": [p.detach().clone() for g in optimizer.param_groups for p in g["params"]],
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        },
        checkpoint,
    )
    del optimizer, scheduler

    saved = torch.load(checkpoint, weights_only=True)
    optimizer = make_optimizer(LRS, seed=1)  # other initial values: everything must come from the checkpoint
    with torch.no_grad():
        for param, value in zip((p for g in optimizer.param_groups for p in g["params"]), saved["params"]):
            param.copy_(value)
    if route == "state_dict":
        scheduler = make(optimizer)  # built on the fresh optimizer, then both states are loaded
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
    else:
        optimizer.load_state_dict(saved["optimizer"])  # carries each group's initial_lr
        resume = {"last_epoch": stop - 1} if route == "last_epoch" else {"completed_steps": stop}
        scheduler = make(optimizer, **resume)
    assert scheduler.last_epoch == stop
    for step in range(stop, num_steps):
        lrs.append(group_lrs(optimizer))
        train_step(optimizer, step)
        scheduler.step()
    return lrs, [p.detach().clone() for g in optimizer.param_groups for p in g["params"]]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("name", "w", "t", "kwargs"), examples(), ids=example_id)
def test_resume_reproduces_the_uninterrupted_run(
    name: str, w: int | None, t: int | None, kwargs: dict[str, Any], route: str, tmp_path: Path
) -> None:
    make = scheduler_for(name, w, t, kwargs)
    num_steps = _length(t)
    expected_lrs, expected_params = _run(make, num_steps)
    for stop in (1, (t or 15) // 2 + 1, num_steps - 1):
        lrs, params = _interrupted(make, num_steps, stop, route, tmp_path)
        assert lrs == expected_lrs, f"stopped at {stop}"
        assert all(torch.equal(a, b) for a, b in zip(params, expected_params)), f"stopped at {stop}"


def test_completed_steps_is_last_epoch_plus_one() -> None:
    def lrs(**resume: Any) -> list[float]:
        optimizer = make_optimizer()
        for group in optimizer.param_groups:
            group["initial_lr"] = 0.1
        scheduler = hf_lr.get_linear_schedule_with_warmup(optimizer, 2, 10, **resume)
        return [
            lr
            for _ in range(3)
            for lr in (scheduler.get_last_lr()[0], optimizer.step(), scheduler.step())
            if lr is not None
        ]

    assert lrs(completed_steps=4) == lrs(last_epoch=3)
    assert lrs(completed_steps=4) == pytest.approx([0.075, 0.0625, 0.05])


def test_passing_the_saved_last_epoch_is_one_update_ahead() -> None:
    """The classic mistake, kept for drop-in compatibility and documented: ``last_epoch=k`` resumes at update k+1."""
    optimizer = make_optimizer()
    optimizer.param_groups[0]["initial_lr"] = 0.1
    ahead = hf_lr.get_linear_schedule_with_warmup(optimizer, 0, 10, last_epoch=4)
    assert ahead.last_epoch == 5
    assert ahead.get_last_lr() == [pytest.approx(0.05)]  # the lr of update 5, not update 4 (0.06)


def test_completed_steps_on_a_fresh_optimizer_takes_its_lr_as_base() -> None:
    optimizer = make_optimizer((0.1, 0.2))
    scheduler = hf_lr.get_cosine_schedule_with_warmup(optimizer, 0, 10, completed_steps=5)
    assert scheduler.base_lrs == [0.1, 0.2]
    assert scheduler.get_last_lr() == [pytest.approx(0.05), pytest.approx(0.1)]


def test_base_lrs_repairs_missing_initial_lr_for_last_epoch() -> None:
    optimizer = make_optimizer((0.1, 0.2))
    scheduler = hf_lr.ScheduleLR(optimizer, hf_lr.schedules.LinearWithWarmup(0, 10), last_epoch=4, base_lrs=[1.0, 2.0])
    assert scheduler.get_last_lr() == [pytest.approx(0.5), pytest.approx(1.0)]


def test_resume_at_a_huge_step_is_closed_form() -> None:
    optimizer = make_optimizer()
    scheduler = hf_lr.get_inverse_sqrt_schedule(optimizer, num_warmup_steps=100, completed_steps=10**9)
    assert scheduler.get_last_lr()[0] == pytest.approx(0.1 / (10**9 / 100) ** 0.5, rel=1e-12)
