"""Every name shared with Transformers gives the installed Transformers' learning rates, float for float (``==``).

The grids cover warmup 0, warmup == total, total 1, steps past the end (twice the schedule's length plus a few),
fractional and multiple cycles, and several parameter groups with equal learning rates. Deliberate differences
(per-group learning rates, tensor learning rates, Transformers' division by zero) are in ``test_differences.py``.
"""

from __future__ import annotations

import inspect
import itertools
import warnings
from typing import Any

import pytest
import transformers.optimization as tf_opt
from conftest import trajectory
from hypothesis import given, settings
from registry_cases import CASES
from transformers import SchedulerType
from versions import FEATURES, requires_transformers

import hf_lr

LENGTHS = [(0, 1), (1, 1), (0, 2), (0, 10), (3, 10), (10, 10), (7, 50), (25, 40)]
GROUPS = [(0.1,), (0.1, 0.1, 0.1)]


def _grid(**axes: list[Any]) -> list[dict[str, Any]]:
    keys = list(axes)
    return [{k: v for k, v in zip(keys, values) if v is not None} for values in itertools.product(*axes.values())]


KWARGS: dict[str, list[dict[str, Any]]] = {
    "linear": [{}],
    "cosine": _grid(num_cycles=[0.5, 0.25, 1.0, 1.5, 2.75, 0.0]),
    "cosine_with_restarts": _grid(num_cycles=[1, 2, 3, 1.5, 0.5]),
    "polynomial": _grid(lr_end=[1e-7, 0.0, 1e-3, 0.05], power=[1.0, 0.5, 2.0, 3]),
    "constant": [{}],
    "constant_with_warmup": [{}],
    "inverse_sqrt": _grid(timescale=[None, 1, 5, 100]),
    "cosine_with_min_lr": _grid(min_lr_rate=[0.0, 0.1, 1.0], num_cycles=[0.5, 1.25])
    + _grid(min_lr=[1e-4, 0.05], num_cycles=[0.5, 1.25]),
    "cosine_warmup_with_min_lr": _grid(
        min_lr_rate=[0.0, 0.1], warmup_lr_rate=[None, 0.0, 0.3, 1.0], num_cycles=[0.5, 2]
    )
    + _grid(min_lr=[1e-3], warmup_lr_rate=[None, 0.5]),
    "warmup_stable_decay": _grid(
        num_decay_steps=[0, 1, "half"],
        warmup_type=["linear", "cosine", "1-sqrt"],
        decay_type=["linear", "cosine", "1-sqrt"],
    )
    + _grid(num_decay_steps=["half"], min_lr_ratio=[0.2], num_cycles=[0.5, 1.0])
    + _grid(num_decay_steps=[1], num_stable_steps=[0, 3]),
}

SHARED_NAMES = list(KWARGS)

# Names and factories whose Transformers counterpart (or its present arguments) came after the oldest supported release.
NEEDS = {
    "warmup_stable_decay": "wsd",
    "get_wsd_schedule": "wsd",
    "cosine_warmup_with_min_lr": "cosine_warmup_with_min_lr",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate": "cosine_warmup_with_min_lr",
}


def _marks(name: str) -> list[Any]:
    return [requires_transformers(NEEDS[name])] if name in NEEDS else []


def _resolve(kwargs: dict[str, Any], w: int, t: int) -> dict[str, Any] | None:
    kwargs = dict(kwargs)
    if kwargs.get("num_decay_steps") == "half":
        kwargs["num_decay_steps"] = (t - w) // 2
    if "num_decay_steps" in kwargs and "num_stable_steps" not in kwargs and w + kwargs["num_decay_steps"] > t:
        return None  # Transformers would schedule a negative stable phase; hf_lr rejects it (test_validation)
    return kwargs


def _cases() -> list[Any]:
    cases = []
    for name in SHARED_NAMES:
        for (w, t), kwargs, lrs in itertools.product(LENGTHS, KWARGS[name], GROUPS):
            resolved = _resolve(kwargs, w, t)
            if resolved is None or (name == "polynomial" and w == t):
                continue  # polynomial with w == t divides by zero in Transformers: see test_differences.py
            case_id = f"{name}-w{w}-t{t}-{resolved}-g{len(lrs)}"
            cases.append(pytest.param(name, w, t, resolved, lrs, id=case_id, marks=_marks(name)))
    return cases


def _theirs(name: str, optimizer: Any, w: int | None, t: int | None, kwargs: dict[str, Any]) -> Any:
    if name == "inverse_sqrt" and kwargs and not FEATURES["inverse_sqrt_kwargs"].available:
        # Transformers < 5.4's get_scheduler drops scheduler_specific_kwargs for inverse_sqrt (timescale falls back to
        # 10000); its factory takes them, and gives the numbers hf_lr's get_scheduler promises.
        return tf_opt.get_inverse_sqrt_schedule(optimizer, w, **kwargs)
    return tf_opt.get_scheduler(name, optimizer, w, t, dict(kwargs))


def _both(
    name: str, w: int | None, t: int | None, kwargs: dict[str, Any], lrs: tuple[float, ...], steps: int
) -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = trajectory(lambda opt: _theirs(name, opt, w, t, kwargs), steps, lrs, train=False)
        ours = trajectory(lambda opt: hf_lr.get_scheduler(name, opt, w, t, dict(kwargs)), steps, lrs, train=False)
    return theirs, ours


def test_every_shared_name_is_in_the_grid() -> None:
    closed_form_names = {m.value for m in SchedulerType} - {"reduce_lr_on_plateau", "greedy"}
    assert closed_form_names <= set(KWARGS), closed_form_names - set(KWARGS)


@pytest.mark.parametrize(("name", "w", "t", "kwargs", "lrs"), _cases())
def test_get_scheduler_trajectory_equals_transformers(
    name: str, w: int, t: int, kwargs: dict[str, Any], lrs: tuple[float, ...]
) -> None:
    theirs, ours = _both(name, w, t, kwargs, lrs, steps=2 * t + 5)
    assert ours == theirs


FACTORIES = [
    ("get_constant_schedule", (), {}),
    ("get_constant_schedule_with_warmup", (5,), {}),
    ("get_linear_schedule_with_warmup", (5, 30), {}),
    ("get_cosine_schedule_with_warmup", (5, 30), {"num_cycles": 0.75}),
    ("get_cosine_with_hard_restarts_schedule_with_warmup", (5, 30), {"num_cycles": 4}),
    ("get_polynomial_decay_schedule_with_warmup", (5, 30), {"lr_end": 1e-4, "power": 2.0}),
    ("get_inverse_sqrt_schedule", (5,), {"timescale": 7}),
    ("get_cosine_with_min_lr_schedule_with_warmup", (5, 30), {"min_lr": 1e-3}),
    ("get_cosine_with_min_lr_schedule_with_warmup_lr_rate", (5, 30), {"min_lr_rate": 0.05, "warmup_lr_rate": 0.1}),
    ("get_wsd_schedule", (5, 10), {"num_training_steps": 30, "warmup_type": "1-sqrt", "min_lr_ratio": 0.1}),
]


FACTORY_CASES = [pytest.param(*factory, id=factory[0], marks=_marks(factory[0])) for factory in FACTORIES]


@pytest.mark.parametrize(("factory", "args", "kwargs"), FACTORY_CASES)
@pytest.mark.parametrize("lrs", GROUPS, ids=["1group", "3groups"])
def test_factory_trajectory_equals_transformers(
    factory: str, args: tuple[Any, ...], kwargs: dict[str, Any], lrs: tuple[float, ...]
) -> None:
    theirs = trajectory(lambda opt: getattr(tf_opt, factory)(opt, *args, **kwargs), 70, lrs)
    ours = trajectory(lambda opt: getattr(hf_lr, factory)(opt, *args, **kwargs), 70, lrs)
    assert ours == theirs


@pytest.mark.parametrize(("factory", "args", "kwargs"), FACTORY_CASES)
def test_factory_resumed_with_last_epoch_equals_transformers(
    factory: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """torch's ``last_epoch`` keeps its meaning: both libraries continue from the same place."""

    def resumed(module: Any) -> Any:
        def make(opt: Any) -> Any:
            for group in opt.param_groups:
                group["initial_lr"] = group["lr"]
            return getattr(module, factory)(opt, *args, **kwargs, last_epoch=11)

        return make

    assert trajectory(resumed(hf_lr), 40) == trajectory(resumed(tf_opt), 40)


@pytest.mark.parametrize(
    "factory",
    [pytest.param(f[0], marks=_marks(f[0])) for f in FACTORIES] + ["get_reduce_on_plateau_schedule", "get_scheduler"],
)
def test_signature_extends_transformers(factory: str) -> None:
    """Transformers' parameters, in the same order, with the same defaults; hf_lr adds keyword-only ones after."""
    theirs = list(inspect.signature(getattr(tf_opt, factory)).parameters.values())
    ours = list(inspect.signature(getattr(hf_lr, factory)).parameters.values())
    assert [(p.name, p.default, p.kind) for p in ours[: len(theirs)]] == [(p.name, p.default, p.kind) for p in theirs]
    assert all(p.kind is p.KEYWORD_ONLY for p in ours[len(theirs) :])


@pytest.mark.parametrize(
    "member", [pytest.param(m, id=m.value, marks=_marks(m.value)) for m in SchedulerType if m.value in KWARGS]
)
def test_scheduler_type_members_are_accepted(member: SchedulerType) -> None:
    w, t, kwargs = CASES[member.value].examples[0]
    resolved = _resolve(kwargs, w or 0, t or 1) or kwargs
    theirs, ours = _both(member, w, t, resolved, (0.1,), steps=30)
    assert ours == theirs


@pytest.mark.parametrize("name", [pytest.param(name, marks=_marks(name)) for name in SHARED_NAMES])
@settings(max_examples=25, deadline=None)
@given(data=__import__("hypothesis").strategies.data())
def test_random_parameters_equal_transformers(name: str, data: Any) -> None:
    w, t, kwargs = data.draw(CASES[name].strategy)
    steps = min((t or 200) + 20, 700)
    theirs, ours = _both(name, w, t, kwargs, (0.1, 0.1), steps=steps)
    assert ours == theirs
