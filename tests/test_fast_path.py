"""ScheduleLR's fast path (one evaluation per distinct bound schedule per step) gives exactly the per-group lrs.

The reference is the definition, computed group by group with no sharing:
``initial_lr * schedule.bind(initial_lr, reference_lr)(k)``, where the reference lr is the optimizer's ``lr`` (1.0).
"""

from __future__ import annotations

import warnings

import pytest
import torch
from registry_helpers import EXAMPLES, FIRST_EXAMPLES, example_id, horizon

import hf_lr

# Many groups, repeated and distinct learning rates, float and tensor lrs mixed (all above the examples' floors).
MANY_LRS = [0.1, 0.05, 0.1, 0.2, 0.07] * 20


def make_optimizer(lrs: list[float], tensor_every: int = 0) -> torch.optim.Optimizer:
    groups = []
    for index, lr in enumerate(lrs):
        value = torch.tensor(lr, dtype=torch.float64) if tensor_every and index % tensor_every == 0 else lr
        groups.append({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": value})
    return torch.optim.SGD(groups, lr=REFERENCE_LR)


def build(name: str, w: int | None, t: int | None, kwargs: dict) -> hf_lr.Schedule:
    return hf_lr.build_schedule(name, w, t, **kwargs)


REFERENCE_LR = 1.0  # make_optimizer's SGD(..., lr=1.0)


def reference(schedules: list[hf_lr.Schedule], lrs: list[float], step: int) -> list[float]:
    return [lr * schedule.bind(lr, REFERENCE_LR)(step) for schedule, lr in zip(schedules, lrs)]


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), EXAMPLES, ids=example_id)
@pytest.mark.parametrize("num_groups", [1, 3, 100])
def test_shared_schedule_matches_per_group_definition(
    name: str, w: int | None, t: int | None, kwargs: dict, num_groups: int
) -> None:
    lrs = MANY_LRS[:num_groups]
    optimizer = make_optimizer(lrs, tensor_every=3)
    schedule = build(name, w, t, kwargs)
    scheduler = hf_lr.ScheduleLR(optimizer, schedule)
    for step in range(horizon(w, t, kwargs)):
        expected = reference([schedule] * num_groups, lrs, step)
        assert scheduler.get_last_lr() == expected, f"step {step}"
        assert [float(group["lr"]) for group in optimizer.param_groups] == expected, f"step {step}"
        optimizer.step()
        scheduler.step()


def test_distinct_schedules_per_group_match_per_group_definition() -> None:
    schedules = [build(*example) for example in FIRST_EXAMPLES]
    lrs = [MANY_LRS[i % len(MANY_LRS)] for i in range(len(schedules))] * 2
    schedules = schedules * 2
    optimizer = make_optimizer(lrs, tensor_every=2)
    scheduler = hf_lr.ScheduleLR(optimizer, schedules)
    assert len(scheduler._plan) < len(schedules)  # repeated (schedule, lr) pairs share an evaluation
    for step in range(70):
        expected = reference(schedules, lrs, step)
        assert scheduler.get_last_lr() == expected, f"step {step}"
        assert [float(group["lr"]) for group in optimizer.param_groups] == expected, f"step {step}"
        optimizer.step()
        scheduler.step()


def test_invalid_multiplier_in_any_group_still_raises() -> None:
    def negative_after_two(step: int) -> float:
        return 1.0 if step < 2 else -0.5

    for schedules in (negative_after_two, [hf_lr.schedules.Constant(), negative_after_two]):
        optimizer = make_optimizer([1e-3, 2e-3])
        scheduler = hf_lr.ScheduleLR(optimizer, schedules)
        optimizer.step()
        scheduler.step()
        with pytest.raises(ValueError, match="returned -0.5 at step 2"):
            scheduler.step()


def test_step_count_epoch_argument_and_order_warning_are_torchs() -> None:
    optimizer = make_optimizer([1e-3, 3e-4])
    scheduler = hf_lr.get_scheduler("linear", optimizer, num_warmup_steps=2, num_training_steps=10)
    assert scheduler._step_count == 1 and scheduler.last_epoch == 0
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()
    assert scheduler._step_count == 2 and scheduler.last_epoch == 1
    with pytest.warns(UserWarning):  # torch's deprecation of step(epoch)
        scheduler.step(7)
    assert scheduler.last_epoch == 7
    assert scheduler.get_last_lr() == [1e-3 * (10 - 7) / 8, 3e-4 * (10 - 7) / 8]
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()
    assert isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
