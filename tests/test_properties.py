"""Properties of every registered closed-form name, over random parameters (hypothesis).

- finite and non-negative everywhere, past the end included;
- monotonic where the schedule promises it (rising to its peak, falling to its end; see ``registry_cases.shape``);
- continuous at phase boundaries: when every phase gets 16x longer, the largest one-update change shrinks (it would
  not at a discontinuity), except the documented jumps (restarts, which jump up to the peak, and their drop to 0).
- the scalar and vectorized forms agree (``values`` within 1e-12 relative, 1e-15 absolute: numpy's ``cos``/``sqrt``
  may differ from ``math``'s by an ulp).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry_cases import CASES, STEP_LIKE

import hf_lr

BASE_LR = 0.1
# Built-in names: names that tests or examples register have their own tests (and no case in the shared table).
CLOSED_FORM = [
    name
    for name in hf_lr.list_schedules()
    if hf_lr.get_schedule_entry(name).closed_form and hf_lr.get_schedule_entry(name).source == "builtin"
]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _curve(name: str, w: int | None, t: int | None, kwargs: dict[str, Any], extra: int = 60) -> tuple[Any, np.ndarray]:
    schedule = hf_lr.build_schedule(name, w, t, **kwargs).bind(BASE_LR)
    horizon = max(t or 0, w or 0, 50) + extra
    return schedule, schedule.values(np.arange(horizon))


@pytest.mark.parametrize("name", CLOSED_FORM)
@SETTINGS
@given(data=st.data())
def test_finite_and_non_negative(name: str, data: st.DataObject) -> None:
    w, t, kwargs = data.draw(CASES[name].strategy)
    schedule, values = _curve(name, w, t, kwargs)
    assert np.all(np.isfinite(values)) and np.all(values >= 0.0)
    far = [10**6, 10**9, 2**62]
    scalars = [schedule(step) for step in far]
    assert all(np.isfinite(v) and v >= 0.0 for v in scalars), scalars


@pytest.mark.parametrize("name", CLOSED_FORM)
@SETTINGS
@given(data=st.data())
def test_monotonic_where_promised(name: str, data: st.DataObject) -> None:
    w, t, kwargs = data.draw(CASES[name].strategy)
    shape = CASES[name].shape(w or 0, t or 0, kwargs)
    if shape is None:
        return
    _, values = _curve(name, w, t, kwargs)
    peak, start, end = shape if len(shape) == 3 else (shape[0], shape[0], shape[1])  # rise to peak, fall from start
    rise, fall = values[: peak + 1], values[start : end + 1]
    assert np.all(np.diff(rise) >= -1e-12), f"not non-decreasing up to step {peak}"
    assert np.all(np.diff(fall) <= 1e-12), f"not non-increasing from step {peak} to {end}"


def _scaled(w: int | None, t: int | None, kwargs: dict[str, Any], factor: int) -> tuple[Any, Any, dict[str, Any]]:
    def scale(key: str, value: Any) -> Any:
        if key in STEP_LIKE and value is not None:
            return value * factor
        if key == "gamma":  # a factor per update: the same change spread over `factor` times more updates
            return value ** (1.0 / factor)
        return [v * factor for v in value] if key == "milestones" else value

    return (
        None if w is None else w * factor,
        None if t is None else t * factor,
        {k: scale(k, v) for k, v in kwargs.items()},
    )


@pytest.mark.parametrize("name", [n for n in CLOSED_FORM if n != "lambda" and CASES[n].continuous])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_continuous_at_phase_boundaries_except_documented_jumps(name: str, data: st.DataObject) -> None:
    """Within the schedule's span ``[0, num_training_steps]`` (past the end, Transformers' cosines keep going)."""
    w, t, kwargs = data.draw(CASES[name].strategy)
    kwargs = dict(kwargs)
    if kwargs.get("num_cycles", 1.0) < 0.2:
        kwargs["num_cycles"] = 0.2
    for key in ("num_decay_steps", "decay_steps"):  # an empty decay phase is an instant drop (documented)
        if key in kwargs:
            kwargs[key] = max(kwargs[key], 1)
    if "num_decay_steps" in kwargs:
        t = max(t or 0, (w or 0) + kwargs["num_decay_steps"] + kwargs.get("num_stable_steps", 0))
    if t is not None and w is not None and t == w:
        t += 1  # an empty decay phase is an instant drop, not a boundary between two phases

    def largest_jump(factor: int) -> float:
        sw, st_, skw = _scaled(w, t, kwargs, factor)
        _, values = _curve(name, sw, st_, skw, extra=2 * factor)
        if st_ is not None:
            values = values[: st_ + 1]
        changes = np.diff(values)
        jumps = np.abs(changes)
        if CASES[name].jumps_only_to_one:  # documented: restarts jump up (after warmup), and the end drops to 0
            after = np.arange(1, values.size)
            documented = ((changes > 0) & (after > (sw or 0))) | (after == st_)
            jumps = jumps[~documented]
        return float(jumps.max(initial=0.0) / values.max())

    # A discontinuity keeps its size when every phase gets 16x longer; a continuous curve's steps shrink (by 16**-p
    # for the steepest shape here, polynomial decay with power p >= 0.1: at least to 0.76x).
    coarse, fine = largest_jump(50), largest_jump(800)
    assert fine < 1e-3 or fine <= 0.9 * coarse, f"largest one-update change {coarse:.3g} -> {fine:.3g}"


@pytest.mark.parametrize("name", CLOSED_FORM)
@SETTINGS
@given(data=st.data())
def test_vectorized_values_equal_the_scalar_form(name: str, data: st.DataObject) -> None:
    w, t, kwargs = data.draw(CASES[name].strategy)
    schedule, values = _curve(name, w, t, kwargs)
    scalars = np.array([schedule(int(step)) for step in range(values.size)])
    np.testing.assert_allclose(values, scalars, rtol=1e-12, atol=1e-15)


def test_boundaries_are_where_the_phases_change() -> None:
    assert hf_lr.build_schedule("linear", 5, 20).boundaries() == (5, 20)
    assert hf_lr.build_schedule("warmup_stable_decay", 2, 10, num_decay_steps=3).boundaries() == (2, 7, 10)
    assert hf_lr.build_schedule("noam", 10, d_model=4).boundaries() == (9,)
