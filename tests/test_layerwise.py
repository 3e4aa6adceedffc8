"""Layer-wise learning rates: absolute lr arguments mean what they mean in the library each name comes from.

Transformers' ``lr_end``/``min_lr`` are relative to the optimizer's reference lr (``optimizer.defaults["lr"]``), so
every group keeps its ratio to the others; torch's, timm's and DeepSpeed's floors are absolute per group. No group is
refused because its own lr is below a floor.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
import torch
import transformers
from conftest import group_lrs
from registry_cases import example_id, examples
from transformers import BertConfig, BertForSequenceClassification
from versions import requires_transformers

import hf_lr

TOP = 5e-5
LAYERWISE = tuple(TOP * 0.8**k for k in range(25))  # what layerwise_lr_decay gives 24 levels down: 2.4e-7 at the bottom


def _groups(lrs: tuple[float, ...], seed: int = 0, lr_type: Any = float) -> list[dict[str, Any]]:
    generator = torch.Generator().manual_seed(seed)
    return [{"params": [torch.nn.Parameter(torch.randn(2, generator=generator))], "lr": lr_type(lr)} for lr in lrs]


def _run(make: Any, optimizer: torch.optim.Optimizer, steps: int) -> list[tuple[float, ...]]:
    scheduler = make(optimizer)
    seen = []
    for _ in range(steps):
        seen.append(group_lrs(optimizer))
        optimizer.step()
        scheduler.step()
    return seen


TRANSFORMERS_CASES = (
    [
        ("polynomial", w, t, kwargs)
        for w, t in ((0, 100), (10, 100), (3, 4), (0, 1))
        for kwargs in ({}, {"lr_end": 1e-6}, {"lr_end": 4e-5, "power": 2.0}, {"lr_end": 0.0, "power": 0.5})
    ]
    + [
        (name, w, t, kwargs)
        for name in ("cosine_with_min_lr", "cosine_warmup_with_min_lr")
        for w, t in ((0, 100), (10, 100), (4, 4), (0, 1))
        for kwargs in (
            {"min_lr": 1e-6},
            {"min_lr": 0.0},
            {"min_lr": TOP},
            {"min_lr": 3e-7, "num_cycles": 1.5},
            {"min_lr_rate": 0.05},
        )
    ]
    + [("cosine_warmup_with_min_lr", 10, 100, {"min_lr": 1e-6, "warmup_lr_rate": 0.1})]
)


def _needs(name: str) -> list[Any]:
    return [requires_transformers("cosine_warmup_with_min_lr")] if name == "cosine_warmup_with_min_lr" else []


@pytest.mark.parametrize(
    ("name", "w", "t", "kwargs"),
    [
        pytest.param(*case, id="-".join(example_id(value) for value in case), marks=_needs(case[0]))
        for case in TRANSFORMERS_CASES
    ],
)
@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
def test_transformers_names_equal_transformers_on_layerwise_groups(
    name: str, w: int, t: int, kwargs: dict[str, Any], optimizer: str
) -> None:
    """AdamW(groups, lr=top) as layer-wise users build it: every group's lr equals Transformers' (==)."""
    steps = t + 6
    make = {
        "adamw": lambda: torch.optim.AdamW(_groups(LAYERWISE), lr=TOP),
        "sgd": lambda: torch.optim.SGD(_groups(LAYERWISE), lr=TOP),
    }[optimizer]
    ours = _run(lambda o: hf_lr.get_scheduler(name, o, w, t, dict(kwargs)), make(), steps)
    theirs = _run(
        lambda o: transformers.get_scheduler(name, o, w, t, scheduler_specific_kwargs=dict(kwargs)), make(), steps
    )
    assert ours == theirs
    if "min_lr" in kwargs and kwargs["min_lr"] < TOP and w < t:  # the reference group ends at min_lr, ratios kept
        end = ours[t - 1 if name == "cosine_warmup_with_min_lr" else t]
        assert end[0] == pytest.approx(kwargs["min_lr"], rel=1e-12)
        assert end[24] == pytest.approx(kwargs["min_lr"] * 0.8**24, rel=1e-12)


def test_the_issue_example_matches_transformers() -> None:
    """cosine_with_min_lr with min_lr above the bottom groups' lrs: accepted, every group keeps its ratio."""
    make = lambda: torch.optim.AdamW(_groups(LAYERWISE), lr=TOP)
    kwargs = {"min_lr": 1e-6}
    ours = _run(
        lambda o: hf_lr.get_scheduler("cosine_with_min_lr", o, 10, 100, scheduler_specific_kwargs=kwargs), make(), 101
    )
    theirs = _run(
        lambda o: transformers.get_scheduler("cosine_with_min_lr", o, 10, 100, scheduler_specific_kwargs=kwargs),
        make(),
        101,
    )
    assert ours == theirs
    assert [ours[100][k] / LAYERWISE[k] for k in (0, 12, 24)] == pytest.approx([1e-6 / TOP] * 3, rel=1e-12)


def test_a_passed_default_lr_that_no_group_has_is_still_the_reference() -> None:
    """SGD(groups, lr=1e-2): the user passed lr (it differs from SGD's class default), Transformers uses it."""
    lrs = (5e-3, 1e-3)
    kwargs = {"lr_end": 1e-4}
    ours = _run(
        lambda o: hf_lr.get_scheduler("polynomial", o, 0, 10, kwargs), torch.optim.SGD(_groups(lrs), lr=1e-2), 12
    )
    theirs = _run(
        lambda o: transformers.get_scheduler("polynomial", o, 0, 10, scheduler_specific_kwargs=kwargs),
        torch.optim.SGD(_groups(lrs), lr=1e-2),
        12,
    )
    assert ours == theirs


def test_groups_only_optimizer_takes_the_largest_group_lr_as_reference_and_warns_once() -> None:
    """AdamW(groups) without lr: defaults["lr"] is AdamW's class default 1e-3, which no group has (Transformers
    would use it: min_lr=1e-6 would be a floor of 1e-6 * lr / 1e-3). hf_lr takes the largest group lr, with one
    warning, so the top group ends at min_lr and the others keep their ratio."""
    lrs = (2e-5, 1e-5, 4e-6)
    optimizer = torch.optim.AdamW(_groups(lrs))
    assert optimizer.defaults["lr"] == 1e-3
    with pytest.warns(UserWarning, match=r"largest group lr, 2e-05") as caught:
        scheduler = hf_lr.get_scheduler("cosine_with_min_lr", optimizer, 0, 10, {"min_lr": 1e-6})
    assert len([w for w in caught if "largest group lr" in str(w.message)]) == 1
    assert scheduler.reference_lr() == 2e-5
    state = scheduler.state_dict()
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([lr * 1e-6 / 2e-5 for lr in lrs], rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per scheduler: re-binding on load does not warn again
        scheduler.load_state_dict(state)
    theirs = _run(
        lambda o: transformers.get_scheduler(
            "cosine_with_min_lr", o, 0, 10, scheduler_specific_kwargs={"min_lr": 1e-6}
        ),
        torch.optim.AdamW(_groups(lrs)),
        11,
    )
    assert theirs[10][0] == pytest.approx(
        2e-5 * 1e-6 / 1e-3, rel=1e-12
    )  # the difference, documented in docs/guide/differences.md


def test_groups_only_optimizer_where_a_group_has_the_class_default_uses_it_silently() -> None:
    lrs = (1e-3, 5e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", hf_lr.ScheduleOverrunWarning)  # the run goes 2 updates past the end on purpose
        ours = _run(
            lambda o: hf_lr.get_scheduler("polynomial", o, 0, 10, {"lr_end": 1e-5}), torch.optim.AdamW(_groups(lrs)), 12
        )
    theirs = _run(
        lambda o: transformers.get_scheduler("polynomial", o, 0, 10, scheduler_specific_kwargs={"lr_end": 1e-5}),
        torch.optim.AdamW(_groups(lrs)),
        12,
    )
    assert ours == theirs


def test_tensor_default_lr_is_read_once_as_a_float() -> None:
    groups = _groups((1e-3, 5e-4), lr_type=lambda lr: torch.tensor(lr, dtype=torch.float64))
    optimizer = torch.optim.AdamW(groups, lr=torch.tensor(1e-3, dtype=torch.float64))
    scheduler = hf_lr.get_scheduler("polynomial", optimizer, 0, 10, {"lr_end": 1e-5})
    optimizer.defaults["lr"].fill_(123.0)  # a captured tensor would change the schedule
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([1e-5, 5e-6], rel=1e-12)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("polynomial", {"lr_end": 1e-3}),
        ("cosine_with_min_lr", {"min_lr": 1e-3}),
        ("cosine_warmup_with_min_lr", {"min_lr": 1e-3}),
    ],
)
def test_a_floor_above_the_reference_lr_is_refused_clearly(name: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must be (smaller than|<=) the optimizer's learning rate.*lr=5e-05"):
        hf_lr.get_scheduler(name, torch.optim.AdamW(_groups(LAYERWISE), lr=TOP), 0, 10, kwargs)


# torch's per-group absolute floors ------------------------------------------------------------------------------

LOW = (0.1, 1e-2, 1e-4, 2e-7)  # the last groups are below the floors used below


def _torch_parity(
    ours_make: Any, torch_make: Any, steps: int, lrs: tuple[float, ...] = LOW, rel: float = 1e-10
) -> None:
    ours = _run(ours_make, torch.optim.SGD(_groups(lrs), lr=lrs[0]), steps)
    theirs = _run(torch_make, torch.optim.SGD(_groups(lrs), lr=lrs[0]), steps)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        # torch's chainable forms recur on the previous lr: their rounding drifts by ~1e-16 in absolute terms
        assert a == pytest.approx(b, rel=rel, abs=1e-14), f"step {step}"


@pytest.mark.parametrize("eta_min", [0.0, 1e-3, 0.05])
def test_cosine_annealing_takes_every_group_to_eta_min_as_torch(eta_min: float) -> None:
    _torch_parity(
        lambda o: hf_lr.get_scheduler(
            "cosine_annealing", o, scheduler_specific_kwargs={"T_max": 10, "eta_min": eta_min}
        ),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=eta_min),
        35,
    )


@pytest.mark.parametrize(("T_mult", "eta_min"), [(1, 1e-3), (2, 1e-3), (2, 0.0)])
def test_cosine_annealing_warm_restarts_as_torch(T_mult: int, eta_min: float) -> None:
    _torch_parity(
        lambda o: hf_lr.get_scheduler(
            "cosine_annealing_warm_restarts",
            o,
            scheduler_specific_kwargs={"T_0": 4, "T_mult": T_mult, "eta_min": eta_min},
        ),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=T_mult, eta_min=eta_min),
        40,
    )


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_as_torch_with_layerwise_groups(mode: str) -> None:
    kwargs = {"base_lr": 1e-3, "max_lr": 0.05, "step_size_up": 3, "step_size_down": 5, "mode": mode, "gamma": 0.97}
    _torch_parity(
        lambda o: hf_lr.get_scheduler("cyclic", o, scheduler_specific_kwargs=kwargs),
        lambda o: torch.optim.lr_scheduler.CyclicLR(o, cycle_momentum=False, **kwargs),  # type: ignore[arg-type]
        40,
    )


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_as_torch_with_layerwise_groups(three_phase: bool) -> None:
    kwargs = {"max_lr": 0.05, "total_steps": 30, "three_phase": three_phase}
    _torch_parity(
        lambda o: hf_lr.get_scheduler("one_cycle", o, scheduler_specific_kwargs=kwargs),
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, cycle_momentum=False, **kwargs),  # type: ignore[arg-type]
        30,
    )


def _timm_reference(lr: float, step: int, t_initial: int, lr_min: float, warmup_t: int, warmup_lr_init: float) -> float:
    """timm's CosineLRScheduler per update (one cycle, no k-decay), written from its documented formula."""
    if step < warmup_t:
        return warmup_lr_init + step * (lr - warmup_lr_init) / warmup_t
    if step >= t_initial:
        return lr_min
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * step / t_initial))


def test_timm_cosine_and_deepspeed_floors_are_per_group_and_below_floor_groups_rise_to_them() -> None:
    optimizer = torch.optim.SGD(_groups(LOW), lr=LOW[0])
    scheduler = hf_lr.get_scheduler("timm_cosine", optimizer, 3, 20, {"lr_min": 1e-3, "warmup_lr_init": 5e-4})
    for step in range(25):
        expected = [_timm_reference(lr, step, 20, 1e-3, 3, 5e-4) for lr in LOW]
        assert list(group_lrs(optimizer)) == pytest.approx(expected, rel=1e-12)
        optimizer.step()
        scheduler.step()
    optimizer = torch.optim.SGD(_groups(LOW), lr=LOW[0])
    scheduler = hf_lr.get_scheduler(
        "deepspeed_warmup_decay", optimizer, 4, 12, {"warmup_type": "linear", "warmup_min_lr": 1e-3}
    )
    for step in range(14):
        gamma = step / 4 if step < 4 else max(0.0, (12 - step) / 8)
        assert list(group_lrs(optimizer)) == pytest.approx([1e-3 + (lr - 1e-3) * gamma for lr in LOW], rel=1e-12)
        optimizer.step()
        scheduler.step()


def test_with_floor_is_the_explicit_per_group_absolute_floor() -> None:
    """Per-group absolute floors for any schedule (hf_lr's former `min_lr` meaning): every group ends at min_lr."""
    schedule = hf_lr.with_floor(hf_lr.build_schedule("cosine", 0, 10), min_lr=1e-3)
    optimizer = torch.optim.SGD(_groups(LOW), lr=LOW[0])
    scheduler = hf_lr.ScheduleLR(optimizer, schedule)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([1e-3] * len(LOW), rel=1e-12)


# frozen groups (lr 0) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["cosine_annealing", "cosine_annealing_warm_restarts", "timm_cosine", "deepspeed_warmup", "one_cycle"]
)
def test_a_frozen_group_stays_at_zero_when_the_floors_are_zero(name: str) -> None:
    kwargs = {
        "cosine_annealing": {"T_max": 5},
        "cosine_annealing_warm_restarts": {"T_0": 3},
        "timm_cosine": {},
        "deepspeed_warmup": {},
        "one_cycle": {"total_steps": 10},
    }[name]
    w, t = {"timm_cosine": (2, 10), "deepspeed_warmup": (3, None)}.get(name, (None, None))
    optimizer = torch.optim.SGD(_groups((0.1, 0.0)), lr=0.1)
    scheduler = hf_lr.get_scheduler(name, optimizer, w, t, kwargs)
    for _ in range(12):
        assert group_lrs(optimizer)[1] == 0.0
        assert math.isfinite(group_lrs(optimizer)[0])
        optimizer.step()
        scheduler.step()


def test_a_frozen_group_with_a_floor_above_zero_is_refused_by_name_not_zero_division() -> None:
    optimizer = torch.optim.SGD(_groups((0.1, 0.0)), lr=0.1)
    with pytest.raises(
        ValueError, match=r"param_groups\[1\]: `eta_min`=0\.001 is an absolute learning rate.*learning rate 0\.0"
    ):
        hf_lr.get_scheduler("cosine_annealing", optimizer, scheduler_specific_kwargs={"T_max": 5, "eta_min": 1e-3})


def test_transformers_names_leave_a_frozen_group_at_zero_as_transformers() -> None:
    make = lambda: torch.optim.AdamW(_groups((1e-3, 0.0)), lr=1e-3)
    kwargs = {"min_lr": 1e-5}
    ours = _run(lambda o: hf_lr.get_scheduler("cosine_with_min_lr", o, 2, 10, kwargs), make(), 12)
    theirs = _run(
        lambda o: transformers.get_scheduler("cosine_with_min_lr", o, 2, 10, scheduler_specific_kwargs=kwargs),
        make(),
        12,
    )
    assert ours == theirs
    assert all(row[1] == 0.0 for row in ours)


# every registered name on layer-wise groups of a tiny BERT --------------------------------------------------------


def _bert_groups() -> list[dict[str, Any]]:
    config = BertConfig(
        vocab_size=16,
        hidden_size=4,
        num_hidden_layers=23,
        num_attention_heads=1,
        intermediate_size=4,
        max_position_embeddings=8,
    )
    torch.manual_seed(0)
    return hf_lr.layerwise_lr_decay(BertForSequenceClassification(config), lr=0.1, decay=0.8, weight_decay=0.01)


@pytest.mark.parametrize(("name", "w", "t", "kwargs"), examples(closed_form_only=False), ids=example_id)
def test_every_registered_name_runs_on_layerwise_bert_groups(name: str, w: Any, t: Any, kwargs: dict[str, Any]) -> None:
    """Levels 0..24 at 0.1 * 0.8**k: the bottom groups (4.7e-4) are below the examples' absolute floors (1e-3)."""
    groups = _bert_groups()
    lrs = sorted({g["lr"] for g in groups})
    assert lrs[0] == pytest.approx(0.1 * 0.8**24) and lrs[0] < 1e-3 and len(lrs) == 25
    optimizer = torch.optim.AdamW(groups, lr=0.1)
    scheduler = hf_lr.get_scheduler(name, optimizer, w, t, dict(kwargs))
    for step in range(40):
        assert all(math.isfinite(lr) and lr >= 0.0 for lr in group_lrs(optimizer)), (step, group_lrs(optimizer))
        optimizer.step()
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(1.0)
        else:
            scheduler.step()
