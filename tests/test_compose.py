"""Composition: warmup for any schedule, joins with local clocks, floors, cycles; user-named composites."""

from __future__ import annotations

import itertools
import math
import pickle
from typing import Any

import numpy as np
import pytest
from conftest import make_optimizer, trajectory

import hf_lr
from hf_lr.compose import Constant1, Decay


def _scalars(schedule: hf_lr.Schedule, n: int) -> list[float]:
    return [schedule(k) for k in range(n)]


@pytest.mark.parametrize("kind", ["linear", "cosine", "exponential", "log", "1-sqrt"])
@pytest.mark.parametrize("start_factor", [0.1, 0.5])
def test_warmup_ramps_from_start_factor_to_the_schedule(kind: str, start_factor: float) -> None:
    inner = hf_lr.equivalents.CosineAnnealing(T_max=20)
    schedule = hf_lr.warmup(inner, 8, warmup_type=kind, start_factor=start_factor)
    values = _scalars(schedule, 40)
    assert values[0] == pytest.approx(start_factor)
    assert all(a <= b + 1e-15 for a, b in itertools.pairwise(values[:9]))  # rises
    assert values[8:] == _scalars(inner, 32)  # then the schedule on its own clock
    np.testing.assert_allclose(schedule.values(np.arange(40)), values, rtol=1e-12, atol=1e-15)


def test_warmup_formulas() -> None:
    inner = Constant1()
    w = 10
    assert hf_lr.warmup(inner, w, "linear")(3) == pytest.approx(0.3)
    assert hf_lr.warmup(inner, w, "cosine")(5) == pytest.approx(0.5)
    assert hf_lr.warmup(inner, w, "1-sqrt")(3) == pytest.approx(1 - math.sqrt(0.7))
    assert hf_lr.warmup(inner, w, "log")(3) == pytest.approx(math.log(4) / math.log(11))  # DeepSpeed-style
    assert hf_lr.warmup(inner, w, "exponential", start_factor=0.01)(5) == pytest.approx(0.1)  # geometric mean


def test_warmup_without_prefix_overlays_the_first_updates() -> None:
    inner = Decay(20, "linear")
    schedule = hf_lr.warmup(inner, 5, prefix=False)
    assert schedule(5) == inner(5) == 0.75
    assert schedule(2) == pytest.approx(0.4 * inner(5))
    assert schedule.boundaries() == (5, 20)


def test_join_runs_each_phase_on_its_own_clock() -> None:
    a, b, c = Decay(10, "linear", end=0.5), Constant1(), hf_lr.equivalents.ExponentialDecay(0.9)
    schedule = hf_lr.join(a, b, c, boundaries=[4, 7])
    assert _scalars(schedule, 12) == _scalars(a, 4) + _scalars(b, 3) + _scalars(c, 5)
    assert schedule.values(np.arange(12)).tolist() == pytest.approx(_scalars(schedule, 12), rel=1e-15)
    assert schedule.boundaries() == (4, 7, 10)
    assert schedule.config()["boundaries"] == [4, 7]


@pytest.mark.parametrize(
    ("boundaries", "message"),
    [
        ([4], r"`boundaries` must have len\(schedules\) - 1 = 2 values, got 1"),
        ([7, 4], "strictly increasing"),
        ([0, 4], r"`boundaries\[0\]` must be >= 1"),
    ],
)
def test_join_rejects_bad_boundaries(boundaries: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hf_lr.join(Constant1(), Constant1(), Constant1(), boundaries=boundaries)
    with pytest.raises(TypeError, match=r"`schedules\[1\]` must be a hf_lr Schedule"):
        hf_lr.join(Constant1(), lambda s: 1.0, boundaries=[3])  # type: ignore[arg-type]


def test_floor_absolute_is_per_group_and_ratio_is_relative() -> None:
    schedule = hf_lr.with_floor(Decay(10, "cosine"), min_lr=1e-3)
    lrs = trajectory(lambda o: hf_lr.ScheduleLR(o, schedule), 15, (0.1, 0.01), train=False)
    assert lrs[0] == (0.1, 0.01)
    assert lrs[12] == pytest.approx((1e-3, 1e-3), rel=1e-12)
    ratio = hf_lr.with_floor(Decay(10, "linear"), min_lr_ratio=0.2, mode="clip")
    assert [ratio(k) for k in (0, 5, 9, 12)] == pytest.approx([1.0, 0.5, 0.2, 0.2])
    with pytest.raises(ValueError, match="exactly one of `min_lr` and `min_lr_ratio`"):
        hf_lr.with_floor(Decay(10), min_lr=0.1, min_lr_ratio=0.1)


def _naive_cycles(schedule: Any, period: int, mult: int, decay: float, limit: Any, n: int) -> list[float]:
    """Walk the cycles update by update: an independent check of the closed form."""
    out, index, start, length = [], 0, 0, period
    for step in range(n):
        while step >= start + length:
            start, length, index = start + length, length * mult, index + 1
        if limit is not None and index >= limit:
            last_length = period * mult ** (limit - 1)
            out.append(decay ** (limit - 1) * schedule(last_length))
        else:
            out.append(decay**index * schedule(step - start))
    return out


@pytest.mark.parametrize(
    ("period", "mult", "decay", "limit"),
    [(5, 1, 1.0, None), (3, 2, 0.5, None), (4, 3, 0.8, 3), (1, 2, 1.0, None), (7, 1, 0.9, 2)],
)
def test_cycles_closed_form_matches_walking_the_cycles(period: int, mult: int, decay: float, limit: Any) -> None:
    child = Decay(period, "cosine")
    schedule = hf_lr.cycles(child, period, period_mult=mult, decay=decay, limit=limit)
    expected = _naive_cycles(child, period, mult, decay, limit, 300)
    assert _scalars(schedule, 300) == pytest.approx(expected, rel=1e-14, abs=1e-300)
    np.testing.assert_allclose(schedule.values(np.arange(300)), expected, rtol=1e-12, atol=1e-15)


def test_cycle_of_a_huge_step_is_found_in_closed_form() -> None:
    """At step 10**15 walking the cycles would never finish; the closed form answers (timing: benchmarks/)."""
    schedule = hf_lr.cycles(Decay(10, "linear"), 10, period_mult=2)
    for step in (10**15, 10**15 + 1, 10 * (2**40 - 1), 10 * (2**40 - 1) - 1):
        index = schedule.cycle_of(step)
        assert schedule.cycle_start(index) <= step < schedule.cycle_start(index + 1)


def build_warm_cosine_floor(num_warmup_steps: int, num_training_steps: int, floor: float = 0.1) -> hf_lr.Schedule:
    """Cosine warmup, cosine decay to a floor: a composite under a name of its own."""
    decay = hf_lr.with_floor(Decay(num_training_steps - num_warmup_steps, "cosine"), min_lr_ratio=floor)
    return hf_lr.warmup(decay, num_warmup_steps, warmup_type="cosine")


def test_a_composite_registered_under_a_name(clean_registry: None) -> None:
    hf_lr.register_schedule("warm_cosine_floor", build_warm_cosine_floor, kind="schedule")
    entry = hf_lr.get_schedule_entry("warm_cosine_floor")
    assert entry.closed_form and entry.warmup == "required" and entry.parameters == {"floor": 0.1}
    make = lambda o, **r: hf_lr.get_scheduler("warm_cosine_floor", o, 10, 100, {"floor": 0.2}, **r)
    lrs = trajectory(make, 120, (1.0,), train=False)
    assert [row[0] for row in lrs] == pytest.approx(_scalars(build_warm_cosine_floor(10, 100, 0.2), 120), rel=1e-15)
    assert make(make_optimizer((1.0,)), completed_steps=60).get_last_lr()[0] == pytest.approx(lrs[60][0], rel=1e-15)
    scheduler = make(make_optimizer())
    assert pickle.loads(pickle.dumps(scheduler)).get_last_lr() == scheduler.get_last_lr()
    assert hf_lr.build_schedule("warm_cosine_floor", 10, 100).values(np.arange(3)).tolist() == pytest.approx(
        [0.0, 0.0245, 0.0955], abs=1e-4
    )


def test_a_schedule_builder_must_return_a_schedule(clean_registry: None) -> None:
    hf_lr.register_schedule("broken", lambda num_training_steps: 1.0, kind="schedule")
    with pytest.raises(TypeError, match="must return a hf_lr Schedule, got 1.0"):
        hf_lr.get_scheduler("broken", make_optimizer(), num_training_steps=10)
    with pytest.raises(ValueError, match="`kind` must be one of"):
        hf_lr.register_schedule("x", build_warm_cosine_floor, kind="builder")


def test_a_nested_configuration_mismatch_names_the_nested_field() -> None:
    def make(t_max: int) -> Any:
        return hf_lr.ScheduleLR(make_optimizer(), hf_lr.warmup(hf_lr.equivalents.CosineAnnealing(T_max=t_max), 5))

    with pytest.raises(hf_lr.ScheduleMismatchError, match=r"0\.schedule\.T_max: saved 100, live 200"):
        make(200).load_state_dict(make(100).state_dict())


def test_warmup_takes_its_former_kind_argument_with_a_warning() -> None:
    """`kind` was the former name of `warmup_type` (one name per concept, Transformers' name in get_wsd_schedule)."""
    inner = hf_lr.equivalents.CosineAnnealing(T_max=20)
    with pytest.warns(FutureWarning, match="`kind` is now called `warmup_type`"):
        former = hf_lr.warmup(inner, 8, kind="cosine")
    assert former == hf_lr.warmup(inner, 8, warmup_type="cosine")
    assert former.config()["warmup_type"] == "cosine" and "kind" not in former.config()
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        hf_lr.warmup(inner, 8, shape="cosine")
