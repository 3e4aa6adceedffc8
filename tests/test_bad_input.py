"""Bad input and damaged state never give a wrong lr or an unloadable checkpoint (issue 14, items 1, 3, 6, 7, 8).

- numpy and tensor numbers are taken as the plain numbers they hold, and the state (``scheduler.source`` included)
  holds plain Python values only, so it loads with ``torch.load(weights_only=True)``;
- sizes are checked before anything is allocated, and messages quote long values shortly;
- extremes that would crash mid-run are refused at construction (or work);
- messages name the argument the user passed, not a builder's internal parameter;
- a damaged ``ScheduleLR`` state is refused with a clear error.
"""

from __future__ import annotations

import io
import json
import math
import tracemalloc
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from conftest import make_optimizer
from registry_cases import CASES, example_id, examples

import hf_lr

NAMES = [name for name in hf_lr.list_schedules() if hf_lr.get_schedule_entry(name).source == "builtin"]


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _plain_types(value: Any, path: str = "state") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _plain_types(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _plain_types(item, f"{path}[{index}]")
    else:
        assert value is None or type(value) in (int, float, str, bool), f"{path} is {type(value).__name__}: {value!r}"


TYPED = {
    "numpy": lambda v: np.int64(v) if isinstance(v, int) else np.float64(v),
    "array0": np.asarray,
    "tensor": lambda v: torch.tensor(v, dtype=torch.int64 if isinstance(v, int) else torch.float64),
}


def _typed(value: Any, kind: str) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return TYPED[kind](value)
    if isinstance(value, list):
        return [_typed(v, kind) for v in value]
    return value


# Item 1
@pytest.mark.parametrize(("name", "w", "t", "kwargs"), examples(closed_form_only=False), ids=example_id)
@pytest.mark.parametrize("kind", list(TYPED))
def test_numpy_and_tensor_numbers_give_the_plain_schedule_and_a_loadable_state(
    name: str, w: Any, t: Any, kwargs: dict[str, Any], kind: str
) -> None:
    def run(w: Any, t: Any, kwargs: dict[str, Any]) -> Any:
        optimizer = make_optimizer((0.1, 0.05))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler = hf_lr.get_scheduler(name, optimizer, w, t, kwargs)
            for step in range(3):
                optimizer.step()
                scheduler.step(1.0 / (step + 1)) if hf_lr.get_schedule_entry(name).metric_driven else scheduler.step()
        return scheduler

    typed = run(_typed(w, kind), _typed(t, kind), {key: _typed(value, kind) for key, value in kwargs.items()})
    plain = run(w, t, dict(kwargs))
    state = typed.state_dict()
    _plain_types(state)
    assert _roundtrip(state) == state  # torch.load(weights_only=True): an UnpicklingError on main for numpy values
    assert state == plain.state_dict()
    assert typed.get_last_lr() == plain.get_last_lr()


def test_scheduler_source_holds_the_plain_numbers() -> None:
    scheduler = hf_lr.get_scheduler(
        "cosine", make_optimizer(), np.int64(10), np.int64(100), {"num_cycles": torch.tensor(0.5)}
    )
    assert scheduler.source == {
        "name": "cosine",
        "num_warmup_steps": 10,
        "num_training_steps": 100,
        "scheduler_specific_kwargs": {"num_cycles": 0.5},
    }
    assert [type(scheduler.source[key]) for key in ("num_warmup_steps", "num_training_steps")] == [int, int]
    assert type(scheduler.source["scheduler_specific_kwargs"]["num_cycles"]) is float


def halving(step: int, *, period: int = 10, floor: float = 0.0) -> float:
    return max(floor, 0.5 ** (step // period))


def test_a_registered_multiplier_gets_plain_numbers_and_its_state_loads(clean_registry: None) -> None:
    hf_lr.register_schedule("halving_numpy", halving)
    kwargs = {"period": np.int64(3), "floor": torch.tensor(0.125)}
    scheduler = hf_lr.get_scheduler("halving_numpy", make_optimizer(), scheduler_specific_kwargs=kwargs)
    state = scheduler.state_dict()
    _plain_types(state)
    assert _roundtrip(state) == state
    assert state["hf_lr"]["schedules"][0]["period"] == 3 and state["hf_lr"]["source"]["scheduler_specific_kwargs"] == {
        "period": 3,
        "floor": 0.125,
    }


# Item 3
def test_one_cycle_refuses_a_list_of_epochs_before_allocating_and_quotes_it_shortly() -> None:
    kwargs = json.loads('{"epochs": [1, 2, 3, 4], "steps_per_epoch": 100000000}')  # as it can come from a command line
    tracemalloc.start()
    try:
        with pytest.raises(TypeError, match=r"^`epochs` must be an integer, got \[1, 2, 3, 4\] \(list\)$"):
            hf_lr.get_scheduler("one_cycle", make_optimizer(), scheduler_specific_kwargs=kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"{peak / 2**20:.0f} MiB allocated"  # main built a 4 * 10**8-element list first


def test_one_cycle_refuses_an_epoch_total_beyond_2_53() -> None:
    with pytest.raises(
        ValueError,
        match=r"`epochs \* steps_per_epoch` must be <= 9007199254740992 \(2\*\*53\), "
        r"got epochs=1000000000, steps_per_epoch=1000000000",
    ):
        hf_lr.get_scheduler(
            "one_cycle", make_optimizer(), scheduler_specific_kwargs={"epochs": 10**9, "steps_per_epoch": 10**9}
        )


@pytest.mark.parametrize(
    "name_kwargs",
    [
        ("cosine", {"num_cycles": list(range(10**5))}),
        ("one_cycle", {"epochs": 2, "steps_per_epoch": list(range(10**5))}),
        ("tri_stage", {"phase_ratio": list(range(10**5))}),
    ],
    ids=["num_cycles", "steps_per_epoch", "phase_ratio"],
)
def test_a_long_value_is_quoted_shortly(name_kwargs: tuple[str, dict[str, Any]]) -> None:
    name, kwargs = name_kwargs
    with pytest.raises((TypeError, ValueError)) as error:
        hf_lr.get_scheduler(name, make_optimizer(), 2, 100, kwargs)
    assert len(str(error.value)) < 300 and next(iter(kwargs if name != "one_cycle" else ["steps_per_epoch"])) in str(
        error.value
    )


# Item 7
@pytest.mark.parametrize(
    ("name", "w", "t", "kwargs", "message"),
    [
        ("linear", 0, 10**400, {}, r"`num_training_steps` must be <= 9007199254740992 \(2\*\*53"),
        ("cosine", 10, 2**53 + 1, {}, r"`num_training_steps` must be <= 9007199254740992"),
        ("noam", 10, None, {"d_model": 10**400}, r"`d_model` must be <= 9007199254740992"),
        (
            "cosine",
            0,
            100,
            {"num_cycles": 1e308},
            r"`num_cycles` must be <= 9007199254740992\.0, got num_cycles=1e\+308",
        ),
        ("cosine_with_restarts", 0, 100, {"num_cycles": 1e300}, r"`num_cycles` must be <= "),
        ("inverse_sqrt", 5, None, {"timescale": 1e-300}, r"`timescale` is too small next to `num_warmup_steps`"),
        ("timm_cosine", 0, 20, {"cycle_mul": 1e300, "cycle_limit": 5}, r"`cycle_mul` must be <= "),
        (
            "multistep",
            None,
            None,
            {"milestones": [1, 2, 3], "gamma": 1e300},
            r"`gamma` \*\* len\(milestones\) overflows",
        ),
        (
            "cosine_annealing",
            None,
            None,
            {"T_max": 10, "eta_min": 1e308},
            r"`eta_min`=1e\+308 is too large an absolute learning rate for the group's learning rate 0\.1",
        ),
        (
            "noam",
            4,
            None,
            {"d_model": 1, "factor": 1e308},
            r"Noam's peak learning rate .* too large .* factor=1e\+308, d_model=1",
        ),
        ("one_cycle", None, 100, {"max_lr": 1.0, "div_factor": 1e-308}, r"`max_lr / div_factor`=1e\+308 is too large"),
    ],
    ids=[
        "T=10**400",
        "T=2**53+1",
        "d_model",
        "num_cycles",
        "restarts",
        "timescale",
        "cycle_mul",
        "multistep_gamma",
        "eta_min",
        "noam_factor",
        "div_factor",
    ],
)
def test_extremes_that_would_crash_mid_run_are_refused_at_construction(
    name: str, w: Any, t: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        hf_lr.get_scheduler(name, make_optimizer((0.1,)), w, t, kwargs)


def test_timm_k_decay_beyond_float_powers_works() -> None:
    """``position ** k / length ** k`` overflows for k_decay=200 over 100 updates (timm raises there); the ratio is
    ``(position / length) ** k``, finite, and the run and the curve agree."""
    optimizer = make_optimizer((1.0,))
    scheduler = hf_lr.get_scheduler("timm_cosine", optimizer, 0, 100, {"k_decay": 200.0, "lr_min": 0.01})
    lrs = []
    for _ in range(110):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [
        0.01 + 0.5 * (1.0 - 0.01) * (1 + math.cos(math.pi * (k / 100) ** 200)) if k < 100 else 0.01 for k in range(110)
    ]
    assert lrs == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(hf_lr.lr_curve(scheduler, 110), lrs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["cosine_annealing_warm_restarts"])
@pytest.mark.parametrize("t_mult", [10**6, 2**53])
def test_huge_cycle_multipliers_keep_both_forms_equal(name: str, t_mult: int) -> None:
    """The vector form's cycle starts once overflowed int64 (``T_mult ** i``): NaN or wrong cycles."""
    schedule = hf_lr.build_schedule(name, T_0=3, T_mult=t_mult, eta_min=1e-3).bind(0.1)
    steps = [*range(40), 10**6, 10**9, 2**53]
    scalars = [schedule(step) for step in steps]
    assert all(math.isfinite(v) and v >= 0 for v in scalars)
    np.testing.assert_allclose(schedule.values(steps), scalars, rtol=1e-12, atol=0)


# Item 8
@pytest.mark.parametrize(
    ("name", "w", "t", "kwargs", "error", "message", "internal"),
    [
        (
            "exponential",
            2,
            None,
            {"gamma": 0.9, "warmup_type": "lin"},
            ValueError,
            r"^`warmup_type` must be one of .*; got warmup_type='lin'$",
            "`kind`",
        ),
        (
            "exponential",
            2,
            None,
            {"gamma": 0.9, "warmup_start_factor": 2},
            ValueError,
            r"^`warmup_start_factor` must be <= 1\.0, got warmup_start_factor=2\.0$",
            "`start_factor`",
        ),
        (
            "cosine_annealing",
            2,
            None,
            {"T_max": 5, "warmup_type": "exponential"},
            ValueError,
            r"`warmup_start_factor` > 0 .* got warmup_start_factor=0\.0",
            "`start_factor`",
        ),
        (
            "warmup_hold_decay",
            2,
            10,
            {"min_lr_ratio": 2},
            ValueError,
            r"^`min_lr_ratio` must be <= 1\.0, got min_lr_ratio=2\.0$",
            "`end`",
        ),
        (
            "warmup_hold_decay",
            2,
            10,
            {"decay_type": "lin"},
            ValueError,
            r"^`decay_type` must be one of .*got decay_type='lin'$",
            "`shape`",
        ),
        ("warmup_hold_decay", 2, 10, {"warmup_type": "lin"}, ValueError, r"^`warmup_type` must be one of", "`kind`"),
        (
            "timm_cosine",
            0,
            0,
            {},
            ValueError,
            r"^`num_training_steps` must be >= 1, got num_training_steps=0$",
            "t_initial",
        ),
        (
            "deepspeed_warmup",
            0,
            None,
            {},
            ValueError,
            r"^`num_warmup_steps` must be >= 1, got num_warmup_steps=0$",
            "warmup_num_steps",
        ),
        ("one_cycle", 0, 3, {"pct_start": 0.1}, ValueError, r"with num_training_steps=3", "total_steps"),
        (
            "one_cycle",
            2,
            6,
            {"pct_start": 0.1},
            ValueError,
            r"with num_training_steps - num_warmup_steps=4",
            "total_steps",
        ),
        (
            "cosine_annealing",
            2,
            "100",
            {},
            TypeError,
            r"^`num_training_steps` must be an integer, got '100' \(str\)$",
            "unsupported operand",
        ),
        (
            "timm_cosine",
            "2",
            100,
            {"warmup_prefix": True},
            TypeError,
            r"^`num_warmup_steps` must be an integer, got '2' \(str\)$",
            "unsupported operand",
        ),
        (
            "timm_cosine",
            2,
            100,
            {"warmup_prefix": "false"},
            TypeError,
            r"^`warmup_prefix` must be a bool, got 'false' \(str\)$",
            "Boolean",
        ),
        (
            "cosine",
            2,
            100,
            [("num_cycles", 1)],
            TypeError,
            r"^`scheduler_specific_kwargs` must be a dict",
            "dictionary update",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None,
)
def test_messages_name_the_argument_the_user_passed(
    name: str, w: Any, t: Any, kwargs: Any, error: type[Exception], message: str, internal: str
) -> None:
    with pytest.raises(error, match=message) as raised:
        hf_lr.get_scheduler(name, make_optimizer(), w, t, kwargs)
    assert internal not in str(raised.value)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("argument", ["num_warmup_steps", "num_training_steps"])
@pytest.mark.parametrize("bad", ["100", 2.5, True, -1], ids=["str", "float", "bool", "negative"])
def test_every_name_checks_the_step_counts_before_using_them(name: str, argument: str, bad: Any) -> None:
    """Also where the name ignores that count: a checked argument is never taken silently, nor used raw."""
    _, _, kwargs = CASES[name].examples[0]
    steps = {"num_warmup_steps": 2, "num_training_steps": 100, argument: bad}
    with pytest.raises(TypeError if bad != -1 else ValueError, match=rf"^`{argument}` must be (an integer|>= 0), got "):
        hf_lr.get_scheduler(name, make_optimizer(), scheduler_specific_kwargs=dict(kwargs), **steps)


# Item 6 (ScheduleLR states)
def _state() -> tuple[Any, dict[str, Any]]:
    scheduler = hf_lr.get_scheduler("cosine", make_optimizer(), 2, 10)
    for _ in range(3):
        scheduler.optimizer.step()
        scheduler.step()
    return hf_lr.get_scheduler("cosine", make_optimizer(), 2, 10), scheduler.state_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"base_lrs": {"0": 0.1}},
            r"state_dict\['base_lrs'\] must be a list with one learning rate per parameter group",
        ),
        ({"base_lrs": [math.nan]}, r"must be finite and >= 0, got nan"),
        ({"_last_lr": [-0.1]}, r"state_dict\['_last_lr'\]\[0\] must be finite and >= 0"),
        ({"hf_lr": "x"}, r"state_dict\['hf_lr'\] must be hf_lr's record"),
        ({"hf_lr": [1]}, r"state_dict\['hf_lr'\] must be hf_lr's record"),
        ({"last_epoch": "3"}, r"`state_dict\['last_epoch'\]` must be an integer, got '3'"),
    ],
    ids=["base_lrs_dict", "base_lrs_nan", "last_lr_negative", "hf_lr_str", "hf_lr_list", "last_epoch_str"],
)
def test_a_damaged_state_is_refused_and_changes_nothing(change: dict[str, Any], message: str) -> None:
    scheduler, state = _state()
    before = (scheduler.last_epoch, list(scheduler.base_lrs), scheduler.get_last_lr())
    with pytest.raises((TypeError, ValueError), match=message):
        scheduler.load_state_dict({**state, **change})
    assert (scheduler.last_epoch, list(scheduler.base_lrs), scheduler.get_last_lr()) == before


def test_a_noam_state_saved_before_its_first_step_loads_and_continues() -> None:
    """``last_epoch == -1`` in a state (a child of a container that has not started): never evaluated at step -1."""
    fresh = hf_lr.get_scheduler("noam", make_optimizer(), 4, None, {"d_model": 16})
    state = {**fresh.state_dict(), "last_epoch": -1}
    scheduler = hf_lr.get_scheduler("noam", make_optimizer(), 4, None, {"d_model": 16})
    scheduler.load_state_dict(state)
    assert scheduler.last_epoch == -1
    scheduler.optimizer.step()
    scheduler.step()
    reference = hf_lr.schedules.Noam(4, d_model=16).bind(0.1)
    assert scheduler.get_last_lr() == [pytest.approx(0.1 * reference(0), rel=1e-15)]
