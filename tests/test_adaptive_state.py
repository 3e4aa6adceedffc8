"""States of the metric-driven schedulers: Transformers' GreedyLR states load into hf_lr's (full and partial, smoothing
window included) and back; every state is checked before anything is loaded; bad arguments raise at construction."""

from __future__ import annotations

import copy
import io
import random
from collections.abc import Callable
from typing import Any

import pytest
import torch
import transformers.optimization as tf_opt
from conftest import group_lrs, make_optimizer
from versions import requires_transformers

import hf_lr

LRS = (0.1, 0.2)


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _in_memory(state: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(state)


def _spiky_metrics(seed: int, count: int = 120) -> list[float]:
    """A loss that falls, stalls and rises, with noise and occasional spikes (2-5x) that a smoothing window remembers."""
    rng = random.Random(seed)
    value, out = 5.0, []
    for _ in range(count):
        value = max(0.5, value + rng.choice([-0.08, -0.05, 0.0, 0.04]))
        metric = value + rng.gauss(0.0, 0.02)
        out.append(metric * rng.uniform(2.0, 5.0) if rng.random() < 0.12 else metric)
    return out


GREEDY_SETTINGS: list[dict[str, Any]] = [
    {"smooth": True, "window_size": 4, "patience": 1, "factor": 0.8},
    {"smooth": True, "window_size": 10, "patience": 0, "factor": 0.5, "min_lr": 1e-3, "max_lr": 0.5, "cooldown": 1},
    {
        "smooth": True,
        "window_size": 3,
        "mode": "max",
        "threshold_mode": "rel",
        "threshold": 0.01,
        "patience": 1,
        "warmup": 2,
    },
    {
        "smooth": True,
        "window_size": 5,
        "patience": 0,
        "factor": 0.5,
        "min_lr": [0.05, 0.01],
        "max_lr": [0.2, 0.3],
        "reset_start": 3,
    },
    {"patience": 2, "threshold_mode": "rel", "threshold": 0.001},
    {"patience": 0, "factor": 0.9, "eps": 0.02},
]


def _settings_id(settings: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in settings.items()) or "defaults"


def _continue(schedulers: list[Any], metrics: list[float]) -> list[list[tuple[float, ...]]]:
    """Step every scheduler with the same metrics; each one's optimizer lrs after every step."""
    runs: list[list[tuple[float, ...]]] = [[] for _ in schedulers]
    for value in metrics:
        for run, scheduler in zip(runs, schedulers):
            scheduler.step(value)
            run.append(group_lrs(scheduler.optimizer))
            assert tuple(float(lr) for lr in scheduler.get_last_lr()) == run[-1]
    return runs


@requires_transformers("greedy")
class TestTransformersGreedyStates:
    @pytest.mark.parametrize("settings", GREEDY_SETTINGS, ids=_settings_id)
    @pytest.mark.parametrize("switch_at", [1, 7, 40])
    @pytest.mark.parametrize("route", [_in_memory, _roundtrip], ids=["in_memory", "weights_only"])
    def test_switching_from_transformers_to_hf_lr_continues_identically(
        self, settings: dict[str, Any], switch_at: int, route: Callable
    ) -> None:
        for seed in range(4):
            metrics = _spiky_metrics(seed)
            theirs = tf_opt.GreedyLR(make_optimizer(LRS), **settings)
            for value in metrics[:switch_at]:
                theirs.step(value)
            ours = hf_lr.GreedyLR(make_optimizer(LRS), **settings)
            ours.load_state_dict(route(theirs.state_dict()))
            assert group_lrs(ours.optimizer) == group_lrs(theirs.optimizer)
            ours_lrs, their_lrs = _continue([ours, theirs], metrics[switch_at:])
            assert ours_lrs == their_lrs, f"seed {seed}"
            assert len(set(their_lrs)) > 1 or settings.get("eps")  # the metrics do move the learning rates

    def test_a_spike_in_the_saved_window_counts_after_the_switch(self) -> None:
        """window_size=2, patience=0, factor=0.5, lr 0.1: 1.0 (raise to 0.2), 3.0 (average 2.0: cut to 0.1), switch,
        then 0.5: the window [3.0, 0.5] averages 1.75, worse than the best 1.0, so a cut to 0.05 (without the saved
        window, 0.5 alone would be an improvement and a raise to 0.2)."""
        settings = {"smooth": True, "window_size": 2, "patience": 0, "factor": 0.5, "min_lr": 1e-4}
        theirs = tf_opt.GreedyLR(make_optimizer((0.1,)), **settings)
        theirs.step(1.0)
        theirs.step(3.0)
        assert theirs.get_last_lr() == [0.1]
        ours = hf_lr.GreedyLR(make_optimizer((0.1,)), **settings)
        ours.load_state_dict(_roundtrip(theirs.state_dict()))
        ours.step(0.5)
        theirs.step(0.5)
        assert ours.get_last_lr() == theirs.get_last_lr() == [0.05]

    @pytest.mark.parametrize("seed", range(12))
    def test_partial_states_take_the_live_values_for_missing_keys_as_transformers_does(self, seed: int) -> None:
        rng = random.Random(seed)
        settings = GREEDY_SETTINGS[seed % 4]
        metrics = _spiky_metrics(seed)
        source = tf_opt.GreedyLR(make_optimizer(LRS), **settings)
        for value in metrics[:30]:
            source.step(value)
        full = source.state_dict()
        partial = {key: value for key, value in full.items() if rng.random() < 0.5}
        if seed % 3 == 0 and "_streaming_avg" in full:  # a partial window too: Transformers' defaults fill it in
            partial["_streaming_avg"] = {"values": full["_streaming_avg"]["values"]}
        # Both fresh schedulers have advanced a little, so that "the live value" differs from a constructor default.
        theirs, ours = tf_opt.GreedyLR(make_optimizer(LRS), **settings), hf_lr.GreedyLR(make_optimizer(LRS), **settings)
        _continue([theirs, ours], metrics[-5:])
        theirs.load_state_dict(copy.deepcopy(partial))
        ours.load_state_dict(copy.deepcopy(partial))
        assert group_lrs(ours.optimizer) == group_lrs(theirs.optimizer)
        ours_lrs, their_lrs = _continue([ours, theirs], metrics[30:])
        assert ours_lrs == their_lrs, sorted(partial)

    def test_an_empty_state_changes_nothing(self) -> None:
        ours = hf_lr.GreedyLR(make_optimizer(LRS), patience=0)
        ours.step(1.0)
        before = ours.state_dict()
        ours.load_state_dict({})
        assert ours.state_dict() == before

    @pytest.mark.parametrize("settings", GREEDY_SETTINGS, ids=_settings_id)
    def test_hf_lr_state_loads_into_transformers_and_continues_identically(self, settings: dict[str, Any]) -> None:
        metrics = _spiky_metrics(7)
        ours = hf_lr.GreedyLR(make_optimizer(LRS), **settings)
        for value in metrics[:40]:
            ours.step(value)
        theirs = tf_opt.GreedyLR(make_optimizer(LRS), **settings)
        theirs.load_state_dict(_roundtrip(ours.state_dict()))
        assert group_lrs(theirs.optimizer) == group_lrs(ours.optimizer)
        ours_lrs, their_lrs = _continue([ours, theirs], metrics[40:])
        assert ours_lrs == their_lrs

    def test_hf_lr_state_keys_are_transformers_keys_and_the_record(self) -> None:
        settings = GREEDY_SETTINGS[0]
        ours, theirs = hf_lr.GreedyLR(make_optimizer(LRS), **settings), tf_opt.GreedyLR(make_optimizer(LRS), **settings)
        assert set(ours.state_dict()) == set(theirs.state_dict()) | {"hf_lr"}
        assert ours.state_dict()["hf_lr"]["type"] == "GreedyLR"

    def test_a_state_in_hf_lrs_earlier_format_still_loads(self) -> None:
        """hf_lr first saved the window as `window` and `window_sum`; such checkpoints continue identically."""
        settings = GREEDY_SETTINGS[1]
        metrics = _spiky_metrics(3)
        first = hf_lr.GreedyLR(make_optimizer(LRS), **settings)
        for value in metrics[:25]:
            first.step(value)
        earlier = first.state_dict()
        window = earlier.pop("_streaming_avg")
        del earlier["hf_lr"]
        earlier.update(window=window["values"], window_sum=window["sum"])
        assert len(earlier["window"]) == 10
        resumed = hf_lr.GreedyLR(make_optimizer(LRS), **settings)
        resumed.load_state_dict(_roundtrip(earlier))
        first_lrs, resumed_lrs = _continue([first, resumed], metrics[25:])
        assert first_lrs == resumed_lrs


#: The checks below load states saved by Transformers' own GreedyLR.
requires_transformers_greedy = requires_transformers("greedy")


def _greedy_state(**settings: Any) -> dict[str, Any]:
    scheduler = tf_opt.GreedyLR(make_optimizer(LRS), smooth=True, window_size=3, patience=1, **settings)
    for value in _spiky_metrics(1)[:10]:
        scheduler.step(value)
    return scheduler.state_dict()


def _set(state: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    state = copy.deepcopy(state)
    target = state
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return state


class TestGreedyStateChecks:
    @requires_transformers_greedy
    def test_a_configuration_mismatch_raises_and_names_the_field(self) -> None:
        ours = hf_lr.GreedyLR(make_optimizer(LRS), smooth=True, window_size=3, patience=2)
        with pytest.raises(hf_lr.ScheduleMismatchError, match=r"patience: saved 1, live 2"):
            ours.load_state_dict(_greedy_state())
        assert ours.patience == 2

    @requires_transformers_greedy
    def test_a_configuration_mismatch_with_strict_false_warns_and_keeps_the_live_configuration(self) -> None:
        saved = _greedy_state()
        ours = hf_lr.GreedyLR(make_optimizer(LRS), smooth=True, window_size=2, patience=2)
        with pytest.warns(UserWarning, match=r"(?s)patience: saved 1, live 2.*window_size: saved 3, live 2"):
            ours.load_state_dict(saved, strict=False)
        assert (ours.patience, ours.window_size) == (2, 2)
        assert ours.best == saved["best"] and ours.get_last_lr() == saved["_last_lr"]
        # The live window is smaller: it keeps the saved window's last values.
        assert list(ours._window) == saved["_streaming_avg"]["values"][-2:]

    @requires_transformers_greedy
    @pytest.mark.parametrize(
        ("path", "value", "error", "message"),
        [
            (
                ("_last_lr",),
                [float("nan"), 0.1],
                ValueError,
                r"state_dict\['_last_lr'\]\[0\] must be finite and >= 0, got nan",
            ),
            (("_last_lr",), [0.1], ValueError, r"`state_dict\['_last_lr'\]` must be a list of 2 learning rates"),
            (
                ("_last_lr",),
                [0.1, -0.2],
                ValueError,
                r"state_dict\['_last_lr'\]\[1\] must be finite and >= 0, got -0\.2",
            ),
            (("_init_lrs",), [float("inf"), 0.1], ValueError, r"state_dict\['_init_lrs'\]\[0\] must be finite"),
            (("best",), float("nan"), ValueError, r"`state_dict\['best'\]` must be a number"),
            (
                ("num_bad_epochs",),
                -1,
                ValueError,
                r"`state_dict\['num_bad_epochs'\]` must be >= 0, got state_dict\['num_bad_epochs'\]=-1",
            ),
            (("num_good_epochs",), "3", TypeError, r"`state_dict\['num_good_epochs'\]` must be an integer, got '3'"),
            (("reset_start",), 0, ValueError, r"`state_dict\['reset_start'\]` must be >= 1"),
            (
                ("reset_start",),
                501,
                ValueError,
                r"`state_dict\['reset_start'\]` must be <= state_dict\['reset_start_original'\]=500",
            ),
            (("last_epoch",), 1.5, TypeError, r"`state_dict\['last_epoch'\]` must be an integer"),
            (("factor",), 1.5, ValueError, r"`state_dict\['factor'\]` must be < 1\.0, got state_dict\['factor'\]=1\.5"),
            (("min_lrs",), [0.001], ValueError, r"`state_dict\['min_lrs'\]` must have one value per parameter group"),
            (("smooth",), "yes", TypeError, r"`state_dict\['smooth'\]` must be a bool"),
            (("_streaming_avg", "values"), [1.0, float("nan")], ValueError, r"_streaming_avg'\]\[1\]` must be finite"),
            (("_streaming_avg", "values"), [1.0, 2.0, 3.0, 4.0], ValueError, r"at most window_size=3 metrics"),
            (("_streaming_avg", "window_size"), 4, ValueError, r"must equal the state's window_size=3, got 4"),
            (("_streaming_avg", "sum"), float("inf"), ValueError, r"_streaming_avg'\] sum` must be finite"),
            (("_streaming_avg",), [1.0, 2.0], ValueError, r"`state_dict\['_streaming_avg'\]` must be a dict"),
        ],
    )
    def test_bad_values_raise_and_change_nothing(
        self, path: tuple[str, ...], value: Any, error: type, message: str
    ) -> None:
        ours = hf_lr.GreedyLR(make_optimizer(LRS), smooth=True, window_size=3, patience=1)
        ours.step(2.0)
        before, lrs = ours.state_dict(), group_lrs(ours.optimizer)
        with pytest.raises(error, match=message):
            ours.load_state_dict(_set(_greedy_state(), path, value))
        assert ours.state_dict() == before and group_lrs(ours.optimizer) == lrs

    @requires_transformers_greedy
    def test_unknown_keys_raise_or_with_strict_false_warn(self) -> None:
        state = {**_greedy_state(), "momentum_window": [1.0]}
        ours = hf_lr.GreedyLR(make_optimizer(LRS), smooth=True, window_size=3, patience=1)
        with pytest.raises(hf_lr.ScheduleMismatchError, match=r"a GreedyLR state has no key 'momentum_window'"):
            ours.load_state_dict(state)
        with pytest.warns(UserWarning, match="'momentum_window'.*ignored"):
            ours.load_state_dict(state, strict=False)
        assert ours.best == state["best"]

    def test_another_schedulers_state_is_refused(self) -> None:
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(LRS)).state_dict()
        ours = hf_lr.GreedyLR(make_optimizer(LRS))
        # torch 2.4's plateau state has no default_min_lr (later releases add it)
        with pytest.raises(hf_lr.ScheduleMismatchError, match=r"key (?:'default_min_lr', )?'mode_worse'"):
            ours.load_state_dict(plateau)
        warmup = hf_lr.get_scheduler("reduce_lr_on_plateau_with_warmup", make_optimizer(LRS), 3).state_dict()
        with pytest.raises(hf_lr.ScheduleMismatchError, match="saved by a WarmupReduceLROnPlateau, not by a GreedyLR"):
            ours.load_state_dict(warmup, strict=False)


PLATEAU_NAMES = ["reduce_lr_on_plateau", "reduce_lr_on_plateau_with_warmup", "greedy"]


def _build(name: str, optimizer: torch.optim.Optimizer, **kwargs: Any) -> Any:
    warmup = kwargs.pop("num_warmup_steps", 4) if name == "reduce_lr_on_plateau_with_warmup" else None
    return hf_lr.get_scheduler(name, optimizer, warmup, scheduler_specific_kwargs=kwargs)


class TestArgumentChecks:
    @pytest.mark.parametrize("name", PLATEAU_NAMES)
    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            (
                {"factor": -5.0},
                ValueError,
                r"`factor` must be >= 0\.0, got factor=-5\.0|`factor` must be > 0\.0, got factor=-5\.0",
            ),
            ({"factor": 1.0}, ValueError, r"`factor` must be < 1\.0, got factor=1\.0"),
            ({"min_lr": -1.0}, ValueError, r"`min_lr` must be >= 0\.0, got min_lr=-1\.0"),
            ({"min_lr": [0.0, -1.0]}, ValueError, r"`min_lr\[1\]` must be >= 0\.0, got min_lr\[1\]=-1\.0"),
            ({"min_lr": [0.0]}, ValueError, r"`min_lr` must have one value per parameter group: expected 2, got 1"),
            ({"patience": "10"}, TypeError, r"`patience` must be an integer, got '10' \(str\)"),
            ({"patience": -1}, ValueError, r"`patience` must be >= 0, got patience=-1"),
            ({"cooldown": 1.5}, TypeError, r"`cooldown` must be an integer, got 1\.5 \(float\)"),
            ({"threshold": -0.1}, ValueError, r"`threshold` must be >= 0\.0, got threshold=-0\.1"),
            (
                {"threshold_mode": "relative"},
                ValueError,
                r"`threshold_mode` must be one of 'rel', 'abs'; got threshold_mode='relative'",
            ),
            ({"mode": "lowest"}, ValueError, r"`mode` must be one of 'min', 'max'; got mode='lowest'"),
            ({"eps": float("nan")}, ValueError, r"`eps` must be finite, got eps=nan"),
        ],
    )
    def test_bad_arguments_raise_at_construction(
        self, name: str, kwargs: dict[str, Any], error: type, message: str
    ) -> None:
        with pytest.raises(error, match=message):
            _build(name, make_optimizer(LRS), **kwargs)

    @pytest.mark.parametrize("name", PLATEAU_NAMES)
    @pytest.mark.parametrize("lr", [float("nan"), -0.1, float("inf")])
    def test_bad_optimizer_learning_rates_raise(self, name: str, lr: float) -> None:
        with pytest.raises(ValueError, match=r"the learning rate of param_groups\[1\] must be finite and >= 0"):
            _build(name, make_optimizer((0.1, lr)))

    def test_the_reported_plateau_case_raises_instead_of_a_negative_lr(self) -> None:
        """Before: factor=-5.0, min_lr=-1.0 drove the lr to -0.5 at the first reduction."""
        with pytest.raises(ValueError, match="`factor` must be >= 0.0, got factor=-5.0"):
            hf_lr.get_scheduler(
                "reduce_lr_on_plateau_with_warmup",
                make_optimizer((0.1,)),
                0,
                scheduler_specific_kwargs={"factor": -5.0, "min_lr": -1.0, "patience": 0},
            )

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"smooth": "False"}, TypeError, r"`smooth` must be a bool, got 'False' \(str\)"),
            ({"verbose": 1}, TypeError, r"`verbose` must be a bool, got 1 \(int\)"),
            ({"reset_start": 0}, ValueError, r"`reset_start` must be >= 1, got reset_start=0"),
            ({"warmup": "2"}, TypeError, r"`warmup` must be an integer, got '2' \(str\)"),
            ({"max_lr": float("inf")}, ValueError, r"`max_lr` must be finite, got max_lr=inf"),
        ],
    )
    def test_greedy_only_arguments(self, kwargs: dict[str, Any], error: type, message: str) -> None:
        with pytest.raises(error, match=message):
            hf_lr.GreedyLR(make_optimizer(LRS), **kwargs)

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"num_warmup_steps": -1}, ValueError, r"`num_warmup_steps` must be >= 0, got num_warmup_steps=-1"),
            ({"warmup_type": "step"}, ValueError, r"`warmup_type` must be one of"),
            ({"warmup_start_factor": 1.5}, ValueError, r"`warmup_start_factor` must be <= 1\.0"),
        ],
    )
    def test_warmup_arguments(self, kwargs: dict[str, Any], error: type, message: str) -> None:
        with pytest.raises(error, match=message):
            hf_lr.adaptive.WarmupReduceLROnPlateau(make_optimizer(LRS), **{"num_warmup_steps": 3, **kwargs})


def _advance(scheduler: Any, metrics: list[float], updates_per_metric: int = 2) -> None:
    for value in metrics:
        for _ in range(updates_per_metric):
            scheduler.optimizer.step()
        scheduler.step(value)


class TestPlateauStates:
    @pytest.mark.parametrize("name", PLATEAU_NAMES)
    @pytest.mark.parametrize("tensor_lr", [False, True], ids=["float_lr", "tensor_lr"])
    def test_own_state_survives_weights_only_and_continues_identically(self, name: str, tensor_lr: bool) -> None:
        metrics = _spiky_metrics(2, 60)
        kwargs = {"patience": 1, "factor": 0.5, "cooldown": 1}
        first = _build(name, make_optimizer(LRS, tensor_lr=tensor_lr), **kwargs)
        _advance(first, metrics[:20])
        resumed = _build(name, make_optimizer(LRS, tensor_lr=tensor_lr), **kwargs)
        resumed.load_state_dict(_roundtrip(first.state_dict()))
        assert group_lrs(resumed.optimizer) == group_lrs(first.optimizer)
        runs = [], []
        for value in metrics[20:]:
            for run, scheduler in zip(runs, (first, resumed)):
                _advance(scheduler, [value])
                run.append(group_lrs(scheduler.optimizer))
        assert runs[0] == runs[1] and len(set(runs[0])) > 1

    def test_torch_states_load_both_ways(self) -> None:
        metrics = _spiky_metrics(4, 60)
        kwargs = {"patience": 2, "factor": 0.3, "min_lr": [0.01, 0.02], "threshold_mode": "abs"}
        theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(LRS), **kwargs)
        ours = hf_lr.get_scheduler("reduce_lr_on_plateau", make_optimizer(LRS), scheduler_specific_kwargs=kwargs)
        _continue([theirs, ours], metrics[:20])
        from_torch = hf_lr.get_scheduler("reduce_lr_on_plateau", make_optimizer(LRS), scheduler_specific_kwargs=kwargs)
        from_torch.load_state_dict(_roundtrip(theirs.state_dict()))
        to_torch = torch.optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(LRS), **kwargs)
        to_torch.load_state_dict(_roundtrip(ours.state_dict()))
        to_torch.optimizer.load_state_dict(ours.optimizer.state_dict())  # torch restores lrs from the optimizer state
        runs = _continue([theirs, ours, from_torch, to_torch], metrics[20:])
        assert runs[0] == runs[1] == runs[2] == runs[3] and len(set(runs[0])) > 1

    def test_warmup_configuration_mismatch_raises_or_with_strict_false_warns(self) -> None:
        saved = hf_lr.adaptive.WarmupReduceLROnPlateau(make_optimizer(LRS), num_warmup_steps=5)
        _advance(saved, [1.0], updates_per_metric=3)
        live = hf_lr.adaptive.WarmupReduceLROnPlateau(make_optimizer(LRS), num_warmup_steps=10)
        with pytest.raises(hf_lr.ScheduleMismatchError, match="num_warmup_steps: saved 5, live 10"):
            live.load_state_dict(_roundtrip(saved.state_dict()))
        assert live.updates == 0
        with pytest.warns(UserWarning, match="num_warmup_steps: saved 5, live 10"):
            live.load_state_dict(_roundtrip(saved.state_dict()), strict=False)
        assert live.num_warmup_steps == 10 and live.updates == 3
        assert group_lrs(live.optimizer) == pytest.approx((0.1 * 3 / 10, 0.2 * 3 / 10))  # the live warmup at update 3

    @pytest.mark.parametrize(
        ("source", "target", "message"),
        [
            ("greedy", "reduce_lr_on_plateau", "saved by a GreedyLR, not by a ReduceLROnPlateau"),
            (
                "reduce_lr_on_plateau_with_warmup",
                "reduce_lr_on_plateau",
                "saved by a WarmupReduceLROnPlateau, not by a ReduceLROnPlateau",
            ),
            (
                "reduce_lr_on_plateau",
                "reduce_lr_on_plateau_with_warmup",
                "saved by a ReduceLROnPlateau, not by a WarmupReduceLROnPlateau",
            ),
            ("linear", "reduce_lr_on_plateau", "saved by a ScheduleLR, not by a ReduceLROnPlateau"),
            pytest.param(
                "transformers_greedy",
                "reduce_lr_on_plateau",
                r"a ReduceLROnPlateau state has no key .*'num_good_epochs'",
                marks=requires_transformers("greedy"),
            ),
            pytest.param(
                "transformers_greedy",
                "reduce_lr_on_plateau_with_warmup",
                r"not a WarmupReduceLROnPlateau state: missing updates",
                marks=requires_transformers("greedy"),
            ),
            ("transformers_linear", "reduce_lr_on_plateau", r"has no key .*'base_lrs'"),
            (
                "torch_plateau",
                "reduce_lr_on_plateau_with_warmup",
                r"not a WarmupReduceLROnPlateau state: missing updates, num_warmup_steps",
            ),
        ],
    )
    def test_another_schedulers_state_is_refused(self, source: str, target: str, message: str) -> None:
        optimizer = make_optimizer(LRS)
        if source == "transformers_greedy":
            state = tf_opt.GreedyLR(optimizer).state_dict()
        elif source == "transformers_linear":
            state = tf_opt.get_linear_schedule_with_warmup(optimizer, 2, 10).state_dict()
        elif source == "torch_plateau":
            state = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer).state_dict()
        else:
            warmup = 2 if source in ("linear", "reduce_lr_on_plateau_with_warmup") else None
            state = hf_lr.get_scheduler(source, optimizer, warmup, 10 if source == "linear" else None).state_dict()
        scheduler = _build(target, make_optimizer(LRS))
        before = dict(scheduler.state_dict().items())
        with pytest.raises(ValueError, match=message):
            scheduler.load_state_dict(_roundtrip(state))
        assert scheduler.state_dict() == before

    @pytest.mark.parametrize("name", ["reduce_lr_on_plateau", "reduce_lr_on_plateau_with_warmup"])
    @pytest.mark.parametrize(
        ("key", "value", "error", "message"),
        [
            ("_last_lr", [float("nan"), 0.1], ValueError, r"state_dict\['_last_lr'\]\[0\] must be finite and >= 0"),
            ("_last_lr", [0.1, 0.1, 0.1], ValueError, r"`state_dict\['_last_lr'\]` must be a list of 2 learning rates"),
            ("min_lrs", [0.0, -1.0], ValueError, r"`state_dict\['min_lrs'\]\[1\]` must be >= 0\.0"),
            ("factor", -5.0, ValueError, r"`state_dict\['factor'\]` must be >= 0\.0, got state_dict\['factor'\]=-5\.0"),
            ("patience", "10", TypeError, r"`state_dict\['patience'\]` must be an integer, got '10'"),
            ("best", float("nan"), ValueError, r"`state_dict\['best'\]` must be a number"),
            ("num_bad_epochs", -2, ValueError, r"`state_dict\['num_bad_epochs'\]` must be >= 0"),
            ("cooldown_counter", None, TypeError, r"`state_dict\['cooldown_counter'\]` must be an integer"),
            (
                "mode_worse",
                float("-inf"),
                ValueError,
                r"`state_dict\['mode_worse'\]` must be inf in mode 'min', got -inf",
            ),
        ],
    )
    def test_bad_values_raise_and_change_nothing(
        self, name: str, key: str, value: Any, error: type, message: str
    ) -> None:
        source = _build(name, make_optimizer(LRS), patience=1)
        _advance(source, [3.0, 2.0, 2.5, 2.5])
        scheduler = _build(name, make_optimizer(LRS), patience=1)
        before, lrs = scheduler.state_dict(), group_lrs(scheduler.optimizer)
        with pytest.raises(error, match=message):
            scheduler.load_state_dict({**source.state_dict(), key: value})
        assert scheduler.state_dict() == before and group_lrs(scheduler.optimizer) == lrs

    @pytest.mark.parametrize(
        ("key", "value", "message"),
        [
            ("updates", -1, r"`state_dict\['updates'\]` must be >= 0"),
            ("base_lrs", [0.1], r"`state_dict\['base_lrs'\]` must be a list of 2 learning rates"),
            ("base_lrs", [0.1, float("nan")], r"state_dict\['base_lrs'\]\[1\] must be finite and >= 0"),
            ("warmup_type", "step", r"`state_dict\['warmup_type'\]` must be one of"),
        ],
    )
    def test_bad_warmup_values_raise(self, key: str, value: Any, message: str) -> None:
        state = hf_lr.adaptive.WarmupReduceLROnPlateau(make_optimizer(LRS), num_warmup_steps=4).state_dict()
        with pytest.raises(ValueError, match=message):
            hf_lr.adaptive.WarmupReduceLROnPlateau(make_optimizer(LRS), num_warmup_steps=4).load_state_dict(
                {**state, key: value}
            )


def test_a_state_saved_before_warmup_kind_was_renamed_loads() -> None:
    """hf_lr 0.1.0 saved WarmupReduceLROnPlateau's warmup shape as `warmup_kind`; such a state still loads (and a
    different saved shape is still refused)."""
    saved = hf_lr.adaptive.WarmupReduceLROnPlateau(make_optimizer(LRS), num_warmup_steps=4, warmup_type="cosine")
    state = saved.state_dict()
    state["warmup_kind"] = state.pop("warmup_type")
    live = hf_lr.adaptive.WarmupReduceLROnPlateau(make_optimizer(LRS), num_warmup_steps=4, warmup_type="cosine")
    live.load_state_dict(state)
    assert live.warmup_type == "cosine"
    other = hf_lr.adaptive.WarmupReduceLROnPlateau(make_optimizer(LRS), num_warmup_steps=4)
    with pytest.raises(hf_lr.ScheduleMismatchError, match="warmup_type: saved 'cosine', live 'linear'"):
        other.load_state_dict(state)
    with pytest.warns(FutureWarning, match="`warmup_kind` is now called `warmup_type`"):
        former = hf_lr.adaptive.WarmupReduceLROnPlateau(make_optimizer(LRS), num_warmup_steps=4, warmup_kind="cosine")
    assert former.warmup_type == "cosine"
