"""``greedy``: hf_lr's GreedyLR gives Transformers' GreedyLR learning rates for the same metric sequences."""

from __future__ import annotations

import io
import pickle
import random
from typing import Any

import pytest
import torch
import transformers.optimization as tf_opt
from conftest import make_optimizer
from versions import requires_transformers

import hf_lr

SETTINGS: list[dict[str, Any]] = [
    {},
    {"patience": 2, "factor": 0.5, "min_lr": 1e-3, "max_lr": 0.5},
    {"mode": "max", "threshold_mode": "rel", "threshold": 0.01, "patience": 1},
    {"mode": "min", "threshold_mode": "rel", "threshold": 0.05, "cooldown": 2, "warmup": 3, "patience": 1},
    {"smooth": True, "window_size": 4, "patience": 1, "factor": 0.8},
    {"patience": 0, "factor": 0.5, "min_lr": [0.05, 0.01], "max_lr": [0.2, 0.3], "reset_start": 3},
    {"patience": 0, "factor": 0.9, "eps": 0.02},
]


def _metrics(seed: int, count: int = 300) -> list[float]:
    rng = random.Random(seed)
    value, out = 5.0, []
    for step in range(count):  # phases of improvement, plateaus and noise
        phase = (step // 25) % 3
        value += -0.05 if phase == 0 else (0.0 if phase == 1 else 0.03)
        out.append(value + rng.gauss(0.0, 0.02) * (phase != 1))
    return out


def _run(module: Any, settings: dict[str, Any], metrics: list[float]) -> list[tuple[float, ...]]:
    optimizer = make_optimizer((0.1, 0.2))
    scheduler = module.get_greedy_schedule(optimizer, **settings)
    out = []
    for value in metrics:
        scheduler.step(value)
        out.append(tuple(float(g["lr"]) for g in optimizer.param_groups))
    return out


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "defaults")
@pytest.mark.parametrize("seed", [0, 1, 2])
@requires_transformers("greedy")
def test_learning_rates_equal_transformers(settings: dict[str, Any], seed: int) -> None:
    metrics = _metrics(seed)
    ours, theirs = _run(hf_lr, settings, metrics), _run(tf_opt, settings, metrics)
    assert ours == theirs
    assert len(set(ours)) > 1 or settings.get("eps")  # the sequences do move the learning rate


def test_trainer_treats_it_as_a_plateau_scheduler_and_it_comes_from_get_scheduler() -> None:
    scheduler = hf_lr.get_scheduler("greedy", make_optimizer(), 0, 100, {"patience": 3})
    assert isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    assert isinstance(scheduler, hf_lr.GreedyLR)


def test_state_round_trip_with_weights_only_continues_identically() -> None:
    metrics = _metrics(5)
    optimizer = make_optimizer((0.1, 0.2))
    scheduler = hf_lr.GreedyLR(optimizer, smooth=True, window_size=5, patience=1, cooldown=1)
    for value in metrics[:100]:
        scheduler.step(value)
    buffer = io.BytesIO()
    torch.save(scheduler.state_dict(), buffer)
    buffer.seek(0)
    resumed_optimizer = make_optimizer((0.1, 0.2))
    resumed = hf_lr.GreedyLR(resumed_optimizer, smooth=True, window_size=5, patience=1, cooldown=1)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    copy = pickle.loads(pickle.dumps(scheduler))
    for value in metrics[100:]:
        for s in (scheduler, resumed, copy):
            s.step(value)
        assert resumed.get_last_lr() == scheduler.get_last_lr() == copy.get_last_lr()
    assert [float(g["lr"]) for g in resumed_optimizer.param_groups] == scheduler.get_last_lr()


def test_tensor_lrs_are_updated_in_place() -> None:
    optimizer = make_optimizer((0.1,), tensor_lr=True)
    tensor = optimizer.param_groups[0]["lr"]
    scheduler = hf_lr.GreedyLR(optimizer, patience=0, factor=0.5, min_lr=0.0)
    scheduler.step(1.0)  # improvement: 0.1 / 0.5
    assert optimizer.param_groups[0]["lr"] is tensor and float(tensor) == 0.2
    scheduler.step(2.0)  # stall: 0.2 * 0.5
    assert optimizer.param_groups[0]["lr"] is tensor and float(tensor) == 0.1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"factor": 1.0}, r"`factor` must be < 1\.0, got factor=1\.0"),
        ({"mode": "lowest"}, r"`mode` must be one of 'min', 'max'; got mode='lowest'"),
        ({"min_lr": 0.5, "max_lr": 0.1}, r"`min_lr` must be <= `max_lr`, got min_lr=0\.5, max_lr=0\.1"),
        ({"min_lr": [0.1]}, r"`min_lr` must have one value per parameter group: expected 2, got 1"),
        ({"window_size": 0}, r"`window_size` must be >= 1, got window_size=0"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hf_lr.GreedyLR(make_optimizer((0.1, 0.2)), **kwargs)


def test_a_nan_metric_raises() -> None:
    """Transformers counts NaN as a stall (and a smoothed window stays NaN for good); hf_lr raises."""
    with pytest.raises(ValueError, match="finite metric, got metrics=nan"):
        hf_lr.GreedyLR(make_optimizer()).step(float("nan"))


def _plateau_run(make: Any, metrics: list[float], updates_per_eval: int = 3) -> list[tuple[float, ...]]:
    optimizer = make_optimizer((0.1, 0.2))
    scheduler = make(optimizer)
    out = []
    for value in metrics:
        for _ in range(updates_per_eval):
            out.append(tuple(float(g["lr"]) for g in optimizer.param_groups))
            optimizer.step()
        scheduler.step(value)
    return out


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"patience": 1, "factor": 0.5, "cooldown": 1},
        {"mode": "max", "threshold_mode": "abs", "min_lr": [0.01, 0.05]},
    ],
)
def test_warmup_plateau_equals_torch_after_warmup(settings: dict[str, Any]) -> None:
    warmup, metrics = 12, _metrics(3, 60)
    ours = _plateau_run(
        lambda o: hf_lr.get_scheduler(
            "reduce_lr_on_plateau_with_warmup", o, warmup, scheduler_specific_kwargs=settings
        ),
        metrics,
    )
    # Evaluations after updates 3, 6, 9 come during warmup and are ignored; the one after update 12 counts. Torch is
    # fed the counted metrics; its first 3 updates (before its first metric) have no counterpart after our warmup.
    ignored = (warmup - 1) // 3
    theirs = _plateau_run(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **settings), metrics[ignored:])[3:]
    assert list(ours[:warmup]) == [pytest.approx((0.1 * k / warmup, 0.2 * k / warmup)) for k in range(warmup)]
    assert ours[warmup:] == theirs[: len(ours) - warmup]
    assert len(set(theirs)) > 1  # the metrics did move the learning rate


def test_warmup_plateau_state_survives_weights_only_and_pickle() -> None:
    metrics = _metrics(4, 40)
    optimizer = make_optimizer((0.1, 0.2))
    scheduler = hf_lr.adaptive.WarmupReduceLROnPlateau(optimizer, num_warmup_steps=20, warmup_type="cosine", patience=1)
    for value in metrics[:5]:  # 15 updates: still in warmup
        for _ in range(3):
            optimizer.step()
        scheduler.step(value)
    buffer = io.BytesIO()
    torch.save({"scheduler": scheduler.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed_optimizer = make_optimizer((0.1, 0.2))
    resumed = hf_lr.adaptive.WarmupReduceLROnPlateau(
        resumed_optimizer, num_warmup_steps=20, warmup_type="cosine", patience=1
    )
    resumed_optimizer.load_state_dict(saved["optimizer"])
    resumed.load_state_dict(saved["scheduler"])
    copy = pickle.loads(pickle.dumps(scheduler))
    assert resumed.updates == copy.updates == 15
    for value in metrics[5:]:
        for _ in range(3):
            for opt in (optimizer, resumed_optimizer, copy.optimizer):
                opt.step()
        for s in (scheduler, resumed, copy):
            s.step(value)
        assert resumed.get_last_lr() == scheduler.get_last_lr() == copy.get_last_lr()
    assert scheduler.updates == 15 + 3 * 35 and not scheduler.in_warmup
