"""``hf_lr.lr_curve`` against stepping the scheduler, for every registered closed-form name."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from registry_helpers import EXAMPLES, GROUP_LRS, example_id, horizon, make_scheduler

import hf_lr

# lr_curve uses numpy's vector math, the scheduler uses `math`; they may round differently by a few units in the last
# place. Relative 1e-12 covers that; the absolute term covers the cancellation in `1 + cos(x)` near its zeros, where
# one ulp of cos(x) (~1e-16 of the peak multiplier) is a large relative error of a tiny value.
RTOL = 1e-12
ATOL_PER_PEAK_LR = 1e-15


def assert_same_lrs(curve: np.ndarray, stepped: np.ndarray, peak_lr: float) -> None:
    assert curve.dtype == np.float64
    assert curve.shape == stepped.shape
    np.testing.assert_allclose(curve, stepped, rtol=RTOL, atol=ATOL_PER_PEAK_LR * peak_lr)


def make_optimizer(lrs: tuple[float, ...]) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


def stepped_lrs(scheduler: hf_lr.ScheduleLR, num_steps: int) -> np.ndarray:
    """The learning rate of each group at updates 0..num_steps-1, read from the optimizer while stepping."""
    rows = []
    for _ in range(num_steps):
        rows.append([float(group["lr"]) for group in scheduler.optimizer.param_groups])
        assert rows[-1] == scheduler.get_last_lr()
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(rows, dtype=np.float64).reshape(num_steps, len(scheduler.optimizer.param_groups))


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), EXAMPLES, ids=example_id)
class TestMatchesStepping:
    def test_name_one_group(self, name: str, w: int | None, t: int | None, kwargs: dict) -> None:
        num_steps = horizon(w, t, kwargs)
        base_lr = 0.07
        stepped = stepped_lrs(make_scheduler(name, make_optimizer((base_lr,)), w, t, kwargs), num_steps)[:, 0]
        curve = hf_lr.lr_curve(
            name, num_steps, base_lr=base_lr, num_warmup_steps=w, num_training_steps=t, scheduler_specific_kwargs=kwargs
        )
        assert_same_lrs(curve, stepped, base_lr)
        if not {"base_lr", "num_steps"} & set(kwargs):  # the same parameters as keywords
            keywords = hf_lr.lr_curve(
                name, num_steps, base_lr=base_lr, num_warmup_steps=w, num_training_steps=t, **kwargs
            )
            np.testing.assert_array_equal(keywords, curve)

    def test_scheduler_several_groups(self, name: str, w: int | None, t: int | None, kwargs: dict) -> None:
        num_steps = horizon(w, t, kwargs)
        scheduler = make_scheduler(name, make_optimizer(GROUP_LRS), w, t, kwargs)
        curve = hf_lr.lr_curve(scheduler, num_steps)
        stepped = stepped_lrs(scheduler, num_steps)
        assert curve.shape == (num_steps, len(GROUP_LRS))
        assert_same_lrs(curve, stepped, max(GROUP_LRS))

    def test_scheduler_one_group_is_one_dimensional(
        self, name: str, w: int | None, t: int | None, kwargs: dict
    ) -> None:
        num_steps = horizon(w, t, kwargs)
        scheduler = make_scheduler(name, make_optimizer((0.05,)), w, t, kwargs)
        curve = hf_lr.lr_curve(scheduler, num_steps)
        assert curve.shape == (num_steps,)
        assert_same_lrs(curve, stepped_lrs(scheduler, num_steps)[:, 0], 0.05)

    def test_schedule_object(self, name: str, w: int | None, t: int | None, kwargs: dict) -> None:
        num_steps = horizon(w, t, kwargs)
        schedule = hf_lr.build_schedule(name, w, t, **kwargs)
        curve = hf_lr.lr_curve(schedule, num_steps, base_lr=0.2)
        stepped = stepped_lrs(hf_lr.ScheduleLR(make_optimizer((0.2,)), schedule), num_steps)[:, 0]
        assert_same_lrs(curve, stepped, 0.2)

    def test_starts_at_zero_and_leaves_the_scheduler_alone(
        self, name: str, w: int | None, t: int | None, kwargs: dict
    ) -> None:
        num_steps = horizon(w, t, kwargs)
        fresh = hf_lr.lr_curve(make_scheduler(name, make_optimizer(GROUP_LRS), w, t, kwargs), num_steps)
        scheduler = make_scheduler(name, make_optimizer(GROUP_LRS), w, t, kwargs)
        stepped_lrs(scheduler, 17)
        before = (scheduler.last_epoch, scheduler._step_count, scheduler.get_last_lr(), scheduler.state_dict())
        lrs_before = [group["lr"] for group in scheduler.optimizer.param_groups]
        np.testing.assert_array_equal(hf_lr.lr_curve(scheduler, num_steps), fresh)
        assert (scheduler.last_epoch, scheduler._step_count, scheduler.get_last_lr(), scheduler.state_dict()) == before
        assert [group["lr"] for group in scheduler.optimizer.param_groups] == lrs_before

    def test_resumed_scheduler_gives_the_whole_curve(
        self, name: str, w: int | None, t: int | None, kwargs: dict
    ) -> None:
        num_steps = horizon(w, t, kwargs)
        fresh = hf_lr.lr_curve(make_scheduler(name, make_optimizer(GROUP_LRS), w, t, kwargs), num_steps)
        optimizer = make_optimizer(GROUP_LRS)
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"]
        resumed = hf_lr.get_scheduler(name, optimizer, w, t, dict(kwargs), completed_steps=10**9)
        np.testing.assert_array_equal(hf_lr.lr_curve(resumed, num_steps), fresh)


def test_non_closed_form_names_are_refused() -> None:
    refused = [name for name in hf_lr.list_schedules() if not hf_lr.get_schedule_entry(name).closed_form]
    assert "reduce_lr_on_plateau" in refused
    for name in refused:
        with pytest.raises(ValueError, match=f"name_or_scheduler_or_schedule.*{name}"):
            hf_lr.lr_curve(name, 10)


def test_docstring_example_values() -> None:
    curve = hf_lr.lr_curve("linear", 6, base_lr=0.1, num_warmup_steps=2, num_training_steps=4)
    # step/W for step < W, then (T - step) / (T - W), floored at 0, times the base learning rate.
    expected = [0.1 * 0 / 2, 0.1 * 1 / 2, 0.1 * 2 / 2, 0.1 * 1 / 2, 0.0, 0.0]
    np.testing.assert_allclose(curve, expected, rtol=1e-15)


def test_enum_name_and_zero_steps() -> None:
    import transformers

    curve = hf_lr.lr_curve(transformers.SchedulerType.COSINE, 50, num_warmup_steps=5, num_training_steps=40)
    np.testing.assert_array_equal(curve, hf_lr.lr_curve("cosine", 50, num_warmup_steps=5, num_training_steps=40))
    assert hf_lr.lr_curve("constant", 0).shape == (0,)


def test_large_step_counts_need_no_stepping() -> None:
    schedule = hf_lr.schedules.LinearWithWarmup(num_warmup_steps=10, num_training_steps=10**6)
    curve = hf_lr.lr_curve(schedule, 10**6, base_lr=1e-3)
    assert curve.shape == (10**6,)
    for step in (0, 5, 10, 123_456, 999_999):
        assert curve[step] == 1e-3 * schedule(step)


def _negative_multiplier(step: int) -> float:
    return 1.0 if step < 3 else -1.0


class _Invalid:
    """A picklable multiplier that is valid until `at`, then returns `value`."""

    def __init__(self, at: int, value: float) -> None:
        self.at, self.value = at, value

    def __call__(self, step: int) -> float:
        return 0.5 if step < self.at else self.value


class TestErrors:
    def test_non_closed_form_name(self) -> None:
        with pytest.raises(ValueError, match="name_or_scheduler_or_schedule.*reduce_lr_on_plateau"):
            hf_lr.lr_curve("reduce_lr_on_plateau", 10)

    def test_unknown_name_lists_close_matches(self) -> None:
        with pytest.raises(ValueError, match="unknown schedule name 'cosin'.*'cosine'"):
            hf_lr.lr_curve("cosin", 10)

    @pytest.mark.parametrize("target", [3, None, _negative_multiplier, torch.optim.SGD])
    def test_wrong_type(self, target: object) -> None:
        with pytest.raises(TypeError, match="name_or_scheduler_or_schedule"):
            hf_lr.lr_curve(target, 10)  # type: ignore[arg-type]

    def test_plateau_scheduler_object(self) -> None:
        plateau = hf_lr.get_scheduler("reduce_lr_on_plateau", make_optimizer((1e-3,)))
        with pytest.raises(TypeError, match="ReduceLROnPlateau"):
            hf_lr.lr_curve(plateau, 10)  # type: ignore[arg-type]

    @pytest.mark.parametrize(("num_steps", "error"), [(-1, ValueError), (2.5, TypeError), (True, TypeError)])
    def test_bad_num_steps(self, num_steps: object, error: type) -> None:
        with pytest.raises(error, match="num_steps"):
            hf_lr.lr_curve("constant", num_steps)  # type: ignore[arg-type]

    @pytest.mark.parametrize(("base_lr", "error"), [(-1e-3, ValueError), (float("nan"), ValueError), ("1", TypeError)])
    def test_bad_base_lr(self, base_lr: object, error: type) -> None:
        with pytest.raises(error, match="base_lr"):
            hf_lr.lr_curve("constant", 5, base_lr=base_lr)  # type: ignore[arg-type]

    def test_base_lr_with_a_scheduler(self) -> None:
        scheduler = make_scheduler("linear", make_optimizer((1e-3,)), 2, 10, {})
        with pytest.raises(TypeError, match="base_lr"):
            hf_lr.lr_curve(scheduler, 5, base_lr=0.5)

    @pytest.mark.parametrize("extra", [{"num_warmup_steps": 2}, {"num_training_steps": 9}, {"num_cycles": 1.0}])
    def test_name_arguments_with_a_configured_target(self, extra: dict) -> None:
        schedule = hf_lr.schedules.CosineWithWarmup(num_warmup_steps=1, num_training_steps=9)
        with pytest.raises(TypeError, match=f"`{next(iter(extra))}` only apply to a schedule name"):
            hf_lr.lr_curve(schedule, 5, **extra)
        with pytest.raises(TypeError, match=f"`{next(iter(extra))}` only apply to a schedule name"):
            hf_lr.lr_curve(hf_lr.ScheduleLR(make_optimizer((1e-3,)), schedule), 5, **extra)

    def test_schedule_parameter_given_twice(self) -> None:
        with pytest.raises(TypeError, match="'num_cycles' given both"):
            hf_lr.lr_curve("cosine", 5, num_warmup_steps=1, num_training_steps=5, num_cycles=1.0,
                           scheduler_specific_kwargs={"num_cycles": 2.0})  # fmt: skip
        with pytest.raises(TypeError, match="scheduler_specific_kwargs"):
            hf_lr.lr_curve("cosine", 5, num_warmup_steps=1, num_training_steps=5, scheduler_specific_kwargs=[1])

    def test_missing_and_unknown_schedule_arguments(self) -> None:
        with pytest.raises(ValueError, match="num_training_steps"):
            hf_lr.lr_curve("linear", 5, num_warmup_steps=1)
        with pytest.raises(TypeError, match="'num_cycle'"):
            hf_lr.lr_curve("cosine", 5, num_warmup_steps=1, num_training_steps=5, num_cycle=1)

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), -1e-300])
    def test_invalid_multiplier_anywhere(self, value: float) -> None:
        with pytest.raises(ValueError, match=f"returned {value} at step 7"):
            hf_lr.lr_curve(hf_lr.schedules.LambdaSchedule(_Invalid(7, value)), 10)
        optimizer = make_optimizer((1e-3, 2e-3))
        scheduler = hf_lr.ScheduleLR(
            optimizer, [hf_lr.schedules.Constant(), hf_lr.schedules.LambdaSchedule(_Invalid(7, value))]
        )
        with pytest.raises(ValueError, match=f"returned {value} at step 7"):
            hf_lr.lr_curve(scheduler, 10)
        assert hf_lr.lr_curve(scheduler, 7).shape == (7, 2)

    def test_invalid_multiplier_raises_like_the_scheduler(self) -> None:
        with pytest.raises(ValueError, match="returned -1.0 at step 3"):
            hf_lr.lr_curve(hf_lr.schedules.LambdaSchedule(_negative_multiplier), 10)
        scheduler = hf_lr.ScheduleLR(make_optimizer((1e-3,)), _negative_multiplier)
        with pytest.raises(ValueError, match="returned -1.0 at step 3"):
            stepped_lrs(scheduler, 10)


DENSE_CASES = [
    hf_lr.schedules.CosineWithHardRestarts(num_warmup_steps=0, num_training_steps=1, num_cycles=1),
    hf_lr.schedules.CosineWithHardRestarts(num_warmup_steps=0, num_training_steps=977, num_cycles=2.7),
    hf_lr.schedules.CosineWithHardRestarts(num_warmup_steps=13, num_training_steps=500, num_cycles=0.3),
    hf_lr.schedules.CosineWithHardRestarts(num_warmup_steps=40, num_training_steps=40, num_cycles=5),
    hf_lr.schedules.CosineWithHardRestarts(num_warmup_steps=3, num_training_steps=1000, num_cycles=1e-3),
    *[
        hf_lr.schedules.WarmupStableDecay(w, s, d, warmup_type=wt, decay_type=dt, min_lr_ratio=r, num_cycles=c)
        for (w, s, d) in [(0, 0, 0), (0, 0, 17), (7, 0, 13), (7, 5, 0), (50, 100, 333), (1, 1, 1)]
        for wt in ("linear", "cosine", "1-sqrt")
        for dt in ("linear", "cosine", "1-sqrt")
        for r, c in [(0.0, 0.5), (0.1, 0.5), (1.0, 1.5)]
    ],
]


@pytest.mark.parametrize("schedule", DENSE_CASES, ids=repr)
def test_vectorized_form_equals_scalar_form_on_dense_grids(schedule: hf_lr.Schedule) -> None:
    """The vectorized formulas lr_curve relies on equal the scalar ones (what the scheduler uses), past the end too."""
    end = 3 * max(schedule.boundaries() + (10,))
    steps = np.arange(end)
    scalar = np.array([schedule(int(step)) for step in steps])
    np.testing.assert_allclose(hf_lr.lr_curve(schedule, end), scalar, rtol=RTOL, atol=ATOL_PER_PEAK_LR)
