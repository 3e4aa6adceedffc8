"""Closed-form equivalents of other libraries' schedulers, with their argument names and meanings.

torch: ``ExponentialLR``, ``StepLR``, ``MultiStepLR``, ``CosineAnnealingLR``, ``CosineAnnealingWarmRestarts``,
``OneCycleLR``, ``CyclicLR``, ``PolynomialLR``, ``LinearLR``, ``ConstantLR``; timm's cosine with cycles and k-decay;
fairseq's tri-stage; DeepSpeed's ``WarmupLR`` and ``WarmupDecayLR``. Absolute learning rates (``eta_min``, ``max_lr``,
``base_lr``, ``lr_min``, ``warmup_min_lr``) mean what they mean there, per group: each group's multiplier is that value
divided by the group's own base learning rate (:meth:`~hf_lr.Schedule.bind`), so a group whose learning rate is below a
floor rises to it, as it does there. Unlike torch's chainable schedulers, nothing depends on the previous learning
rate, so every one resumes in O(1).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

from hf_lr._forms import Forms
from hf_lr._validation import (
    MAX_INT,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_optional_float,
    check_optional_int,
    short_repr,
    user_names,
)
from hf_lr.epochs import in_epochs
from hf_lr.schedules import MAX_BOUNDARIES, Schedule, _HoldEnd, _Piecewise, _set, absolute_ratio

__all__ = [
    "ConstantFactor",
    "CosineAnnealing",
    "CosineAnnealingWarmRestarts",
    "Cyclic",
    "DeepSpeedWarmup",
    "ExponentialDecay",
    "LinearFactor",
    "MultiStepDecay",
    "OneCycle",
    "Polynomial",
    "StepDecay",
    "TimmCosine",
    "TriStage",
]


class _Absolute(Schedule):
    """Mixin for schedules defined in absolute learning rates: bound to the group's lr through ``group_lr``."""

    needs_base_lr: ClassVar[bool] = True
    #: the fields that hold absolute learning rates (None counts as 0: "the group's own lr")
    absolute_fields: ClassVar[tuple[str, ...]] = ()

    def bind(self, base_lr: float, reference_lr: float | None = None) -> Schedule:
        for name in self.absolute_fields:
            # Refuses a value > 0 for a frozen group, and a ratio that overflows: every multiplier is at most the
            # largest ratio (or 1), so all stay finite.
            absolute_ratio(name, getattr(self, name) or 0.0, base_lr)
        if not base_lr > 0.0:
            # Every value is then proportional to the group's lr (0): the multiplier does not depend on it.
            base_lr = 1.0
        return dataclasses.replace(self, group_lr=base_lr)  # type: ignore[type-var, call-arg]

    def _lr(self) -> float:
        group_lr = getattr(self, "group_lr", None)
        if group_lr is None:
            raise ValueError(f"{type(self).__name__} must be bound to the group's lr: call `.bind(lr)` first")
        return float(group_lr)


@dataclasses.dataclass(frozen=True)
class ExponentialDecay(Schedule):
    """torch's ``ExponentialLR``: ``gamma ** step``.

    Args:
        gamma (`float`):
            The factor per update, in (0, 1] (above 1 the learning rate would overflow to infinity).

    Example:
        >>> from hf_lr.equivalents import ExponentialDecay
        >>> [round(float(v), 6) for v in ExponentialDecay(gamma=0.5).values(range(4))]
        [1.0, 0.5, 0.25, 0.125]
    """

    gamma: float

    def __post_init__(self) -> None:
        _set(self, gamma=check_float("gamma", self.gamma, minimum=0.0, maximum=1.0, exclusive_minimum=True))

    def _formula(self, step: Any, xp: Forms) -> Any:
        return xp.fast_power(self.gamma, step)


@dataclasses.dataclass(frozen=True)
class StepDecay(Schedule):
    """torch's ``StepLR``: ``gamma ** (step // step_size)``.

    Args:
        step_size (`int`):
            Updates between decays (>= 1).
        gamma (`float`, *optional*, defaults to 0.1):
            The factor of each decay, in (0, 1].

    Example:
        >>> from hf_lr.equivalents import StepDecay
        >>> StepDecay(step_size=2, gamma=0.5).values(range(5)).tolist()
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    step_size: int
    gamma: float = 0.1

    epoch_fields: ClassVar[tuple[str, ...]] = ("step_size",)

    def __post_init__(self) -> None:
        _set(
            self,
            step_size=check_int("step_size", self.step_size, minimum=1),
            gamma=check_float("gamma", self.gamma, minimum=0.0, maximum=1.0, exclusive_minimum=True),
        )

    def _formula(self, step: Any, xp: Forms) -> Any:
        return self.gamma ** (step // self.step_size)

    def boundaries(self) -> tuple[int, ...]:
        return tuple(self.step_size * i for i in range(1, 9))


@dataclasses.dataclass(frozen=True)
class MultiStepDecay(Schedule):
    """torch's ``MultiStepLR``: ``gamma ** (number of milestones <= step)`` (a repeated milestone counts twice).

    Args:
        milestones (`list[int]`):
            The updates at which the learning rate is multiplied by `gamma`.
        gamma (`float`, *optional*, defaults to 0.1):
            The factor (> 0; above 1 as long as ``gamma ** len(milestones)`` is a finite float).

    Example:
        >>> from hf_lr.equivalents import MultiStepDecay
        >>> MultiStepDecay(milestones=[2, 4], gamma=0.5).values(range(6)).tolist()
        [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    milestones: tuple[int, ...]
    gamma: float = 0.1

    epoch_fields: ClassVar[tuple[str, ...]] = ("milestones",)

    def __post_init__(self) -> None:
        if not isinstance(self.milestones, (list, tuple)):
            raise TypeError(f"`milestones` must be a list of integers, got {self.milestones!r}")
        milestones = tuple(sorted(check_int(f"milestones[{i}]", m) for i, m in enumerate(self.milestones)))
        _set(self, milestones=milestones, gamma=check_float("gamma", self.gamma, minimum=0.0, exclusive_minimum=True))
        try:
            last = self.gamma ** len(milestones)  # the largest multiplier when gamma > 1
        except OverflowError:
            last = math.inf
        if not math.isfinite(last):
            raise ValueError(
                f"`gamma` ** len(milestones) overflows: the learning rate after the last milestone would be infinite, "
                f"got gamma={self.gamma} with {len(milestones)} milestones"
            )

    def _formula(self, step: Any, xp: Forms) -> Any:
        return self.gamma ** xp.count_le(self.milestones, step)

    def boundaries(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.milestones)))


@dataclasses.dataclass(frozen=True)
class CosineAnnealing(_HoldEnd, _Absolute):
    """torch's ``CosineAnnealingLR``: ``eta_min + (lr - eta_min) * (1 + cos(pi * step / T_max)) / 2``.

    Past ``T_max`` the cosine continues (the learning rate rises again), as in torch; with ``hold_end=True`` it stays
    at ``eta_min`` from step ``T_max`` on.

    Args:
        T_max (`int`):
            The half period (>= 1).
        eta_min (`float`, *optional*, defaults to 0.0):
            The absolute minimum learning rate.
        hold_end (`bool`, *optional*, defaults to `False`):
            Keyword-only. Hold the value of step `T_max` (``eta_min``) at every later step.

    Example:
        >>> from hf_lr.equivalents import CosineAnnealing
        >>> [round(float(v), 4) for v in CosineAnnealing(T_max=4).bind(1.0).values(range(6))]
        [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.1464]
        >>> [round(float(v), 4) for v in CosineAnnealing(T_max=4, hold_end=True).bind(1.0).values(range(6))]
        [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """

    T_max: int
    eta_min: float = 0.0
    group_lr: float | None = None

    absolute_fields: ClassVar[tuple[str, ...]] = ("eta_min",)
    epoch_fields: ClassVar[tuple[str, ...]] = ("T_max",)

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(
            self,
            T_max=check_int("T_max", self.T_max, minimum=1),
            eta_min=check_float("eta_min", self.eta_min, minimum=0.0),
            group_lr=check_optional_float("group_lr", self.group_lr, minimum=0.0),
        )

    @property
    def needs_base_lr(self) -> bool:  # type: ignore[override]
        return self.eta_min > 0.0

    def _ratio(self) -> float:
        return 0.0 if self.eta_min == 0.0 else self.eta_min / self._lr()

    def _end_step(self) -> int:
        return self.T_max

    def _piece_bounds(self) -> tuple[int, ...]:
        return ()  # one piece (with hold_end, held from T_max on)

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        r = self._ratio()
        return r + (1.0 - r) * (1.0 + xp.cos(math.pi * step / self.T_max)) / 2

    def boundaries(self) -> tuple[int, ...]:
        return (self.T_max,)


@dataclasses.dataclass(frozen=True)
class CosineAnnealingWarmRestarts(_Absolute):
    """torch's ``CosineAnnealingWarmRestarts``: cosine annealing restarted after ``T_0``, ``T_0 * T_mult``, ... updates.

    Args:
        T_0 (`int`):
            The length of the first cycle (>= 1).
        T_mult (`int`, *optional*, defaults to 1):
            Each cycle is this many times longer than the previous one (>= 1).
        eta_min (`float`, *optional*, defaults to 0.0):
            The absolute minimum learning rate.

    Example:
        >>> from hf_lr.equivalents import CosineAnnealingWarmRestarts
        >>> s = CosineAnnealingWarmRestarts(T_0=2, T_mult=2).bind(1.0)
        >>> [round(float(v), 4) for v in s.values(range(7))]
        [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0]
    """

    T_0: int
    T_mult: int = 1
    eta_min: float = 0.0
    group_lr: float | None = None

    absolute_fields: ClassVar[tuple[str, ...]] = ("eta_min",)
    epoch_fields: ClassVar[tuple[str, ...]] = ("T_0",)

    def __post_init__(self) -> None:
        _set(
            self,
            T_0=check_int("T_0", self.T_0, minimum=1),
            T_mult=check_int("T_mult", self.T_mult, minimum=1),
            eta_min=check_float("eta_min", self.eta_min, minimum=0.0),
            group_lr=check_optional_float("group_lr", self.group_lr, minimum=0.0),
        )

    @property
    def needs_base_lr(self) -> bool:  # type: ignore[override]
        return self.eta_min > 0.0

    def _ratio(self) -> float:  # CosineAnnealing's floor, as a ratio of the group's lr
        return 0.0 if self.eta_min == 0.0 else self.eta_min / self._lr()

    def _formula(self, step: Any, xp: Forms) -> Any:
        r = self._ratio()
        _, start, length = xp.cycle(step, self.T_0, self.T_mult)  # in closed form
        return r + (1.0 - r) * (1.0 + xp.cos(math.pi * (step - start) / length)) / 2

    def boundaries(self) -> tuple[int, ...]:
        return tuple(
            self.T_0 * (self.T_mult**k - 1) // max(1, self.T_mult - 1) if self.T_mult > 1 else self.T_0 * k
            for k in range(1, 6)
        )


@dataclasses.dataclass(frozen=True)
class OneCycle(_Absolute, _Piecewise):
    """torch's ``OneCycleLR`` (learning rate only; momentum is not cycled): warm up to ``max_lr``, anneal far below.

    From ``max_lr / div_factor`` up to ``max_lr`` over ``pct_start * total_steps`` updates, then down to
    ``max_lr / (div_factor * final_div_factor)`` at update ``total_steps - 1`` (``three_phase``: back to the initial
    lr first, then down). ``anneal_strategy`` is ``"cos"`` or ``"linear"``. From update ``total_steps`` on the final
    learning rate is held (torch extrapolates the last phase at ``total_steps``, which with ``"linear"`` gives a
    negative learning rate, and raises after it).

    Args:
        total_steps (`int`):
            The number of updates of the cycle.
        max_lr (`float`, *optional*):
            The absolute peak; defaults to the group's learning rate.
        pct_start (`float`, *optional*, defaults to 0.3):
            The fraction of the cycle spent rising.
        anneal_strategy (`str`, *optional*, defaults to `"cos"`):
            ``"cos"`` or ``"linear"``.
        div_factor (`float`, *optional*, defaults to 25.0):
            ``initial_lr = max_lr / div_factor``.
        final_div_factor (`float`, *optional*, defaults to 1e4):
            ``min_lr = initial_lr / final_div_factor``.
        three_phase (`bool`, *optional*, defaults to `False`):
            Use torch's three-phase variant.

    Example:
        >>> from hf_lr.equivalents import OneCycle
        >>> s = OneCycle(total_steps=10, max_lr=1.0, pct_start=0.3, anneal_strategy="linear").bind(1.0)
        >>> [round(float(v), 4) for v in s.values(range(0, 10, 2))]
        [0.04, 1.0, 0.7143, 0.4286, 0.1429]
    """

    total_steps: int
    max_lr: float | None = None
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    group_lr: float | None = None

    absolute_fields: ClassVar[tuple[str, ...]] = ("max_lr",)

    def __post_init__(self) -> None:
        _set(
            self,
            total_steps=check_int("total_steps", self.total_steps, minimum=1),
            max_lr=check_optional_float("max_lr", self.max_lr, minimum=0.0, exclusive_minimum=True),
            pct_start=check_float(
                "pct_start", self.pct_start, minimum=0.0, maximum=1.0, exclusive_minimum=True, exclusive_maximum=True
            ),
            anneal_strategy=check_choice("anneal_strategy", self.anneal_strategy, ("cos", "linear")),
            div_factor=check_float("div_factor", self.div_factor, minimum=0.0, exclusive_minimum=True),
            final_div_factor=check_float(
                "final_div_factor", self.final_div_factor, minimum=0.0, exclusive_minimum=True
            ),
            three_phase=check_bool("three_phase", self.three_phase),
            group_lr=check_optional_float("group_lr", self.group_lr, minimum=0.0),
        )
        ends = [end for end, _, _ in self._phases(1.0)]
        starts = [0.0] + ends[:-1]
        if any(end - start <= 0 for start, end in zip(starts, ends)):
            raise ValueError(
                f"OneCycle's phases must each last more than 0 updates: with total_steps={self.total_steps}, "
                f"pct_start={self.pct_start} they end at {ends}; raise `total_steps` or `pct_start`"
            )

    def bind(self, base_lr: float, reference_lr: float | None = None) -> Schedule:
        bound = super().bind(base_lr, reference_lr)
        assert isinstance(bound, OneCycle)
        lr = bound._lr()
        for _, start, end in bound._phases(self.max_lr if self.max_lr is not None else lr):
            absolute_ratio("max_lr / div_factor", start, lr)  # the anneals stay between their ends
            absolute_ratio("max_lr / (div_factor * final_div_factor)", end, lr)
        return bound

    def _phases(self, max_lr: float) -> list[tuple[float, float, float]]:
        """(end step, start lr, end lr) of each phase, as torch lays them out."""
        initial = max_lr / self.div_factor
        minimum = initial / self.final_div_factor
        rise_end = float(self.pct_start * self.total_steps) - 1
        if self.three_phase:
            return [
                (rise_end, initial, max_lr),
                (float(2 * self.pct_start * self.total_steps) - 2, max_lr, initial),
                (self.total_steps - 1, initial, minimum),
            ]
        return [(rise_end, initial, max_lr), (self.total_steps - 1, max_lr, minimum)]

    def _anneal(self, start: float, end: float, pct: Any, xp: Forms) -> Any:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (xp.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _piece_bounds(self) -> tuple[int, ...]:
        # torch's phase of a step is the first whose end step (a float) it does not pass: step <= end, that is
        # step < floor(end) + 1; the last phase runs to total_steps, then its end lr is held.
        return (*(math.floor(end) + 1 for end, _, _ in self._phases(1.0)[:-1]), self.total_steps)

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        lr = self._lr()
        phases = self._phases(self.max_lr if self.max_lr is not None else lr)
        if index == len(phases):
            return phases[-1][2] / lr
        start_step = phases[index - 1][0] if index else 0.0
        end_step, start_lr, end_lr = phases[index]
        return self._anneal(start_lr, end_lr, (step - start_step) / (end_step - start_step), xp) / lr

    def boundaries(self) -> tuple[int, ...]:
        return tuple(int(math.ceil(end)) for end, _, _ in self._phases(1.0))

    def horizon(self) -> int | None:
        return self.total_steps


@dataclasses.dataclass(frozen=True)
class Cyclic(_Absolute):
    """torch's ``CyclicLR`` (learning rate only; momentum is not cycled): triangles between ``base_lr`` and ``max_lr``.

    Modes: ``"triangular"``, ``"triangular2"`` (amplitude halved each cycle), ``"exp_range"`` (amplitude times
    ``gamma ** step``). A custom ``scale_fn`` cannot be recorded as plain values; register your own schedule instead.

    Args:
        base_lr (`float`):
            The absolute lower bound.
        max_lr (`float`):
            The absolute upper bound of the first cycle.
        step_size_up (`int`, *optional*, defaults to 2000):
            Updates from ``base_lr`` to ``max_lr``.
        step_size_down (`int`, *optional*):
            Updates back down (defaults to `step_size_up`).
        mode (`str`, *optional*, defaults to `"triangular"`):
            ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma (`float`, *optional*, defaults to 1.0):
            The ``exp_range`` factor, in (0, 1].

    Example:
        >>> from hf_lr.equivalents import Cyclic
        >>> s = Cyclic(base_lr=0.1, max_lr=1.0, step_size_up=2, mode="triangular2").bind(1.0)
        >>> [round(float(v), 4) for v in s.values(range(9))]
        [0.1, 0.55, 1.0, 0.55, 0.1, 0.325, 0.55, 0.325, 0.1]
    """

    base_lr: float
    max_lr: float
    step_size_up: int = 2000
    step_size_down: int | None = None
    mode: str = "triangular"
    gamma: float = 1.0
    group_lr: float | None = None

    absolute_fields: ClassVar[tuple[str, ...]] = ("base_lr", "max_lr")

    def __post_init__(self) -> None:
        _set(
            self,
            base_lr=check_float("base_lr", self.base_lr, minimum=0.0),
            max_lr=check_float("max_lr", self.max_lr, minimum=0.0),
            step_size_up=check_int("step_size_up", self.step_size_up, minimum=1),
            step_size_down=check_optional_int("step_size_down", self.step_size_down, minimum=1),
            mode=check_choice("mode", self.mode, ("triangular", "triangular2", "exp_range")),
            gamma=check_float("gamma", self.gamma, minimum=0.0, maximum=1.0, exclusive_minimum=True),
            group_lr=check_optional_float("group_lr", self.group_lr, minimum=0.0),
        )

    def _shape(self) -> tuple[float, float]:
        up = float(self.step_size_up)
        down = float(self.step_size_down) if self.step_size_down is not None else up
        return up + down, up / (up + down)

    def _formula(self, step: Any, xp: Forms) -> Any:
        total, ratio = self._shape()
        cycle = xp.floor(1 + step / total)
        x = 1.0 + step / total - cycle
        scale = xp.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))  # 0 < ratio < 1: both are safe
        height = (self.max_lr - self.base_lr) * scale
        if self.mode == "triangular":
            amplitude: Any = 1.0
        elif self.mode == "triangular2":
            amplitude = 0.5 ** (cycle - 1)  # = 1 / 2 ** (cycle - 1), which overflows past 1024 cycles
        else:
            amplitude = self.gamma**step
        return (self.base_lr + height * amplitude) / self._lr()


@dataclasses.dataclass(frozen=True)
class Polynomial(Schedule):
    """torch's ``PolynomialLR``: ``(1 - min(step, total_iters) / total_iters) ** power``.

    Args:
        total_iters (`int`, *optional*, defaults to 5):
            Updates until the learning rate reaches 0 (>= 1).
        power (`float`, *optional*, defaults to 1.0):
            The power (> 0).

    Example:
        >>> from hf_lr.equivalents import Polynomial
        >>> Polynomial(total_iters=4, power=2.0).values(range(6)).tolist()
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """

    total_iters: int = 5
    power: float = 1.0

    def __post_init__(self) -> None:
        _set(
            self,
            total_iters=check_int("total_iters", self.total_iters, minimum=1),
            power=check_float("power", self.power, minimum=0.0, exclusive_minimum=True),
        )

    def _formula(self, step: Any, xp: Forms) -> Any:
        return (1.0 - xp.minimum(self.total_iters, step) / self.total_iters) ** self.power

    def boundaries(self) -> tuple[int, ...]:
        return (self.total_iters,)


@dataclasses.dataclass(frozen=True)
class LinearFactor(Schedule):
    """torch's ``LinearLR``: from ``start_factor`` to ``end_factor`` over ``total_iters`` updates, then constant.

    Args:
        start_factor (`float`, *optional*, defaults to 1/3):
            The multiplier at update 0, in (0, 1].
        end_factor (`float`, *optional*, defaults to 1.0):
            The multiplier from ``total_iters`` on, in [0, 1].
        total_iters (`int`, *optional*, defaults to 5):
            The length of the ramp (>= 1).

    Example:
        >>> from hf_lr.equivalents import LinearFactor
        >>> LinearFactor(start_factor=0.5, end_factor=1.0, total_iters=2).values(range(4)).tolist()
        [0.5, 0.75, 1.0, 1.0]
    """

    start_factor: float = 1.0 / 3
    end_factor: float = 1.0
    total_iters: int = 5

    def __post_init__(self) -> None:
        _set(
            self,
            start_factor=check_float(
                "start_factor", self.start_factor, minimum=0.0, maximum=1.0, exclusive_minimum=True
            ),
            end_factor=check_float("end_factor", self.end_factor, minimum=0.0, maximum=1.0),
            total_iters=check_int("total_iters", self.total_iters, minimum=1),
        )

    def _formula(self, step: Any, xp: Forms) -> Any:
        # Clipped at 0: start + (end - start) * 1 can round to -5.6e-17 when end_factor is 0.
        change = (self.end_factor - self.start_factor) * xp.minimum(self.total_iters, step) / self.total_iters
        return xp.maximum(0.0, self.start_factor + change)

    def boundaries(self) -> tuple[int, ...]:
        return (self.total_iters,)


@dataclasses.dataclass(frozen=True)
class ConstantFactor(Schedule):
    """torch's ``ConstantLR``: ``factor`` for the first ``total_iters`` updates, then 1.

    Args:
        factor (`float`, *optional*, defaults to 1/3):
            The multiplier at first, in [0, 1].
        total_iters (`int`, *optional*, defaults to 5):
            How long it lasts.

    Example:
        >>> from hf_lr.equivalents import ConstantFactor
        >>> ConstantFactor(factor=0.5, total_iters=2).values(range(4)).tolist()
        [0.5, 0.5, 1.0, 1.0]
    """

    factor: float = 1.0 / 3
    total_iters: int = 5

    def __post_init__(self) -> None:
        _set(
            self,
            factor=check_float("factor", self.factor, minimum=0.0, maximum=1.0),
            total_iters=check_int("total_iters", self.total_iters),
        )

    def _formula(self, step: Any, xp: Forms) -> Any:
        return xp.where(step < self.total_iters, self.factor, 1.0)

    def boundaries(self) -> tuple[int, ...]:
        return (self.total_iters,)


@dataclasses.dataclass(frozen=True)
class TimmCosine(_Absolute, _Piecewise):
    """timm's ``CosineLRScheduler`` per update: warmup, cosine cycles with ``cycle_mul``, ``cycle_decay``,
    ``cycle_limit`` and ``k_decay``.

    Warmup rises linearly from the absolute ``warmup_lr_init`` over ``warmup_t`` updates. Then (on a clock that
    starts after warmup if ``warmup_prefix``) cycle ``i`` lasts ``t_initial * cycle_mul ** i`` updates and goes from
    ``lr * cycle_decay ** i`` down to the absolute ``lr_min`` as ``cos(pi * t ** k / T ** k)``; after ``cycle_limit``
    cycles the learning rate is ``lr_min``.

    Args:
        t_initial (`int`):
            The length of the first cycle (>= 1).
        lr_min (`float`, *optional*, defaults to 0.0):
            The absolute minimum.
        cycle_mul (`float`, *optional*, defaults to 1.0):
            The growth of each cycle's length, in [1, 2**53] (a longer cycle never ends).
        cycle_decay (`float`, *optional*, defaults to 1.0):
            The decay of each cycle's peak, in (0, 1].
        cycle_limit (`int`, *optional*, defaults to 1):
            The number of cycles.
        k_decay (`float`, *optional*, defaults to 1.0):
            The k-decay exponent (> 0). Where timm's ``t ** k / T ** k`` overflows (it raises), the equal
            ``(t / T) ** k`` is used.
        warmup_t (`int`, *optional*, defaults to 0):
            Warmup updates.
        warmup_lr_init (`float`, *optional*, defaults to 0.0):
            The absolute learning rate warmup starts from.
        warmup_prefix (`bool`, *optional*, defaults to `False`):
            Whether the cycles start after warmup (else warmup overlaps the first cycle).

    Example:
        >>> from hf_lr.equivalents import TimmCosine
        >>> s = TimmCosine(t_initial=4, cycle_limit=2, cycle_decay=0.5).bind(1.0)
        >>> [round(float(v), 4) for v in s.values(range(10))]
        [1.0, 0.8536, 0.5, 0.1464, 0.5, 0.4268, 0.25, 0.0732, 0.0, 0.0]
    """

    t_initial: int
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    k_decay: float = 1.0
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    group_lr: float | None = None

    absolute_fields: ClassVar[tuple[str, ...]] = ("lr_min", "warmup_lr_init")
    epoch_fields: ClassVar[tuple[str, ...]] = ("t_initial", "warmup_t")

    def __post_init__(self) -> None:
        _set(
            self,
            t_initial=check_int("t_initial", self.t_initial, minimum=1),
            lr_min=check_float("lr_min", self.lr_min, minimum=0.0),
            # Bounded: a cycle longer than 2**53 updates never ends (and a larger multiplier overflows the index maths).
            cycle_mul=check_float("cycle_mul", self.cycle_mul, minimum=1.0, maximum=float(MAX_INT)),
            cycle_decay=check_float("cycle_decay", self.cycle_decay, minimum=0.0, maximum=1.0, exclusive_minimum=True),
            cycle_limit=check_int("cycle_limit", self.cycle_limit, minimum=1),
            k_decay=check_float("k_decay", self.k_decay, minimum=0.0, exclusive_minimum=True),
            warmup_t=check_int("warmup_t", self.warmup_t),
            warmup_lr_init=check_float("warmup_lr_init", self.warmup_lr_init, minimum=0.0),
            warmup_prefix=check_bool("warmup_prefix", self.warmup_prefix),
            group_lr=check_optional_float("group_lr", self.group_lr, minimum=0.0),
        )

    def _cycle_start(self, index: Any, xp: Forms) -> Any:
        """Where cycle ``index`` starts: ``t_initial * (m ** index - 1) / (m - 1)``, well-conditioned near m = 1."""
        # numpy's expm1 in both the scalar and the vectorized form: math.expm1 can differ by an ulp, which would
        # put an exact cycle boundary on different sides in the two forms.
        log_m = math.log1p(self.cycle_mul - 1.0)
        return xp.to_float(self.t_initial * np.expm1(index * log_m) / np.expm1(log_m))

    def _cycle(self, t: Any, xp: Forms) -> tuple[Any, Any, Any]:
        """(cycle index, position in it, its length) of ``t`` (a logarithm, then an exact correction)."""
        if self.cycle_mul == 1.0:
            index = t // self.t_initial
            return index, t - self.t_initial * index, float(self.t_initial)
        m = self.cycle_mul
        index = xp.maximum(0, xp.floor(xp.log1p(t / self.t_initial * (m - 1.0)) / math.log1p(m - 1.0)))
        too_far = (index > 0) & (self._cycle_start(index, xp) > t)
        while xp.any(too_far):
            index = index - too_far
            too_far = (index > 0) & (self._cycle_start(index, xp) > t)
        short = self._cycle_start(index + 1, xp) <= t
        while xp.any(short):
            index = index + short
            short = self._cycle_start(index + 1, xp) <= t
        start = self._cycle_start(index, xp)
        return index, xp.maximum(0.0, t - start), self._cycle_start(index + 1, xp) - start

    def _piece_bounds(self) -> tuple[int, ...]:
        return (self.warmup_t,)

    def _piece(self, in_cycles: int, step: Any, xp: Forms) -> Any:
        lr = self._lr()
        if not in_cycles:
            return (self.warmup_lr_init + step * ((lr - self.warmup_lr_init) / self.warmup_t)) / lr
        index, position, length = self._cycle(step - self.warmup_t if self.warmup_prefix else step, xp)
        k = self.k_decay
        # timm's operations, position ** k / length ** k (x ** 1.0 == x: the two powers skipped at k == 1)
        ratio = position / length if k == 1.0 else xp.ratio_of_powers(position, length, k)
        peak = lr * xp.fast_power(self.cycle_decay, index)
        value = self.lr_min + 0.5 * (peak - self.lr_min) * (1 + xp.cos(math.pi * ratio))
        return xp.where(index >= self.cycle_limit, self.lr_min, value) / lr

    def boundaries(self) -> tuple[int, ...]:
        shift = self.warmup_t if self.warmup_prefix else 0
        ends, total = [], 0.0
        for i in range(min(self.cycle_limit, MAX_BOUNDARIES)):
            try:
                total += self.t_initial * self.cycle_mul**i
            except OverflowError:
                break
            if total > MAX_INT:
                break
            ends.append(int(round(total)) + shift)
        return ((self.warmup_t,) if self.warmup_t else ()) + tuple(ends)

    def horizon(self) -> int | None:
        return self.boundaries()[-1]


@dataclasses.dataclass(frozen=True)
class TriStage(_Piecewise):
    """fairseq's tri-stage schedule: linear warmup from ``init_lr_scale``, hold, exponential decay to
    ``final_lr_scale``, then ``final_lr_scale``.

    Args:
        warmup_steps (`int`):
            Warmup updates.
        hold_steps (`int`):
            Updates at the peak.
        decay_steps (`int`):
            Updates of the exponential decay.
        init_lr_scale (`float`, *optional*, defaults to 0.01):
            The multiplier at update 0, in [0, 1].
        final_lr_scale (`float`, *optional*, defaults to 0.01):
            The multiplier after decay, in (0, 1].

    Example:
        >>> from hf_lr.equivalents import TriStage
        >>> s = TriStage(warmup_steps=2, hold_steps=1, decay_steps=2, init_lr_scale=0.0, final_lr_scale=0.25)
        >>> s.values(range(7)).tolist()
        [0.0, 0.5, 1.0, 1.0, 0.5, 0.25, 0.25]
    """

    warmup_steps: int
    hold_steps: int
    decay_steps: int
    init_lr_scale: float = 0.01
    final_lr_scale: float = 0.01

    def __post_init__(self) -> None:
        _set(
            self,
            warmup_steps=check_int("warmup_steps", self.warmup_steps),
            hold_steps=check_int("hold_steps", self.hold_steps),
            decay_steps=check_int("decay_steps", self.decay_steps),
            init_lr_scale=check_float("init_lr_scale", self.init_lr_scale, minimum=0.0, maximum=1.0),
            final_lr_scale=check_float(
                "final_lr_scale", self.final_lr_scale, minimum=0.0, maximum=1.0, exclusive_minimum=True
            ),
        )

    def _piece_bounds(self) -> tuple[int, ...]:
        return self.boundaries()

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        w, h, d = self.warmup_steps, self.hold_steps, self.decay_steps
        if index == 0:
            return self.init_lr_scale + (1.0 - self.init_lr_scale) * step / w
        if index == 1:
            return 1.0
        if index == 2:
            return xp.exp(math.log(self.final_lr_scale) * (step - w - h) / d)
        return self.final_lr_scale

    def boundaries(self) -> tuple[int, ...]:
        w, h, d = self.warmup_steps, self.hold_steps, self.decay_steps
        return (w, w + h, w + h + d)

    def horizon(self) -> int | None:
        return self.warmup_steps + self.hold_steps + self.decay_steps


@dataclasses.dataclass(frozen=True)
class DeepSpeedWarmup(_Absolute, _Piecewise):
    """DeepSpeed's ``WarmupLR`` (and ``WarmupDecayLR`` with ``total_num_steps``).

    From the absolute ``warmup_min_lr`` to the group's learning rate (DeepSpeed's ``warmup_max_lr``) over
    ``warmup_num_steps`` updates, log-shaped (``log(step + 1) / log(warmup_num_steps)``) or linear; then constant, or,
    with ``total_num_steps``, linearly back down to ``warmup_min_lr`` at ``total_num_steps``.

    Args:
        warmup_num_steps (`int`, *optional*, defaults to 1000):
            Warmup updates (DeepSpeed uses at least 2).
        warmup_min_lr (`float`, *optional*, defaults to 0.0):
            The absolute starting (and, with decay, final) learning rate.
        warmup_type (`str`, *optional*, defaults to `"log"`):
            ``"log"`` or ``"linear"``.
        total_num_steps (`int`, *optional*):
            With it, ``WarmupDecayLR``'s linear decay.

    Example:
        >>> from hf_lr.equivalents import DeepSpeedWarmup
        >>> s = DeepSpeedWarmup(warmup_num_steps=4, warmup_type="linear", total_num_steps=8).bind(1.0)
        >>> s.values(range(10)).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """

    warmup_num_steps: int = 1000
    warmup_min_lr: float = 0.0
    warmup_type: str = "log"
    total_num_steps: int | None = None
    group_lr: float | None = None

    absolute_fields: ClassVar[tuple[str, ...]] = ("warmup_min_lr",)

    def __post_init__(self) -> None:
        _set(
            self,
            warmup_num_steps=max(2, check_int("warmup_num_steps", self.warmup_num_steps, minimum=1)),
            warmup_min_lr=check_float("warmup_min_lr", self.warmup_min_lr, minimum=0.0),
            warmup_type=check_choice("warmup_type", self.warmup_type, ("log", "linear")),
            total_num_steps=check_optional_int("total_num_steps", self.total_num_steps, minimum=1),
            group_lr=check_optional_float("group_lr", self.group_lr, minimum=0.0),
        )
        if self.total_num_steps is not None and self.total_num_steps < self.warmup_num_steps:
            raise ValueError(
                f"`total_num_steps` must be >= `warmup_num_steps`, got total_num_steps={self.total_num_steps}, "
                f"warmup_num_steps={self.warmup_num_steps}"
            )

    def _piece_bounds(self) -> tuple[int, ...]:
        return (self.warmup_num_steps,)

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        lr, w = self._lr(), self.warmup_num_steps
        if index == 0:
            gamma = xp.log(step + 1) / math.log(w) if self.warmup_type == "log" else step / w
        elif self.total_num_steps is None:
            gamma = 1.0
        else:
            gamma = xp.maximum(0.0, (self.total_num_steps - step) / max(1.0, self.total_num_steps - w))
        return (self.warmup_min_lr + (lr - self.warmup_min_lr) * gamma) / lr

    def boundaries(self) -> tuple[int, ...]:
        return (self.warmup_num_steps,) + ((self.total_num_steps,) if self.total_num_steps else ())

    def horizon(self) -> int | None:
        return self.total_num_steps


# Translators: the registered names' arguments (Transformers-style step counts, torch's and timm's own keywords) to
# the schedules above. `hf_lr.names` lists them; errors name what the user passed (`user_names`).


def _one_cycle(
    total_steps: int | None = None,
    max_lr: float | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    names: dict[str, str] = {}
    if epochs is not None or steps_per_epoch is not None:
        if epochs is None or steps_per_epoch is None or total_steps is not None:
            raise ValueError(
                "one_cycle takes `total_steps` or both `epochs` and `steps_per_epoch`, as torch's OneCycleLR"
            )
        # Checked before multiplying: a list times a large int would allocate it (JSON can send either).
        epochs, steps_per_epoch = (
            check_int("epochs", epochs, minimum=1),
            check_int("steps_per_epoch", steps_per_epoch, minimum=1),
        )
        if epochs * steps_per_epoch > MAX_INT:
            raise ValueError(
                f"`epochs * steps_per_epoch` must be <= {MAX_INT} (2**53), got epochs={epochs}, steps_per_epoch={steps_per_epoch}"
            )
        total_steps, names["total_steps"] = epochs * steps_per_epoch, "epochs * steps_per_epoch"
    if total_steps is None:
        raise ValueError("one_cycle needs `total_steps` (or `num_training_steps`, or `epochs` and `steps_per_epoch`)")
    with user_names(**names):
        return OneCycle(total_steps, max_lr, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase)


def _timm_cosine(
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    t_initial: int | None = None,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    k_decay: float = 1.0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    steps_per_epoch: int | None = None,
    staircase: bool = False,
) -> Schedule:
    warmup_t = num_warmup_steps or 0
    names = {"warmup_t": "num_warmup_steps"}
    if steps_per_epoch is not None:  # timm's t_in_epochs: t_initial and warmup_t count epochs
        steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, minimum=1)
        if t_initial is None:
            raise ValueError(
                "timm_cosine with `steps_per_epoch` needs `t_initial` in epochs in scheduler_specific_kwargs "
                "(`num_training_steps` counts updates), got t_initial=None"
            )
        if warmup_t % steps_per_epoch:
            raise ValueError(
                "timm_cosine with `steps_per_epoch` warms up over whole epochs (timm's warmup_t): `num_warmup_steps` "
                f"must be a multiple of steps_per_epoch={steps_per_epoch}, got num_warmup_steps={warmup_t}"
            )
        warmup_t //= steps_per_epoch
    if t_initial is None:
        if num_training_steps is None:
            raise ValueError("timm_cosine needs `t_initial` or `num_training_steps`")
        prefix = check_bool("warmup_prefix", warmup_prefix)
        t_initial = num_training_steps - warmup_t if prefix else num_training_steps
        names["t_initial"] = "num_training_steps - num_warmup_steps" if prefix and warmup_t else "num_training_steps"
    with user_names(**names):
        schedule = TimmCosine(
            t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, k_decay, warmup_t, warmup_lr_init, warmup_prefix
        )
    return in_epochs(schedule, steps_per_epoch, staircase)


def _tri_stage(
    num_warmup_steps: int,
    num_training_steps: int | None = None,
    hold_steps: int | None = None,
    decay_steps: int | None = None,
    phase_ratio: list[float] | None = None,
    init_lr_scale: float = 0.01,
    final_lr_scale: float = 0.01,
) -> Schedule:
    hold_steps, decay_steps = (
        check_optional_int("hold_steps", hold_steps),
        check_optional_int("decay_steps", decay_steps),
    )
    if phase_ratio is not None:
        if not isinstance(phase_ratio, (list, tuple)):
            raise TypeError(f"`phase_ratio` must be a list of three fractions, got {short_repr(phase_ratio)}")
        ratios = [check_float(f"phase_ratio[{i}]", r, minimum=0.0, maximum=1.0) for i, r in enumerate(phase_ratio)]
        if num_training_steps is None or len(ratios) != 3 or abs(sum(ratios) - 1.0) > 1e-9:
            raise ValueError(
                f"`phase_ratio` needs `num_training_steps` and three fractions summing to 1, got phase_ratio={ratios}"
            )
        num_warmup_steps, hold_steps, decay_steps = (int(num_training_steps * r) for r in ratios)
    hold_steps = 0 if hold_steps is None else hold_steps
    if decay_steps is None:
        if num_training_steps is None:
            raise ValueError("tri_stage needs `decay_steps`, `phase_ratio`, or `num_training_steps`")
        decay_steps = num_training_steps - num_warmup_steps - hold_steps
        if decay_steps < 0:
            raise ValueError(
                f"`num_warmup_steps + hold_steps` must be <= `num_training_steps`, got {num_warmup_steps} + {hold_steps} "
                f"> {num_training_steps}"
            )
    with user_names(warmup_steps="num_warmup_steps"):
        return TriStage(num_warmup_steps, hold_steps, decay_steps, init_lr_scale, final_lr_scale)


def _deepspeed(
    num_warmup_steps: int, warmup_min_lr: float = 0.0, warmup_type: str = "log", num_training_steps: int | None = None
) -> Schedule:
    with user_names(warmup_num_steps="num_warmup_steps", total_num_steps="num_training_steps"):
        return DeepSpeedWarmup(num_warmup_steps, warmup_min_lr, warmup_type, num_training_steps)


def _deepspeed_no_decay(num_warmup_steps: int, warmup_min_lr: float = 0.0, warmup_type: str = "log") -> Schedule:
    return _deepspeed(num_warmup_steps, warmup_min_lr, warmup_type)
