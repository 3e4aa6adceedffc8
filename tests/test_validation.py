"""Bad input raises ValueError/TypeError naming the argument, the rule and the value; no NaN, inf or negative lr."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from conftest import make_optimizer

import hf_lr

opt = make_optimizer

BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    (
        "negative warmup",
        lambda: hf_lr.get_linear_schedule_with_warmup(opt(), -1, 10),
        ValueError,
        r"`num_warmup_steps` must be >= 0, got num_warmup_steps=-1",
    ),
    (
        "fractional warmup",
        lambda: hf_lr.get_linear_schedule_with_warmup(opt(), 2.5, 10),
        TypeError,
        r"`num_warmup_steps` must be an integer, got 2\.5 \(float\)",
    ),
    (
        "bool steps",
        lambda: hf_lr.get_linear_schedule_with_warmup(opt(), True, 10),
        TypeError,
        r"`num_warmup_steps` must be an integer, got True",
    ),
    (
        "string steps",
        lambda: hf_lr.get_linear_schedule_with_warmup(opt(), 0, "10"),
        TypeError,
        r"`num_training_steps` must be an integer, got '10'",
    ),
    (
        "zero training",
        lambda: hf_lr.get_linear_schedule_with_warmup(opt(), 0, 0),
        ValueError,
        r"`num_training_steps` must be >= 1, got num_training_steps=0",
    ),
    (
        "warmup > total",
        lambda: hf_lr.get_cosine_schedule_with_warmup(opt(), 11, 10),
        ValueError,
        r"`num_warmup_steps` must be <= `num_training_steps`, got num_warmup_steps=11, num_training_steps=10",
    ),
    (
        "nan cycles",
        lambda: hf_lr.get_cosine_schedule_with_warmup(opt(), 0, 10, num_cycles=float("nan")),
        ValueError,
        r"`num_cycles` must be finite, got num_cycles=nan",
    ),
    (
        "inf cycles",
        lambda: hf_lr.get_cosine_schedule_with_warmup(opt(), 0, 10, num_cycles=math.inf),
        ValueError,
        r"`num_cycles` must be finite",
    ),
    (
        "negative cycles",
        lambda: hf_lr.get_cosine_schedule_with_warmup(opt(), 0, 10, num_cycles=-1),
        ValueError,
        r"`num_cycles` must be >= 0\.0, got num_cycles=-1\.0",
    ),
    (
        "zero restarts",
        lambda: hf_lr.get_cosine_with_hard_restarts_schedule_with_warmup(opt(), 0, 10, num_cycles=0),
        ValueError,
        r"`num_cycles` must be > 0\.0, got num_cycles=0\.0",
    ),
    (
        "string cycles",
        lambda: hf_lr.get_cosine_schedule_with_warmup(opt(), 0, 10, num_cycles="2"),
        TypeError,
        r"`num_cycles` must be a real number, got '2' \(str\)",
    ),
    (
        "lr_end above lr",
        lambda: hf_lr.get_polynomial_decay_schedule_with_warmup(opt((0.1,)), 0, 10, lr_end=0.2),
        ValueError,
        r"param_groups\[0\]: `lr_end` must be smaller than the optimizer's learning rate it decays from, "
        r"got lr_end=0\.2, lr=0\.1",
    ),
    (
        "lr_end equal lr",
        lambda: hf_lr.get_polynomial_decay_schedule_with_warmup(opt((0.1,)), 0, 10, lr_end=0.1),
        ValueError,
        r"lr_end=0\.1, lr=0\.1",
    ),
    (
        "negative lr_end",
        lambda: hf_lr.get_polynomial_decay_schedule_with_warmup(opt(), 0, 10, lr_end=-1e-7),
        ValueError,
        r"`lr_end` must be >= 0\.0",
    ),
    (
        "zero power",
        lambda: hf_lr.get_polynomial_decay_schedule_with_warmup(opt(), 0, 10, power=0),
        ValueError,
        r"`power` must be > 0\.0, got power=0\.0",
    ),
    (
        "zero timescale",
        lambda: hf_lr.get_inverse_sqrt_schedule(opt(), 5, timescale=0),
        ValueError,
        r"`timescale` must be > 0, got timescale=0",
    ),
    (
        "nan timescale",
        lambda: hf_lr.get_inverse_sqrt_schedule(opt(), 5, timescale=float("nan")),
        ValueError,
        r"`timescale` must be finite",
    ),
    (
        "both min lrs",
        lambda: hf_lr.get_cosine_with_min_lr_schedule_with_warmup(opt(), 0, 10, min_lr=1e-3, min_lr_rate=0.1),
        ValueError,
        r"exactly one of `min_lr`.*min_lr=0\.001, min_lr_rate=0\.1",
    ),
    (
        "no min lr",
        lambda: hf_lr.get_cosine_with_min_lr_schedule_with_warmup(opt(), 0, 10),
        ValueError,
        r"exactly one of `min_lr`",
    ),
    (
        "min_lr_rate > 1",
        lambda: hf_lr.get_cosine_with_min_lr_schedule_with_warmup(opt(), 0, 10, min_lr_rate=1.5),
        ValueError,
        r"`min_lr_rate` must be <= 1\.0, got min_lr_rate=1\.5",
    ),
    (
        "min_lr above lr",
        lambda: hf_lr.get_cosine_with_min_lr_schedule_with_warmup(opt((0.1,)), 0, 10, min_lr=0.5),
        ValueError,
        r"param_groups\[0\]: `min_lr` must be <= the optimizer's learning rate \(the floor of a decay from it\), "
        r"got min_lr=0\.5, lr=0\.1",
    ),
    (
        "warmup_lr_rate",
        lambda: hf_lr.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
            opt(), 2, 10, min_lr_rate=0.1, warmup_lr_rate=-0.5
        ),
        ValueError,
        r"`warmup_lr_rate` must be >= 0\.0, got warmup_lr_rate=-0\.5",
    ),
    (
        "wsd shape",
        lambda: hf_lr.get_wsd_schedule(opt(), 2, 2, 10, warmup_type="exp"),
        ValueError,
        r"`warmup_type` must be one of 'linear', 'cosine', '1-sqrt'; got warmup_type='exp'",
    ),
    (
        "wsd too long",
        lambda: hf_lr.get_wsd_schedule(opt(), 6, 6, 10),
        ValueError,
        r"`num_warmup_steps \+ num_decay_steps` must be <= `num_training_steps`, "
        r"got num_warmup_steps=6, num_decay_steps=6, num_training_steps=10",
    ),
    (
        "wsd ratio",
        lambda: hf_lr.get_wsd_schedule(opt(), 2, 2, 10, min_lr_ratio=2),
        ValueError,
        r"`min_lr_ratio` must be <= 1\.0, got min_lr_ratio=2\.0",
    ),
    (
        "noam warmup 0",
        lambda: hf_lr.get_noam_schedule(opt(), 512, 0),
        ValueError,
        r"`num_warmup_steps` must be >= 1, got num_warmup_steps=0",
    ),
    (
        "noam no d_model",
        lambda: hf_lr.get_noam_schedule(opt(), None, 10),
        ValueError,
        r"mode='absolute' needs `d_model`.*got d_model=None",
    ),
    (
        "noam mode",
        lambda: hf_lr.get_noam_schedule(opt(), 512, 10, mode="max"),
        ValueError,
        r"`mode` must be one of 'absolute', 'peak', 'scale'; got mode='max'",
    ),
    (
        "noam factor",
        lambda: hf_lr.get_noam_schedule(opt(), 512, 10, factor=0),
        ValueError,
        r"`factor` must be > 0\.0, got factor=0\.0",
    ),
    (
        "noam zero lr",
        lambda: hf_lr.get_noam_schedule(opt((0.0,)), 512, 10),
        ValueError,
        r"param_groups\[0\]: Noam's mode='absolute' needs the optimizer's learning rate > 0, got lr=0\.0",
    ),
    (
        "nan lr",
        lambda: hf_lr.get_linear_schedule_with_warmup(opt((float("nan"),)), 0, 10),
        ValueError,
        r"learning rate of param_groups\[0\] must be finite and >= 0, got nan",
    ),
    (
        "negative lr",
        lambda: hf_lr.get_constant_schedule(opt((0.1, -0.1))),
        ValueError,
        r"learning rate of param_groups\[1\] must be finite and >= 0, got -0\.1",
    ),
    (
        "not an optimizer",
        lambda: hf_lr.get_constant_schedule(object()),
        TypeError,
        r"`optimizer` must be a torch\.optim\.Optimizer, got object",
    ),
    (
        "lambda not callable",
        lambda: hf_lr.get_lambda_schedule(opt(), 3),
        TypeError,
        r"`lr_lambda` must be callable, got 3 \(int\)",
    ),
    (
        "lambda count",
        lambda: hf_lr.get_lambda_schedule(opt((0.1, 0.2)), [abs]),
        ValueError,
        r"one entry per parameter group: expected 2, got 1",
    ),
    (
        "both resume args",
        lambda: hf_lr.get_constant_schedule(opt(), 3, completed_steps=4),
        ValueError,
        r"either `last_epoch`.*got last_epoch=3, completed_steps=4",
    ),
    (
        "negative completed",
        lambda: hf_lr.get_constant_schedule(opt(), completed_steps=-2),
        ValueError,
        r"`completed_steps` must be >= 0, got completed_steps=-2",
    ),
    (
        "last_epoch -2",
        lambda: hf_lr.get_constant_schedule(opt(), -2),
        ValueError,
        r"`last_epoch` must be >= -1, got last_epoch=-2",
    ),
    (
        "base_lrs fresh",
        lambda: hf_lr.ScheduleLR(opt(), hf_lr.schedules.Constant(), base_lrs=[0.1]),
        ValueError,
        r"`base_lrs` only repairs missing 'initial_lr'",
    ),
]


@pytest.mark.parametrize(("make", "error", "message"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_raises_a_clear_error(make: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("bad", [float("nan"), -0.5, math.inf], ids=["nan", "negative", "inf"])
def test_a_lambda_returning_a_bad_value_raises_at_that_step(bad: float) -> None:
    def lr_lambda(step: int) -> float:
        return 1.0 if step < 3 else bad

    optimizer = opt()
    scheduler = hf_lr.get_lambda_schedule(optimizer, lr_lambda)
    for _ in range(2):
        optimizer.step()
        scheduler.step()
    optimizer.step()
    with pytest.raises(
        ValueError,
        match=rf"LambdaSchedule returned {bad} at step 3; a learning-rate multiplier must be finite and >= 0",
    ):
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == 0.1  # the bad value was never written


def test_numpy_integers_are_accepted_as_step_counts() -> None:
    scheduler = hf_lr.get_linear_schedule_with_warmup(opt(), np.int64(2), np.int32(10))
    assert scheduler.schedule_configs()[0] == {
        "type": "LinearWithWarmup",
        "num_warmup_steps": 2,
        "num_training_steps": 10,
    }
    assert type(scheduler.schedule_configs()[0]["num_warmup_steps"]) is int


def test_tensor_lr_with_several_elements_is_rejected() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    optimizer.param_groups[0]["lr"] = torch.tensor([0.1, 0.2])
    with pytest.raises(TypeError, match=r"learning rate of param_groups\[0\] must be a number or a one-element tensor"):
        hf_lr.get_constant_schedule(optimizer)


def test_wsd_with_inconsistent_lengths_warns_like_transformers() -> None:
    with pytest.warns(UserWarning, match="differs from num_training_steps=100; num_stable_steps=5 is used"):
        hf_lr.get_wsd_schedule(opt(), 2, 2, num_training_steps=100, num_stable_steps=5)
