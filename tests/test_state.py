"""Scheduler state: plain values only, safe to load, self-describing, and picklable; no ``total_steps``."""

from __future__ import annotations

import io
import pickle
import warnings
from typing import Any

import pytest
import torch
import transformers.optimization as tf_opt
from conftest import group_lrs, make_optimizer, scheduler_for
from registry_cases import example_id, examples

import hf_lr

ALL_EXAMPLES = examples(closed_form_only=False)


def _plain(value: Any, path: str = "state") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path}: key {key!r}"
            _plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _plain(item, f"{path}[{index}]")
    else:
        assert value is None or type(value) in (int, float, str, bool), f"{path} is {type(value).__name__}: {value!r}"


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), examples(), ids=example_id)
@pytest.mark.parametrize("tensor_lr", [False, True], ids=["float_lr", "tensor_lr"])
def test_state_dict_is_plain_values_and_records_the_configuration(
    name: str, w: Any, t: Any, kwargs: dict[str, Any], tensor_lr: bool
) -> None:
    optimizer = make_optimizer((0.1, 0.05), tensor_lr=tensor_lr)
    scheduler = scheduler_for(name, w, t, kwargs)(optimizer)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    state = scheduler.state_dict()
    _plain(state)
    assert _roundtrip(state) == state
    configs = state["hf_lr"]["schedules"]
    assert len(configs) == 2 and configs[0] == configs[1]
    source = state["hf_lr"]["source"]
    assert (source["name"], source["num_warmup_steps"], source["num_training_steps"]) == (name, w, t)
    for key, value in kwargs.items():
        assert source["scheduler_specific_kwargs"][key] == (
            value if not callable(value) else f"{value.__module__}.{value.__qualname__}"
        )
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key in STRUCTURAL:
            recorded = _recorded(configs[0], key, value) or _recorded(configs[0], ALIASES.get(key, key), value)
            assert recorded, f"{key}={value!r} not in {configs[0]}"


# Parameters the schedule structure itself records (under the same name, or the alias: a join's boundary).
STRUCTURAL = {"gamma", "T_max", "eta_min", "num_cycles", "lr_end", "power", "step_size", "T_0", "d_model", "hold_steps"}
ALIASES = {"hold_steps": "boundaries"}


def _recorded(config: Any, key: str, value: Any) -> bool:
    """Whether some level of a (nested) configuration holds ``key == value``."""
    if isinstance(config, dict):
        here = config.get(key)
        return (
            here == value
            or (isinstance(here, list) and value in here)
            or any(_recorded(v, key, value) for v in config.values())
        )
    if isinstance(config, list):
        return any(_recorded(v, key, value) for v in config)
    return False


def test_configuration_mismatch_on_load_raises_and_names_the_field() -> None:
    saved = hf_lr.get_linear_schedule_with_warmup(make_optimizer(), 10, 1000).state_dict()
    live = hf_lr.get_linear_schedule_with_warmup(make_optimizer(), 10, 2000)
    with pytest.raises(hf_lr.ScheduleMismatchError, match=r"0\.num_training_steps: saved 1000, live 2000"):
        live.load_state_dict(_roundtrip(saved))
    other_kind = hf_lr.get_cosine_schedule_with_warmup(make_optimizer(), 10, 1000)
    with pytest.raises(
        hf_lr.ScheduleMismatchError, match=r"0\.type: saved 'LinearWithWarmup', live 'CosineWithWarmup'"
    ):
        other_kind.load_state_dict(saved)


def test_configuration_mismatch_with_strict_false_warns_and_keeps_the_live_schedule() -> None:
    optimizer = make_optimizer()
    first = hf_lr.get_linear_schedule_with_warmup(optimizer, 0, 1000)
    for _ in range(5):
        optimizer.step()
        first.step()
    live = hf_lr.get_linear_schedule_with_warmup(make_optimizer(), 0, 2000)
    with pytest.warns(UserWarning, match="num_training_steps"):
        live.load_state_dict(first.state_dict(), strict=False)
    assert live.last_epoch == 5
    assert live.schedule_configs()[0]["num_training_steps"] == 2000


def _renamed(config: Any, old: str, new: str) -> Any:
    if isinstance(config, dict):
        return {
            key: new if key == "type" and value == old else _renamed(value, old, new) for key, value in config.items()
        }
    if isinstance(config, list):
        return [_renamed(item, old, new) for item in config]
    return config


def test_a_state_recorded_with_the_former_constant1_type_still_loads() -> None:
    """``Constant1`` (hf_lr.compose) is now ``Constant``: states saved when joins recorded it load unchanged."""
    from hf_lr.compose import Constant1

    assert Constant1 is hf_lr.schedules.Constant
    optimizer = make_optimizer()
    saved = hf_lr.get_scheduler("warmup_hold_decay", optimizer, 2, 20, {"hold_steps": 5}).state_dict()
    assert '"Constant"' in repr(saved["hf_lr"]["schedules"]).replace("'", '"')
    saved["hf_lr"]["schedules"] = _renamed(saved["hf_lr"]["schedules"], "Constant", "Constant1")
    live = hf_lr.get_scheduler("warmup_hold_decay", make_optimizer(), 2, 20, {"hold_steps": 5})
    live.load_state_dict(_roundtrip(saved))
    assert live.last_epoch == saved["last_epoch"]


def _field_renamed(config: Any, kind: str, new: str, old: str) -> Any:
    """`config` as an earlier hf_lr saved it: field `new` of every `kind` schedule under its former name `old`."""
    if isinstance(config, dict):
        return {
            (old if key == new and config.get("type") == kind else key): _field_renamed(value, kind, new, old)
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [_field_renamed(item, kind, new, old) for item in config]
    return config


def test_states_recorded_with_former_field_names_still_load() -> None:
    """hf_lr 0.1.0 recorded Warmup's `kind` and Decay's and Extension's `shape` (now `warmup_type` and `decay_type`,
    Transformers' names): such states load and resume where they were; a real difference is still refused."""
    kwargs = {"hold_steps": 5, "decay_type": "linear", "warmup_type": "cosine"}
    scheduler = hf_lr.get_scheduler("warmup_hold_decay", make_optimizer(), 4, 40, kwargs, completed_steps=12)
    scheduler.extend(60, "rewarm", num_warmup_steps=3, decay_type="1-sqrt")
    saved = scheduler.state_dict()
    old = saved["hf_lr"]["schedules"]
    for kind, new, former in (
        ("Warmup", "warmup_type", "kind"),
        ("Decay", "decay_type", "shape"),
        ("Extension", "decay_type", "shape"),
    ):
        old = _field_renamed(old, kind, new, former)
    assert "'kind': 'cosine'" in repr(old) and "'shape': '1-sqrt'" in repr(old) and "'shape': 'linear'" in repr(old)
    saved["hf_lr"]["schedules"] = old
    live = hf_lr.get_scheduler("warmup_hold_decay", make_optimizer(), 4, 40, kwargs)
    live.load_state_dict(_roundtrip(saved))
    assert live.last_epoch == scheduler.last_epoch
    assert hf_lr.lr_curve(live, 70).tolist() == hf_lr.lr_curve(scheduler, 70).tolist()
    other = hf_lr.get_scheduler("warmup_hold_decay", make_optimizer(), 4, 40, {**kwargs, "warmup_type": "linear"})
    with pytest.raises(hf_lr.ScheduleMismatchError, match="schedule.warmup_type: saved 'cosine'"):
        other.load_state_dict(_roundtrip(saved))


def test_a_transformers_lambdalr_state_loads_with_a_warning() -> None:
    """Switching from Transformers to hf_lr mid-training: the step count carries over."""
    optimizer = make_optimizer()
    theirs = tf_opt.get_linear_schedule_with_warmup(optimizer, 5, 50)
    for _ in range(7):
        optimizer.step()
        theirs.step()
    ours = hf_lr.get_linear_schedule_with_warmup(make_optimizer(), 5, 50)
    with pytest.warns(UserWarning, match="no hf_lr schedule record"):
        ours.load_state_dict(theirs.state_dict())
    assert ours.last_epoch == theirs.last_epoch == 7
    optimizer.step()
    theirs.step()
    ours.step()
    assert ours.get_last_lr() == theirs.get_last_lr()


def test_loading_something_that_is_not_a_scheduler_state_raises() -> None:
    scheduler = hf_lr.get_constant_schedule(make_optimizer())
    with pytest.raises(ValueError, match="missing last_epoch, base_lrs"):
        scheduler.load_state_dict({"foo": 1})


def test_group_count_mismatch_on_load_raises() -> None:
    state = hf_lr.get_constant_schedule(make_optimizer((0.1, 0.2))).state_dict()
    scheduler = hf_lr.get_constant_schedule(make_optimizer((0.1,)))
    with pytest.raises(ValueError, match="2 values in 'base_lrs', the optimizer has 1 parameter groups"):
        scheduler.load_state_dict(state)


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), ALL_EXAMPLES, ids=example_id)
def test_pickle_round_trip_continues_identically(name: str, w: Any, t: Any, kwargs: dict[str, Any]) -> None:
    optimizer = make_optimizer((0.1, 0.05))
    scheduler = scheduler_for(name, w, t, kwargs)(optimizer)

    def advance(opt: torch.optim.Optimizer, sched: Any, steps: int) -> list[tuple[float, ...]]:
        out = []
        for step in range(steps):
            out.append(group_lrs(opt))
            opt.step()
            sched.step(1.0 / (step + 1)) if isinstance(
                sched, torch.optim.lr_scheduler.ReduceLROnPlateau
            ) else sched.step()
        return out

    advance(optimizer, scheduler, 4)
    copy = pickle.loads(pickle.dumps(scheduler))
    assert type(copy) is type(scheduler)
    assert advance(copy.optimizer, copy, 30) == advance(optimizer, scheduler, 30)


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), ALL_EXAMPLES, ids=example_id)
def test_no_total_steps_attribute(name: str, w: Any, t: Any, kwargs: dict[str, Any]) -> None:
    """Accelerate takes any scheduler with ``total_steps`` for a OneCycleLR and stops stepping it."""
    scheduler = scheduler_for(name, w, t, kwargs)(make_optimizer())
    assert not hasattr(scheduler, "total_steps")


def test_scheduler_is_a_lambdalr_and_steps_under_accelerate() -> None:
    from accelerate.scheduler import AcceleratedScheduler

    optimizer = make_optimizer()
    scheduler = hf_lr.get_linear_schedule_with_warmup(optimizer, 2, 10)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    wrapped = AcceleratedScheduler(scheduler, optimizer, step_with_optimizer=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            optimizer.step()
            wrapped.step()
    assert scheduler.last_epoch == 3
    assert wrapped.get_last_lr() == [pytest.approx(0.0875)]


@pytest.mark.parametrize("optimizer_first", [True, False], ids=["optimizer-first", "scheduler-first"])
def test_scheduler_state_restores_its_own_state_and_leaves_the_optimizer_lrs_to_the_optimizer(
    optimizer_first: bool,
) -> None:
    """As torch's schedulers: the optimizer's lrs come back with the optimizer's state (so that a container's other
    children keep theirs); the scheduler restores its step, base lrs and last lrs, in either load order."""
    optimizer = make_optimizer((0.1, 0.2))
    scheduler = hf_lr.get_linear_schedule_with_warmup(optimizer, 2, 10)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    fresh_optimizer = make_optimizer((0.1, 0.2))
    fresh = hf_lr.get_linear_schedule_with_warmup(fresh_optimizer, 2, 10)
    before = [g["lr"] for g in fresh_optimizer.param_groups]
    if optimizer_first:
        fresh_optimizer.load_state_dict(_roundtrip(optimizer.state_dict()))
    fresh.load_state_dict(_roundtrip(scheduler.state_dict()))
    if not optimizer_first:
        assert [g["lr"] for g in fresh_optimizer.param_groups] == before  # untouched by the scheduler's state
        fresh_optimizer.load_state_dict(_roundtrip(optimizer.state_dict()))
    assert (
        [g["lr"] for g in fresh_optimizer.param_groups]
        == [g["lr"] for g in optimizer.param_groups]
        == scheduler.get_last_lr()
    )
    assert fresh.get_last_lr() == scheduler.get_last_lr()
    assert (fresh.last_epoch, fresh._step_count) == (scheduler.last_epoch, scheduler._step_count)
    for _ in range(5):
        fresh_optimizer.step()
        fresh.step()
        optimizer.step()
        scheduler.step()
        assert fresh.get_last_lr() == scheduler.get_last_lr()
