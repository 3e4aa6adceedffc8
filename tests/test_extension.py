"""Extending a run (stretch, rewarm), open-ended training and start_decay: continuous, closed form, resumable."""

from __future__ import annotations

import io
import pickle
import warnings
from typing import Any

import numpy as np
import pytest
import torch

import hf_lr
from hf_lr.extension import Extension

NAMES = [
    ("linear", 10, 100, {}),
    ("cosine", 10, 100, {}),
    ("cosine_with_min_lr", 10, 100, {"min_lr_rate": 0.1}),
    ("polynomial", 5, 100, {"lr_end": 1e-3, "power": 2.0}),
    ("warmup_stable_decay", 10, 100, {"num_decay_steps": 30}),
    ("one_cycle", None, 100, {}),
]


def _optimizer(lrs: tuple[float, ...] = (0.1, 0.02)) -> torch.optim.Optimizer:
    generator = torch.Generator().manual_seed(0)
    groups = [{"params": [torch.nn.Parameter(torch.randn(2, generator=generator))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


def _advance(optimizer: torch.optim.Optimizer, scheduler: Any, updates: int) -> list[tuple[float, ...]]:
    used = []
    for _ in range(updates):
        used.append(tuple(float(g["lr"]) for g in optimizer.param_groups))
        optimizer.step()
        scheduler.step()
    return used


def _roundtrip(state: Any) -> Any:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), NAMES, ids=[n[0] for n in NAMES])
@pytest.mark.parametrize("at", [5, 40, 90])
def test_stretch_is_continuous_keeps_the_shape_and_ends_where_asked(
    name: str, w: int | None, t: int, kwargs: dict[str, Any], at: int
) -> None:
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler(name, optimizer, w, t, dict(kwargs), completed_steps=at)
    original = hf_lr.lr_curve(scheduler, 400)[:, 0]  # group 0's curve before the change
    scheduler.extend(300)
    extended = hf_lr.lr_curve(scheduler, 400)[:, 0]
    assert np.array_equal(extended[: at + 1], original[: at + 1])  # unchanged up to the switch
    largest_original_change = np.max(np.abs(np.diff(original[max(0, at - 1) : at + 2])))
    assert abs(extended[at + 1] - extended[at]) <= largest_original_change + 1e-15  # no jump beyond one update's change
    assert extended[300] == pytest.approx(original[t], rel=1e-12, abs=1e-18)  # the old end value, at the new end
    if np.all(np.diff(original[at : t + 1]) <= 1e-15):  # still decaying where the original decayed
        assert np.all(np.diff(extended[at:300]) <= 1e-15)
    # the stepped lrs equal the curve (scalar and vectorized forms from the same definition)
    stepped = _advance(optimizer, scheduler, 300 - at)
    assert [row[0] for row in stepped] == pytest.approx(list(extended[at:300]), rel=1e-12, abs=1e-15)
    assert [row[1] / row[0] for row in stepped if row[0]] == pytest.approx(
        [0.2] * len([r for r in stepped if r[0]]), rel=1e-9
    )  # groups keep ratios


def test_rewarm_ramps_from_the_current_lr_to_the_peak_then_decays_to_the_end() -> None:
    optimizer = _optimizer((1.0,))
    scheduler = hf_lr.get_scheduler("cosine_with_min_lr", optimizer, 10, 100, {"min_lr_rate": 0.1}, completed_steps=100)
    assert scheduler.get_last_lr()[0] == pytest.approx(0.1)
    scheduler.extend(200, mode="rewarm", num_warmup_steps=20, peak=0.5, decay_type="linear")
    curve = hf_lr.lr_curve(scheduler, 260)
    assert curve[100] == pytest.approx(0.1)  # continuous at the switch
    assert curve[101] - curve[100] == pytest.approx((0.5 - 0.1) / 20)
    assert curve[120] == pytest.approx(0.5)
    assert curve[200] == pytest.approx(0.1) and curve[259] == pytest.approx(0.1)  # ends at the old end value
    assert np.all(np.diff(curve[120:201]) < 0)


def test_stretch_after_the_end_is_refused_with_the_alternative() -> None:
    scheduler = hf_lr.get_scheduler("linear", _optimizer(), 0, 10, completed_steps=10)
    with pytest.raises(ValueError, match="nothing is left.*use mode='rewarm'"):
        scheduler.extend(20)
    with pytest.raises(ValueError, match="`num_training_steps` must be >= 11"):
        hf_lr.get_scheduler("linear", _optimizer(), 0, 10, completed_steps=10).extend(10, mode="rewarm")


def test_an_extended_state_resumes_into_a_scheduler_built_with_the_original_arguments() -> None:
    def make(optimizer: torch.optim.Optimizer) -> Any:
        return hf_lr.get_scheduler("cosine", optimizer, 10, 100)

    optimizer = _optimizer()
    scheduler = make(optimizer)
    first = _advance(optimizer, scheduler, 60)
    scheduler.extend(250)
    second = _advance(optimizer, scheduler, 40)
    checkpoint = _roundtrip({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
    reference = _advance(optimizer, scheduler, 150)
    fresh_optimizer = _optimizer()
    fresh = make(fresh_optimizer)  # the run's original arguments
    fresh_optimizer.load_state_dict(checkpoint["optimizer"])
    fresh.load_state_dict(checkpoint["scheduler"])  # the state records the extension
    assert _advance(fresh_optimizer, fresh, 150) == reference
    assert checkpoint["scheduler"]["hf_lr"]["schedules"][0]["type"] == "Extension"
    assert len(first + second + reference) == 250


@pytest.mark.parametrize("mode", ["stretch", "rewarm"])
def test_resume_with_a_larger_size_extends_when_asked(mode: str) -> None:
    """A checkpoint at update 60 of a run sized 100; the resumed run says 250 and asks for an extension."""
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler("cosine", optimizer, 10, 100)
    _advance(optimizer, scheduler, 60)
    checkpoint = _roundtrip({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
    options = {"num_warmup_steps": 10} if mode == "rewarm" else {}
    scheduler.extend(250, mode, **options)  # the uninterrupted equivalent: extended live at update 60
    reference = _advance(optimizer, scheduler, 190)
    fresh_optimizer = _optimizer()
    fresh = hf_lr.get_scheduler(
        "cosine", fresh_optimizer, 25, 250
    )  # new arguments (a warmup ratio gives another warmup)
    fresh.allow_extension(mode, **options)
    fresh_optimizer.load_state_dict(checkpoint["optimizer"])
    fresh.load_state_dict(checkpoint["scheduler"])
    resumed = _advance(fresh_optimizer, fresh, 190)
    assert resumed == reference
    assert fresh.last_epoch == 250
    # and again from a later checkpoint of the extended run, with the same new arguments and flag
    later = _roundtrip({"optimizer": fresh_optimizer.state_dict(), "scheduler": fresh.state_dict()})
    again_optimizer = _optimizer()
    again = hf_lr.get_scheduler("cosine", again_optimizer, 25, 250)
    again.allow_extension(mode, **options)
    again_optimizer.load_state_dict(later["optimizer"])
    again.load_state_dict(later["scheduler"])
    assert again.schedule_configs() == fresh.schedule_configs()


def test_a_size_change_without_the_flag_or_any_other_change_still_raises() -> None:
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler("cosine", optimizer, 10, 100)
    _advance(optimizer, scheduler, 60)
    state = _roundtrip(scheduler.state_dict())
    with pytest.raises(hf_lr.ScheduleMismatchError, match="num_training_steps: saved 100, live 250"):
        hf_lr.get_scheduler("cosine", _optimizer(), 10, 250).load_state_dict(state)
    other = hf_lr.get_scheduler("cosine", _optimizer(), 10, 250, {"num_cycles": 0.6})
    other.allow_extension()
    with pytest.raises(hf_lr.ScheduleMismatchError, match="scheduler_specific_kwargs"):
        other.load_state_dict(state)
    other_name = hf_lr.get_scheduler("linear", _optimizer(), 10, 250)
    other_name.allow_extension()
    with pytest.raises(hf_lr.ScheduleMismatchError, match="name: saved 'cosine', live 'linear'"):
        other_name.load_state_dict(state)
    smaller = hf_lr.get_scheduler("cosine", _optimizer(), 10, 80)
    smaller.allow_extension()
    with pytest.raises(hf_lr.ScheduleMismatchError, match="does not extend"):
        smaller.load_state_dict(state)


@pytest.mark.filterwarnings("ignore::hf_lr.ScheduleOverrunWarning")  # the reference runs past the cooldown's end
def test_open_ended_wsd_then_start_decay_resumes_exactly() -> None:
    def make(optimizer: torch.optim.Optimizer) -> Any:
        return hf_lr.get_scheduler(
            "warmup_stable_decay",
            optimizer,
            5,
            None,
            {"num_decay_steps": 20, "decay_type": "1-sqrt", "min_lr_ratio": 0.1},
        )

    optimizer = _optimizer()
    scheduler = make(optimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("error", hf_lr.ScheduleOverrunWarning)  # no end, no overrun warning
        stable = _advance(optimizer, scheduler, 1000)
    assert stable[-1] == (0.1, 0.02) and stable[0] == pytest.approx((0.01, 0.002))  # WSD warms up from min_lr_ratio
    scheduler.start_decay()  # at update 1000, with the schedule's own decay
    decay = _advance(optimizer, scheduler, 10)
    checkpoint = _roundtrip({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
    reference = _advance(optimizer, scheduler, 20)
    assert reference[10][0] == pytest.approx(0.01) and reference[-1][0] == pytest.approx(0.01)
    assert decay[0] == (0.1, 0.02)  # continuous: the first decay update still has the stable lr
    fresh_optimizer = _optimizer()
    fresh = make(fresh_optimizer)
    fresh_optimizer.load_state_dict(checkpoint["optimizer"])
    fresh.load_state_dict(checkpoint["scheduler"])
    assert _advance(fresh_optimizer, fresh, 20) == reference


def test_start_decay_on_any_schedule_and_its_checks() -> None:
    optimizer = _optimizer((1.0,))
    scheduler = hf_lr.get_scheduler("constant_with_warmup", optimizer, 4, completed_steps=50)
    with pytest.raises(ValueError, match="`num_decay_steps` is required"):
        scheduler.start_decay()
    scheduler.start_decay(10, decay_type="linear", end=0.2)
    assert [round(v, 12) for v in hf_lr.lr_curve(scheduler, 62)[50:]] == [
        round(1.0 - 0.08 * k, 12) for k in range(11)
    ] + [0.2]
    with pytest.raises(ValueError, match="`decay_type` must be one of"):
        scheduler.start_decay(10, decay_type="exp")


def test_extend_and_start_decay_take_their_former_shape_argument_with_a_warning() -> None:
    """`shape` was the former name of `decay_type` (one name per concept, as Transformers' WSD)."""
    curves = []
    for keyword in ("decay_type", "shape"):
        scheduler = hf_lr.get_scheduler("cosine", _optimizer(), 10, 100, completed_steps=50)
        twin = hf_lr.get_scheduler("constant_with_warmup", _optimizer(), 4, completed_steps=50)
        if keyword == "shape":
            with pytest.warns(FutureWarning, match="`shape` is now called `decay_type`"):
                scheduler.extend(200, mode="rewarm", num_warmup_steps=20, **{keyword: "linear"})
            with pytest.warns(FutureWarning, match="`shape` is now called `decay_type`"):
                twin.start_decay(10, **{keyword: "linear"})
        else:
            scheduler.extend(200, mode="rewarm", num_warmup_steps=20, **{keyword: "linear"})
            twin.start_decay(10, **{keyword: "linear"})
        curves.append((hf_lr.lr_curve(scheduler, 260).tolist(), hf_lr.lr_curve(twin, 70).tolist()))
    assert curves[0] == curves[1]
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        scheduler.extend(300, typo="linear")
    with pytest.warns(FutureWarning, match="`shape` is now called `decay_type`"):
        scheduler.allow_extension("rewarm", shape="linear")
    assert scheduler._extension_on_load == {"mode": "rewarm", "decay_type": "linear"}
    with pytest.raises(TypeError, match=r"allow_extension\(\): pass `decay_type` only"):
        scheduler.allow_extension("rewarm", shape="linear", decay_type="1-sqrt")


def test_extended_scheduler_pickles_and_plots() -> None:
    optimizer = _optimizer()
    scheduler = hf_lr.get_scheduler("cosine", optimizer, 10, 100, completed_steps=50)
    scheduler.extend(200)
    copy = pickle.loads(pickle.dumps(scheduler))
    assert copy.schedule_configs() == scheduler.schedule_configs()
    assert np.array_equal(hf_lr.lr_curve(copy, 220), hf_lr.lr_curve(scheduler, 220))
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    figure = hf_lr.plot(scheduler, num_steps=220)
    assert figure is not None


def test_extension_checks_its_arguments() -> None:
    base = hf_lr.build_schedule("linear", 0, 10)
    with pytest.raises(ValueError, match="needs the schedule's end"):
        Extension(hf_lr.build_schedule("constant"), at=3, new_end=20)
    with pytest.raises(ValueError, match="`mode` must be one of"):
        Extension(base, at=3, new_end=20, mode="grow", old_end=10)
    with pytest.raises(ValueError, match="`num_warmup_steps` goes with mode='rewarm'"):
        Extension(base, at=3, new_end=20, mode="decay", num_warmup_steps=2)
