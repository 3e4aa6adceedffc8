"""Fuzz every registered name with valid, boundary, wrong-typed, extreme, numpy/tensor-typed, missing and extra
arguments (hypothesis), with one oracle for every call.

Each ``get_scheduler(name, optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs)`` call must
either

- be refused with a ``ValueError``/``TypeError`` whose (short) message names an argument the call passed, or the
  schedule's name — a clear refusal; or
- return a scheduler whose learning rates at updates 0..50 and at far steps (10**6, 10**9, 2**53) are finite and
  >= 0, whose ``state_dict`` round-trips through ``torch.save``/``torch.load(weights_only=True)`` and loads into a
  scheduler built the same way, and (closed-form names) whose ``lr_curve`` equals the stepped learning rates.

Anything else (another exception type, a message naming nothing the user passed, a NaN or negative lr, an unloadable
state, a curve that differs from the run) fails. A user's expression may still fail at the step that produces a bad
value (it cannot be known before): then stepping and ``lr_curve`` must refuse identically, naming that step.

Run ``python tests/test_fuzz.py 20000`` for a larger budget; it prints the figures (calls tried, clear refusals,
accepted and sane, failures). ``pytest -s`` prints them for the CI budget.
"""

from __future__ import annotations

import collections
import io
import math
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
if __name__ == "__main__":  # run as a script: this checkout's hf_lr
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from registry_cases import CASES

import hf_lr

NAMES = [name for name in hf_lr.list_schedules() if hf_lr.get_schedule_entry(name).source == "builtin"]
STEP_ARGUMENTS = ("num_warmup_steps", "num_training_steps")
FAR_STEPS = (10**6, 10**9, 2**53)
STEPS = 51
METRICS = (1.0, 0.9, 0.9, 0.9, 0.95, 1.2, 1.2, 1.2, 0.5, 0.4, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2)
MAX_MESSAGE = 2000

INTS = [0, 1, 2, 3, 7, 10, 100, 2**31, 2**53, 2**53 + 1, 2**63, 10**400, -1]
FLOATS = [
    0.0,
    -0.0,
    5e-324,
    1e-300,
    1e-8,
    0.1,
    0.5,
    0.999,
    1.0,
    1.5,
    2.0,
    200.0,
    1e15,
    1e308,
    math.nan,
    math.inf,
    -math.inf,
    -1.0,
]
# Valid types, extreme sizes: what a value of the same type can be pushed to.
EXTREME_INTS = [0, 1, 2, 10**6, 10**9, 2**31, 2**53 - 1, 2**53]
EXTREME_FLOATS = [
    0.0,
    5e-324,
    1e-300,
    1e-12,
    1e-8,
    1e-3,
    0.999999,
    1.0,
    1.000001,
    3.0,
    200.0,
    1e12,
    1e100,
    1e300,
    1.7e308,
]
STRINGS = [
    "100", "0.5", "lin", "", "linear", "cosine", "cos", "log", "1-sqrt", "exponential", "polynomial", "triangular",
    "triangular2", "exp_range", "peak", "scale", "absolute", "min", "max", "rel", "abs", "false",
]  # fmt: skip
OTHERS: list[Any] = [None, True, False, [1, 2, 3, 4], [0.1, 0.01], [0.2, 0.3, 0.5], [], {}, {"x": 1.0}, object()]
EXPRESSIONS = [
    "0.5 ** (step // 10)", "min(1, (step + 1) / 10)", "(step - 5) ** 0.5", "abs((step - 3) ** 0.5)", "min(1, x - x)",
    "min(1, x * 10 - x * 10)", "1 / (step - 3)", "step ** step", "exp(step)", "1 - step / 20", "x * step",
    "step + step ** step % step + step", "log(step)", "1 if step < 5 else 1 / (step - 5)", "__import__('os')",
    "0.5 ** (step // num_warmup_steps)", "(step > 3) - (step > 5) + 1",
]  # fmt: skip
PARAMS: list[Any] = [None, {"x": 2.0}, {"x": 1e308}, {"x": "a"}, {"step": 1.0}, {"x": np.float32(0.5)}]


TYPED = {
    "plain": lambda v: v,
    "numpy": lambda v: np.asarray(v)[()],
    "float32": np.float32,
    "array0": np.asarray,
    "tensor": torch.tensor,
    "tensor2": lambda v: torch.tensor([v, v]),
}


def _typed(value: Any, kind: str) -> Any:
    """``value`` as a numpy scalar, a 0-dim array, a tensor (one or two elements), or as is when it cannot be."""
    try:
        with np.errstate(all="ignore"):
            return TYPED[kind](value)
    except (TypeError, ValueError, OverflowError, RuntimeError):
        return value


def _numbers(draw_kind: str, value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _typed(value, draw_kind)
    if isinstance(value, list):
        return [_numbers(draw_kind, v) for v in value]
    return value


SCALARS = st.one_of(st.sampled_from(INTS), st.sampled_from(FLOATS), st.sampled_from(STRINGS), st.sampled_from(OTHERS))
TYPED_KINDS = st.sampled_from(list(TYPED))
VALUES = st.tuples(SCALARS, TYPED_KINDS).map(lambda pair: _typed(*pair))


@st.composite
def calls(draw: st.DrawFn, name: str) -> tuple[Any, Any, dict[str, Any], tuple[float, ...]]:
    """One ``(num_warmup_steps, num_training_steps, kwargs, optimizer lrs)`` for ``name``: a valid example, mutated."""
    entry = hf_lr.get_schedule_entry(name)
    examples = CASES[name].examples if name in CASES else ((None, None, {}),)
    w, t, kwargs = draw(st.sampled_from(examples))
    kwargs = dict(kwargs)
    if name == "lambda" and draw(st.booleans()):
        kwargs = {"lr_lambda": draw(st.sampled_from(EXPRESSIONS))}
        if draw(st.booleans()):
            kwargs["params"] = draw(st.sampled_from(PARAMS))
    if draw(st.booleans()):  # the same valid values as numpy scalars or tensors
        kind = draw(TYPED_KINDS.filter(lambda k: k != "tensor2"))
        w, t = _numbers(kind, w), _numbers(kind, t)
        kwargs = {key: _numbers(kind, value) for key, value in kwargs.items()}
    targets = [*STEP_ARGUMENTS, *entry.parameters, "bogus"]
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(targets))
        action = draw(st.sampled_from(["set", "set", "extreme", "extreme", "delete"]))
        current = {"num_warmup_steps": w, "num_training_steps": t}.get(
            target, kwargs.get(target, entry.parameters.get(target))
        )
        if action == "delete":
            value = None
        elif action == "extreme" and isinstance(current, int) and not isinstance(current, bool):
            value = draw(st.sampled_from(EXTREME_INTS))
        elif action == "extreme" and isinstance(current, float):
            value = draw(st.sampled_from(EXTREME_FLOATS))
        elif action == "extreme" and current is None:  # an optional number (T_max, d_model, min_lr, ...)
            value = draw(st.sampled_from(EXTREME_INTS + EXTREME_FLOATS))
        else:
            value = draw(VALUES)
        if target == "num_warmup_steps":
            w = value
        elif target == "num_training_steps":
            t = value
        elif action == "delete":
            kwargs.pop(target, None)
        else:
            kwargs[target] = value
    lrs = draw(st.sampled_from([(0.1,), (2e-3, 1e-5), (1.0,)]))
    return w, t, kwargs, lrs


def _optimizer(lrs: tuple[float, ...]) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _argument_names(name: str, w: Any, t: Any, kwargs: dict[str, Any]) -> list[str]:
    """What a clear refusal may name: the schedule, an argument passed or one it requires, or a text passed (an
    expression)."""
    names = [name, "scheduler_specific_kwargs", *map(str, kwargs), *hf_lr.get_schedule_entry(name).parameters]
    texts = [value for value in kwargs.values() if isinstance(value, str) and len(value) >= 3]
    return names + texts + [arg for arg, value in zip(STEP_ARGUMENTS, (w, t)) if value is not None]


def _is_clear_refusal(error: BaseException, name: str, w: Any, t: Any, kwargs: dict[str, Any]) -> bool:
    message = str(error)
    return (
        (type(error) in (TypeError, ValueError) or isinstance(error, hf_lr.ScheduleMismatchError))
        and len(message) <= MAX_MESSAGE
        and any(arg in message for arg in _argument_names(name, w, t, kwargs))
    )


def _finite_lrs(values: Any, where: str) -> None:
    array = np.asarray(values, dtype=np.float64)
    assert np.all(np.isfinite(array)) and np.all(array >= 0.0), f"{where}: {array.tolist()}"


def _check_closed_form(name: str, make: Any, lrs: tuple[float, ...]) -> None:
    optimizer = _optimizer(lrs)
    scheduler = make(optimizer)
    stepped: list[list[float]] = []
    failure: str | None = None
    for step in range(STEPS):
        stepped.append([float(group["lr"]) for group in optimizer.param_groups])
        optimizer.step()
        try:
            scheduler.step()
        except ValueError as error:  # only a user's expression or function may fail mid-run, naming the step
            assert name == "lambda" and f"at step {step + 1}" in str(error), f"step {step + 1}: {error!r}"
            failure = str(error)
            break
    _finite_lrs(stepped, "stepped lrs")
    if failure is None:
        curve = hf_lr.lr_curve(scheduler, STEPS)
        expected = np.array(stepped) if len(lrs) > 1 else np.array(stepped)[:, 0]
        # Exactly, or within a few ulps where numpy's cos/pow round differently from math's (the property tests'
        # tolerance, relative to the lr: a cancellation, 1 + cos(x) near x = pi, keeps their absolute size).
        atol = 1e-15 * max(lrs)
        np.testing.assert_allclose(curve, expected, rtol=1e-12, atol=atol, err_msg="lr_curve differs from the run")
    else:
        with pytest.raises(ValueError) as refused:
            hf_lr.lr_curve(scheduler, STEPS)
        assert str(refused.value) == failure, "lr_curve and the scheduler refuse differently"
    for step in FAR_STEPS:  # resuming far away, and each bound schedule's two forms there
        try:
            far = make(_optimizer(lrs), completed_steps=step)
            _finite_lrs(far.get_last_lr(), f"lrs resumed at update {step}")
        except ValueError as error:
            assert name == "lambda" and f"at step {step}" in str(error), f"resumed at update {step}: {error!r}"
        for schedule in {id(s): s for s in scheduler.lr_lambdas}.values():
            boundaries = schedule.boundaries()  # for plots: a few integers, whatever the arguments
            assert len(boundaries) <= 200 and all(type(b) is int for b in boundaries), boundaries
            try:
                value = schedule(step)
            except ValueError as error:
                assert name == "lambda" and f"at step {step}" in str(error), f"step {step}: {error!r}"
                with pytest.raises(ValueError, match=re.escape(str(error))):
                    schedule.values([step])
                continue
            _finite_lrs([value], f"multiplier at step {step}")
            np.testing.assert_allclose(schedule.values([step]), [value], rtol=1e-12, atol=1e-15)
    state = scheduler.state_dict()
    assert _roundtrip(state) == state
    fresh = make(_optimizer(lrs))
    fresh.load_state_dict(_roundtrip(state))
    assert fresh.state_dict() == state


def _check_metric_driven(make: Any, lrs: tuple[float, ...]) -> None:
    optimizer = _optimizer(lrs)
    scheduler = make(optimizer)
    for metric in METRICS:
        optimizer.step()
        scheduler.step(metric)
        _finite_lrs([float(group["lr"]) for group in optimizer.param_groups], "lrs")
    state = scheduler.state_dict()
    loaded = _roundtrip(state)
    fresh = make(_optimizer(lrs))
    fresh.load_state_dict(loaded)
    _finite_lrs([float(group["lr"]) for group in fresh.optimizer.param_groups], "lrs after loading")


def check_call(name: str, w: Any, t: Any, kwargs: dict[str, Any], lrs: tuple[float, ...]) -> str:
    """Apply the oracle to one call: ``"refused"`` (clearly) or ``"accepted"`` (and sane); fail otherwise."""

    def make(optimizer: torch.optim.Optimizer, **resume: Any) -> Any:
        return hf_lr.get_scheduler(name, optimizer, w, t, dict(kwargs), **resume)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            make(_optimizer(lrs))
        except BaseException as error:
            if _is_clear_refusal(error, name, w, t, kwargs):
                return "refused"
            raise AssertionError(
                f"get_scheduler({name!r}, w={w!r}, t={t!r}, kwargs={kwargs!r}): unclear refusal {error!r}"
            ) from error
        try:
            if hf_lr.get_schedule_entry(name).closed_form:
                _check_closed_form(name, make, lrs)
            else:
                _check_metric_driven(make, lrs)
        except BaseException as error:
            raise AssertionError(
                f"get_scheduler({name!r}, w={w!r}, t={t!r}, kwargs={kwargs!r}), lrs={lrs}: {error!r}"
            ) from error
    return "accepted"


FIGURES: collections.Counter[str] = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_figures() -> Any:
    yield
    if FIGURES:
        print(f"\nfuzz figures: {dict(FIGURES)}")


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_call_is_refused_clearly_or_sane(name: str, data: st.DataObject) -> None:
    w, t, kwargs, lrs = data.draw(calls(name))
    outcome = check_call(name, w, t, kwargs, lrs)
    FIGURES["tried"] += 1
    FIGURES[outcome] += 1


def test_the_fuzz_reaches_both_outcomes_for_every_name() -> None:
    """The strategies are not degenerate: every name has calls that are accepted and calls that are refused."""
    for name in NAMES:
        entry = hf_lr.get_schedule_entry(name)
        examples = CASES[name].examples if name in CASES else ((None, None, {}),)
        w, t, kwargs = examples[0]
        assert check_call(name, w, t, dict(kwargs), (0.1,)) == "accepted", name
        bad = {**kwargs, "bogus": 1}
        assert check_call(name, w, t, bad, (0.1,)) == "refused", name
        assert entry.name == name


def explore(budget: int) -> tuple[collections.Counter[str], list[str]]:
    """``budget`` random calls over every name, without shrinking: the figures and the failures' messages."""
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []

    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(name=st.sampled_from(NAMES), data=st.data())
    def run(name: str, data: st.DataObject) -> None:
        w, t, kwargs, lrs = data.draw(calls(name))
        counts["tried"] += 1
        try:
            counts[check_call(name, w, t, kwargs, lrs)] += 1
        except AssertionError as error:
            counts["failures"] += 1
            failures.append(str(error)[:400])

    run()
    return counts, failures


if __name__ == "__main__":  # a larger budget: python tests/test_fuzz.py 20000
    figures, messages = explore(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
    print(dict(figures))
    for line in sorted(set(messages))[:200]:
        print("FAIL", line)
