"""The opt-in options: hold the end (``hold_end``), a warmup start factor (``warmup_start_factor``), lengths in epochs
(``steps_per_epoch``, ``staircase``). Per-group lr logs in Trainer are in ``test_trainer_integration.py``.

Off, each option leaves Transformers' and torch's numbers alone (``test_parity.py``, ``test_torch_parity.py``). On,
each is compared here with an independent computation: Transformers' or torch's own numbers where the option does not
change them, the option's formula where it does, and torch's schedulers stepped once per epoch for lengths in epochs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
import transformers.optimization as tf_opt
from conftest import make_optimizer, trajectory
from torch.optim import lr_scheduler as torch_sched
from versions import requires_transformers

import hf_lr

LRS = (0.1, 0.05)


def _transformers(
    name: str, w: int | None, t: int | None, kwargs: dict[str, Any], steps: int
) -> list[tuple[float, ...]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return trajectory(lambda o: tf_opt.get_scheduler(name, o, w, t, dict(kwargs)), steps, LRS, train=False)


def _ours(name: str, w: int | None, t: int | None, kwargs: dict[str, Any], steps: int) -> list[tuple[float, ...]]:
    return trajectory(lambda o: hf_lr.get_scheduler(name, o, w, t, dict(kwargs)), steps, LRS, train=False)


# ---------------------------------------------------------------------------------------------------- hold the end

WARMUP_MIN_LR = requires_transformers("cosine_warmup_with_min_lr")
HOLD_CASES = [
    ("cosine", 3, 20, {}),
    ("cosine", 3, 20, {"num_cycles": 0.75}),  # ends at 0.5, not at the minimum: that value is held
    ("cosine", 5, 5, {}),  # warmup fills the run: Transformers alternates 1, 0, 1, ... after it
    ("cosine", 0, 1, {}),
    ("cosine_with_min_lr", 3, 20, {"min_lr_rate": 0.1}),
    ("cosine_with_min_lr", 2, 15, {"min_lr": 1e-3, "num_cycles": 1.25}),
    pytest.param("cosine_warmup_with_min_lr", 3, 20, {"min_lr_rate": 0.1}, marks=WARMUP_MIN_LR),
    pytest.param("cosine_warmup_with_min_lr", 4, 4, {"min_lr_rate": 0.1, "warmup_lr_rate": 0.2}, marks=WARMUP_MIN_LR),
    pytest.param("cosine_warmup_with_min_lr", 0, 1, {"min_lr_rate": 0.2}, marks=WARMUP_MIN_LR),
]


def _end(name: str, t: int) -> int:
    """The step whose value is held: T, or T - 1 for cosine_warmup_with_min_lr (it reaches its floor at T - 1)."""
    return t - 1 if name == "cosine_warmup_with_min_lr" else t


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), HOLD_CASES)
def test_hold_end_keeps_transformers_numbers_up_to_the_end_then_the_end_value(
    name: str, w: int, t: int, kwargs: dict[str, Any]
) -> None:
    steps = 3 * t + 10
    theirs = _transformers(name, w, t, kwargs, steps)
    ours = _ours(name, w, t, {**kwargs, "hold_end": True}, steps)
    end = _end(name, t)
    assert ours[: end + 1] == theirs[: end + 1]
    assert ours[end:] == [theirs[end]] * (steps - end)
    assert theirs[end:] != [theirs[end]] * (steps - end)  # Transformers moves on past the end: the option matters


@pytest.mark.parametrize(
    ("factory", "args", "kwargs", "name"),
    [
        ("get_cosine_schedule_with_warmup", (3, 20), {}, "cosine"),
        ("get_cosine_with_min_lr_schedule_with_warmup", (3, 20), {"min_lr": 1e-3}, "cosine_with_min_lr"),
        (
            "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
            (3, 20),
            {"min_lr_rate": 0.1, "warmup_lr_rate": 0.2},
            "cosine_warmup_with_min_lr",
        ),
    ],
)
def test_hold_end_in_the_factories_is_get_schedulers(
    factory: str, args: tuple[int, int], kwargs: dict[str, Any], name: str
) -> None:
    by_factory = trajectory(lambda o: getattr(hf_lr, factory)(o, *args, **kwargs, hold_end=True), 50, LRS, train=False)
    assert by_factory == _ours(name, *args, {**kwargs, "hold_end": True}, 50)
    assert by_factory[_end(name, args[1]) :] == [by_factory[-1]] * (50 - _end(name, args[1]))


def test_cosine_annealing_hold_end_stays_at_eta_min_where_torch_rises_again() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = trajectory(lambda o: torch_sched.CosineAnnealingLR(o, T_max=7, eta_min=1e-3), 30, LRS, train=False)
    ours = _ours("cosine_annealing", None, None, {"T_max": 7, "eta_min": 1e-3, "hold_end": True}, 30)
    for step in range(30):
        expected = theirs[min(step, 7)]
        assert ours[step] == pytest.approx(expected, rel=1e-12), step
    assert theirs[8] != pytest.approx(theirs[7], rel=1e-3)


def test_cosine_with_restarts_takes_no_hold_end_it_already_holds_zero() -> None:
    assert _transformers("cosine_with_restarts", 2, 10, {"num_cycles": 1.5}, 30)[10:] == [(0.0, 0.0)] * 20
    with pytest.raises(TypeError, match=r"unknown argument\(s\) 'hold_end'.*accepts: num_cycles, warmup_start_factor"):
        hf_lr.get_scheduler("cosine_with_restarts", make_optimizer(), 2, 10, {"hold_end": True})


def test_hold_end_is_recorded_in_the_state_and_checked_on_resume() -> None:
    held = hf_lr.get_scheduler("cosine", make_optimizer(), 2, 10, {"hold_end": True})
    assert held.state_dict()["hf_lr"]["schedules"][0]["hold_end"] is True
    plain = hf_lr.get_scheduler("cosine", make_optimizer(), 2, 10)
    # Options at their defaults are not recorded: states saved before the options existed still load.
    assert plain.state_dict()["hf_lr"]["schedules"][0] == {
        "type": "CosineWithWarmup", "num_warmup_steps": 2, "num_training_steps": 10, "num_cycles": 0.5,
    }  # fmt: skip
    with pytest.raises(hf_lr.ScheduleMismatchError, match="hold_end: saved True, live '<missing>'"):
        plain.load_state_dict(held.state_dict())


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("yes", TypeError, r"`hold_end` must be a bool \(True or False\), got 'yes' \(str\)"),
        (1, TypeError, "`hold_end` must be a bool"),
    ],
)
def test_hold_end_must_be_a_bool(value: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        hf_lr.get_scheduler("cosine", make_optimizer(), 2, 10, {"hold_end": value})
    with pytest.raises(error, match=message):
        hf_lr.get_cosine_with_min_lr_schedule_with_warmup(make_optimizer(), 2, 10, min_lr_rate=0.1, hold_end=value)
    with pytest.raises(error, match=message):
        hf_lr.equivalents.CosineAnnealing(T_max=4, hold_end=value)


# ------------------------------------------------------------------------------------------- warmup start factor

WARMUP_NAMES = [
    ("linear", 4, 20, {}),
    ("cosine", 4, 20, {}),
    ("cosine_with_restarts", 4, 20, {"num_cycles": 2}),
    ("polynomial", 4, 20, {"lr_end": 1e-3, "power": 2.0}),
    ("constant_with_warmup", 4, None, {}),
    ("cosine_with_min_lr", 4, 20, {"min_lr_rate": 0.1}),
    ("inverse_sqrt", 4, None, {}),
]


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), WARMUP_NAMES)
@pytest.mark.parametrize("factor", [0.25, 0.01, 1.0])
def test_warmup_start_factor_ramps_from_it_then_follows_transformers(
    name: str, w: int, t: int | None, kwargs: dict[str, Any], factor: float
) -> None:
    theirs = _transformers(name, w, t, kwargs, 40)
    ours = _ours(name, w, t, {**kwargs, "warmup_start_factor": factor}, 40)
    for step in range(w):  # linear from `factor` at step 0 to 1 at step w
        expected = tuple(lr * (factor + (1.0 - factor) * step / w) for lr in LRS)
        assert ours[step] == pytest.approx(expected, rel=1e-15), step
    assert ours[w:] == theirs[w:]
    assert theirs[0] == (0.0, 0.0) and ours[0] != theirs[0]


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), WARMUP_NAMES + [("linear", 0, 10, {})])
def test_warmup_start_factor_zero_is_transformers_float_for_float(
    name: str, w: int, t: int | None, kwargs: dict[str, Any]
) -> None:
    assert _ours(name, w, t, {**kwargs, "warmup_start_factor": 0.0}, 30) == _transformers(name, w, t, kwargs, 30)


FACTORIES = [
    ("get_constant_schedule_with_warmup", (4,), {}, "constant_with_warmup", None),
    ("get_linear_schedule_with_warmup", (4, 20), {}, "linear", 20),
    ("get_cosine_schedule_with_warmup", (4, 20), {"num_cycles": 0.75}, "cosine", 20),
    ("get_cosine_with_hard_restarts_schedule_with_warmup", (4, 20), {"num_cycles": 3}, "cosine_with_restarts", 20),
    ("get_polynomial_decay_schedule_with_warmup", (4, 20), {"lr_end": 1e-4}, "polynomial", 20),
    ("get_inverse_sqrt_schedule", (4,), {"timescale": 7}, "inverse_sqrt", None),
    ("get_cosine_with_min_lr_schedule_with_warmup", (4, 20), {"min_lr": 1e-3}, "cosine_with_min_lr", 20),
]


@pytest.mark.parametrize(("factory", "args", "kwargs", "name", "t"), FACTORIES, ids=[f[0] for f in FACTORIES])
def test_warmup_start_factor_in_the_factories_is_get_schedulers(
    factory: str, args: tuple[int, ...], kwargs: dict[str, Any], name: str, t: int | None
) -> None:
    by_factory = trajectory(
        lambda o: getattr(hf_lr, factory)(o, *args, **kwargs, warmup_start_factor=0.3), 30, LRS, train=False
    )
    assert by_factory == _ours(name, args[0], t, {**kwargs, "warmup_start_factor": 0.3}, 30)
    assert by_factory[0] == pytest.approx(tuple(0.3 * lr for lr in LRS), rel=1e-15)


def test_warmup_start_factor_means_the_same_for_transformers_and_torch_names() -> None:
    """One argument name, one meaning: the torch-named equivalents' generic warmup already took it."""
    transformers_name = _ours("constant_with_warmup", 5, None, {"warmup_start_factor": 0.2}, 6)
    torch_name = _ours("exponential", 5, None, {"gamma": 0.9, "warmup_start_factor": 0.2}, 6)
    for ours, torchs in zip(transformers_name[:5], torch_name[:5]):  # pytest.approx takes no nested sequences (9.2)
        assert ours == pytest.approx(torchs, rel=1e-15)
    assert transformers_name[0] == pytest.approx((0.02, 0.01), rel=1e-15)


def test_warmup_start_factor_is_recorded_in_the_state() -> None:
    scheduler = hf_lr.get_scheduler("linear", make_optimizer(), 2, 10, {"warmup_start_factor": 0.5})
    assert scheduler.state_dict()["hf_lr"]["schedules"][0]["warmup_start_factor"] == 0.5
    other = hf_lr.get_scheduler("linear", make_optimizer(), 2, 10, {"warmup_start_factor": 0.25})
    with pytest.raises(hf_lr.ScheduleMismatchError, match="warmup_start_factor: saved 0.5, live 0.25"):
        other.load_state_dict(scheduler.state_dict())


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (1.5, ValueError, r"`warmup_start_factor` must be <= 1.0, got warmup_start_factor=1.5"),
        (-0.1, ValueError, r"`warmup_start_factor` must be >= 0.0, got warmup_start_factor=-0.1"),
        (float("nan"), ValueError, r"`warmup_start_factor` must be finite"),
        ("0.5", TypeError, r"`warmup_start_factor` must be a real number, got '0.5' \(str\)"),
    ],
)
def test_warmup_start_factor_is_validated(value: Any, error: type[Exception], message: str) -> None:
    for name, w, t, kwargs in WARMUP_NAMES:
        with pytest.raises(error, match=message):
            hf_lr.get_scheduler(name, make_optimizer(), w, t, {**kwargs, "warmup_start_factor": value})
    with pytest.raises(error, match=message):
        hf_lr.get_linear_schedule_with_warmup(make_optimizer(), 2, 10, warmup_start_factor=value)


def test_cosine_warmup_with_min_lr_keeps_its_own_warmup_lr_rate() -> None:
    with pytest.raises(TypeError, match=r"unknown argument\(s\) 'warmup_start_factor'.*warmup_lr_rate"):
        hf_lr.get_scheduler(
            "cosine_warmup_with_min_lr", make_optimizer(), 2, 10, {"min_lr_rate": 0.1, "warmup_start_factor": 0.5}
        )


# ------------------------------------------------------------------------------------------------ lengths in epochs

EPOCH_CASES: list[tuple[str, dict[str, Any], Callable[..., Any], int]] = [
    ("step", {"step_size": 3, "gamma": 0.5}, torch_sched.StepLR, 14),
    ("multistep", {"milestones": [2, 5, 5, 9], "gamma": 0.5}, torch_sched.MultiStepLR, 14),
    ("cosine_annealing", {"T_max": 8, "eta_min": 1e-3}, torch_sched.CosineAnnealingLR, 20),  # past T_max too
    ("cosine_annealing_warm_restarts", {"T_0": 3, "eta_min": 1e-3}, torch_sched.CosineAnnealingWarmRestarts, 14),
    (
        "cosine_annealing_warm_restarts",
        {"T_0": 2, "T_mult": 2, "eta_min": 1e-3},
        torch_sched.CosineAnnealingWarmRestarts,
        20,
    ),
]
STEPS_PER_EPOCH = 3


def _torch_per_epoch(torch_class: Callable[..., Any], kwargs: dict[str, Any], epochs: int) -> list[tuple[float, ...]]:
    """torch's scheduler stepped once per epoch, as its documentation does: the lrs of epochs 0..epochs-1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return trajectory(lambda o: torch_class(o, **kwargs), epochs, LRS, train=False)


def _close(a: tuple[float, ...], b: tuple[float, ...], where: Any) -> None:
    assert a == pytest.approx(b, rel=1e-10, abs=1e-300), where


@pytest.mark.parametrize(
    ("name", "kwargs", "torch_class", "epochs"), EPOCH_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(EPOCH_CASES)]
)
def test_staircase_equals_torch_stepped_once_per_epoch_at_every_update(
    name: str, kwargs: dict[str, Any], torch_class: Any, epochs: int
) -> None:
    per_epoch = _torch_per_epoch(torch_class, kwargs, epochs)
    options = {**kwargs, "steps_per_epoch": STEPS_PER_EPOCH, "staircase": True}
    ours = _ours(name, None, None, options, epochs * STEPS_PER_EPOCH)
    for step, lrs in enumerate(ours):
        _close(lrs, per_epoch[step // STEPS_PER_EPOCH], f"update {step}, epoch {step // STEPS_PER_EPOCH}")


@pytest.mark.parametrize(
    ("name", "kwargs", "torch_class", "epochs"), EPOCH_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(EPOCH_CASES)]
)
def test_smooth_equals_torch_stepped_once_per_epoch_at_epoch_boundaries(
    name: str, kwargs: dict[str, Any], torch_class: Any, epochs: int
) -> None:
    per_epoch = _torch_per_epoch(torch_class, kwargs, epochs)
    ours = _ours(name, None, None, {**kwargs, "steps_per_epoch": STEPS_PER_EPOCH}, epochs * STEPS_PER_EPOCH)
    for epoch in range(epochs):
        _close(ours[epoch * STEPS_PER_EPOCH], per_epoch[epoch], f"epoch {epoch}")
    staircase = _ours(name, None, None, {**kwargs, "steps_per_epoch": STEPS_PER_EPOCH, "staircase": True}, len(ours))
    if name in ("step", "multistep"):  # steps by definition: both ways are the same staircase
        assert ours == staircase
    else:  # between boundaries the smooth form moves at every update, the staircase waits for the next epoch
        inside = [k for k in range(len(ours)) if k % STEPS_PER_EPOCH and ours[k] != staircase[k]]
        assert len(inside) > len(ours) // 2


@pytest.mark.parametrize(("t_0", "t_mult"), [(3, 1), (3, 2)])
def test_smooth_warm_restarts_equal_torch_fractional_epochs(t_0: int, t_mult: int) -> None:
    """torch's own per-update recipe for CosineAnnealingWarmRestarts: ``scheduler.step(epoch + i / iters)``."""
    steps_per_epoch = 4  # fractions k / 4 are exact, so torch's epoch arithmetic finds the same restarts
    optimizer = make_optimizer(LRS)
    scheduler = torch_sched.CosineAnnealingWarmRestarts(optimizer, T_0=t_0, T_mult=t_mult, eta_min=1e-3)
    kwargs = {"T_0": t_0, "T_mult": t_mult, "eta_min": 1e-3, "steps_per_epoch": steps_per_epoch}
    epochs = 20  # the third restart (epoch 21 with T_mult=2) is where torch's float log could misplace it
    ours = _ours("cosine_annealing_warm_restarts", None, None, kwargs, epochs * steps_per_epoch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates step(epoch) but documents this recipe with it
        for step in range(epochs * steps_per_epoch):
            scheduler.step(step / steps_per_epoch)
            _close(ours[step], tuple(float(g["lr"]) for g in optimizer.param_groups), f"update {step}")


def _timm(lr: float, t: int, t_initial: int, lr_min: float, warmup_t: int, warmup_lr_init: float) -> float:
    """timm's CosineLRScheduler (one cycle, no k-decay) at time ``t``, from its documented formula."""
    if t < warmup_t:
        return warmup_lr_init + t * (lr - warmup_lr_init) / warmup_t
    if t >= t_initial:
        return lr_min
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * t / t_initial))


@pytest.mark.parametrize("staircase", [False, True])
def test_timm_cosine_in_epochs_is_timm_with_t_in_epochs(staircase: bool) -> None:
    n, t_initial, warmup_epochs = 4, 6, 2
    kwargs = {
        "t_initial": t_initial,
        "lr_min": 1e-3,
        "warmup_lr_init": 1e-3,
        "steps_per_epoch": n,
        "staircase": staircase,
    }
    ours = _ours("timm_cosine", warmup_epochs * n, None, kwargs, (t_initial + 3) * n)
    for step, lrs in enumerate(ours):
        if staircase:  # timm with t_in_epochs=True, stepped once per epoch
            expected = tuple(_timm(lr, step // n, t_initial, 1e-3, warmup_epochs, 1e-3) for lr in LRS)
        else:  # timm per update (t_in_epochs=False) with every length in updates
            expected = tuple(_timm(lr, step, t_initial * n, 1e-3, warmup_epochs * n, 1e-3) for lr in LRS)
        assert lrs == pytest.approx(expected, rel=1e-12), step


def test_the_epoch_clock_starts_after_warmup_which_counts_updates() -> None:
    ours = _ours("cosine_annealing", 5, None, {"T_max": 4, "steps_per_epoch": 3, "staircase": True}, 5 + 12)
    per_epoch = _torch_per_epoch(torch_sched.CosineAnnealingLR, {"T_max": 4}, 4)
    for step in range(5):
        _close(ours[step], tuple(lr * step / 5 for lr in LRS), step)
    for step in range(5, 17):
        _close(ours[step], per_epoch[(step - 5) // 3], step)


def test_steps_per_epoch_is_recorded_in_the_state_and_checked_on_resume() -> None:
    def make(optimizer: Any, steps_per_epoch: int, **resume: Any) -> Any:
        kwargs = {"T_max": 4, "steps_per_epoch": steps_per_epoch}
        return hf_lr.get_scheduler("cosine_annealing", optimizer, 2, None, kwargs, **resume)

    scheduler = make(make_optimizer(LRS), 3)
    config = scheduler.state_dict()["hf_lr"]["schedules"][0]
    assert config["schedule"] == {
        "type": "Epochs", "schedule": {"type": "CosineAnnealing", "T_max": 4, "eta_min": 0.0, "group_lr": None},
        "steps_per_epoch": 3, "staircase": False,
    }  # fmt: skip
    full = trajectory(lambda o: make(o, 3), 20, LRS, train=False)
    resumed = trajectory(lambda o: make(o, 3, completed_steps=7), 13, LRS, train=False)
    assert resumed == full[7:]
    with pytest.raises(hf_lr.ScheduleMismatchError, match="steps_per_epoch: saved 3, live 5"):
        make(make_optimizer(LRS), 5).load_state_dict(scheduler.state_dict())


def test_epochs_boundaries_are_in_updates() -> None:
    assert hf_lr.epochs.Epochs(hf_lr.equivalents.CosineAnnealing(T_max=3), steps_per_epoch=4).boundaries() == (12,)
    staircase = hf_lr.epochs.Epochs(hf_lr.equivalents.MultiStepDecay([1, 3]), steps_per_epoch=4, staircase=True)
    assert staircase.boundaries() == (4, 12)


@pytest.mark.parametrize(
    ("name", "w", "t", "kwargs", "error", "message"),
    [
        (
            "cosine_annealing",
            None,
            None,
            {"T_max": 3, "steps_per_epoch": 0},
            ValueError,
            r"`steps_per_epoch` must be >= 1, got steps_per_epoch=0",
        ),
        (
            "step",
            None,
            None,
            {"step_size": 2, "steps_per_epoch": 2.5},
            TypeError,
            r"`steps_per_epoch` must be an integer, got 2.5",
        ),
        (
            "step",
            None,
            None,
            {"step_size": 2, "steps_per_epoch": True},
            TypeError,
            r"`steps_per_epoch` must be an integer, got True",
        ),
        (
            "step",
            None,
            None,
            {"step_size": 2, "steps_per_epoch": 2, "staircase": "yes"},
            TypeError,
            r"`staircase` must be a bool",
        ),
        (
            "multistep",
            None,
            None,
            {"milestones": [2], "staircase": True},
            ValueError,
            r"`staircase=True` needs `steps_per_epoch`",
        ),
        (
            "cosine_annealing",
            0,
            30,
            {"steps_per_epoch": 3},
            ValueError,
            r"with `steps_per_epoch`, give `T_max` in epochs",
        ),
        ("timm_cosine", None, 20, {"steps_per_epoch": 2}, ValueError, r"needs `t_initial` in epochs"),
        (
            "timm_cosine",
            3,
            None,
            {"t_initial": 3, "steps_per_epoch": 2},
            ValueError,
            r"must be a multiple of steps_per_epoch=2, got num_warmup_steps=3",
        ),
        (
            "timm_cosine",
            None,
            None,
            {"t_initial": 3, "steps_per_epoch": -2},
            ValueError,
            r"`steps_per_epoch` must be >= 1",
        ),
        (
            "exponential",
            None,
            None,
            {"gamma": 0.9, "steps_per_epoch": 2},
            TypeError,
            r"unknown argument\(s\) 'steps_per_epoch'",
        ),
    ],
)
def test_lengths_in_epochs_are_validated(
    name: str, w: Any, t: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        hf_lr.get_scheduler(name, make_optimizer(), w, t, kwargs)


def test_epochs_refuses_a_schedule_without_lengths_in_epochs() -> None:
    with pytest.raises(TypeError, match="ExponentialDecay has no lengths counted in epochs"):
        hf_lr.epochs.Epochs(hf_lr.equivalents.ExponentialDecay(0.9), steps_per_epoch=2)
    with pytest.raises(TypeError, match="`schedule` must be a hf_lr Schedule"):
        hf_lr.epochs.Epochs(lambda step: 1.0, steps_per_epoch=2)  # type: ignore[arg-type]


def test_epoch_scheduler_pickles_and_resumes_through_torch_save(tmp_path: Any) -> None:
    optimizer = make_optimizer(LRS)
    scheduler = hf_lr.get_scheduler(
        "multistep", optimizer, None, None, {"milestones": [1, 2], "steps_per_epoch": 2, "staircase": True}
    )
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    torch.save(scheduler.state_dict(), tmp_path / "s.pt")
    fresh = hf_lr.get_scheduler(
        "multistep", make_optimizer(LRS), None, None, {"milestones": [1, 2], "steps_per_epoch": 2, "staircase": True}
    )
    fresh.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))
    assert fresh.last_epoch == 3 and fresh.get_last_lr() == scheduler.get_last_lr() == pytest.approx([0.01, 0.005])
