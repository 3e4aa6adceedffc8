"""Schedules built from schedules: warmup for any schedule, joins of phases, floors, cycles.

Each composite is itself a closed-form :class:`~hf_lr.Schedule` (a frozen dataclass whose children are schedules), so
it pickles, records a nested configuration in the scheduler's state, resumes in O(1) and has a vectorized form. Every
child runs on its own local clock: in ``Join((a, b), boundaries=(100,))``, ``b`` sees step 0 at global step 100.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np

from hf_lr._forms import Forms, scalar_cycle
from hf_lr._validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_optional_float,
    check_optional_int,
    no_more_arguments,
    renamed_argument,
    user_names,
)
from hf_lr.schedules import (
    MAX_BOUNDARIES,
    Constant,
    Schedule,
    _fall,
    _from_start,
    _Piecewise,
    _rise,
    _set,
    absolute_ratio,
)

__all__ = [
    "DECAY_SHAPES",
    "WARMUP_KINDS",
    "Cycles",
    "Decay",
    "Floor",
    "Join",
    "Warmup",
    "cycles",
    "join",
    "warmup",
    "with_floor",
]

WARMUP_KINDS = ("linear", "cosine", "exponential", "log", "1-sqrt")
DECAY_SHAPES = ("linear", "cosine", "polynomial", "exponential", "1-sqrt")

#: the constant multiplier 1 under its former name here (one class: :class:`hf_lr.schedules.Constant`)
Constant1 = Constant


def _check_schedule(name: str, value: Any) -> Schedule:
    if not isinstance(value, Schedule):
        raise TypeError(f"`{name}` must be a hf_lr Schedule, got {value!r} ({type(value).__name__})")
    return value


class _Wraps(Schedule):
    """Base of the schedules that wrap one child, ``self.schedule``: binding, and whether it needs a base or a
    reference lr, pass through to the child."""

    schedule: Schedule

    @property
    def needs_base_lr(self) -> bool:  # type: ignore[override]
        return self.schedule.needs_base_lr

    @property
    def uses_reference_lr(self) -> bool:  # type: ignore[override]
        return self.schedule.uses_reference_lr

    def bind(self, base_lr: float, reference_lr: float | None = None) -> Schedule:
        return dataclasses.replace(self, schedule=self.schedule.bind(base_lr, reference_lr))  # type: ignore[call-arg]


def _decay_shape(shape: str, progress: Any, power: float, end: float, xp: Forms) -> Any:
    """From 1 at progress 0 to ``end`` at progress 1."""
    if shape == "exponential":  # geometric from 1 to end (end > 0)
        return end**progress
    return end + (1.0 - end) * _fall(shape, progress, xp, power=power)


@dataclasses.dataclass(frozen=True)
class Decay(Schedule):
    """From 1 down to ``end`` over ``num_steps`` updates, then ``end``: a building block for joins.

    Shapes: ``"linear"``, ``"cosine"`` (half cosine), ``"polynomial"`` (``(1 - p) ** power``), ``"exponential"``
    (geometric, ``end > 0``), ``"1-sqrt"``.

    Args:
        num_steps (`int`):
            The length of the decay (>= 1).
        decay_type (`str`, *optional*, defaults to `"cosine"`):
            The shape (Transformers' name in ``get_wsd_schedule``; formerly `shape`).
        end (`float`, *optional*, defaults to 0.0):
            The final multiplier, in [0, 1].
        power (`float`, *optional*, defaults to 1.0):
            The power of the polynomial shape.

    Example:
        >>> from hf_lr.compose import Decay
        >>> [round(float(v), 4) for v in Decay(4, "linear", end=0.2).values(range(6))]
        [1.0, 0.8, 0.6, 0.4, 0.2, 0.2]
    """

    num_steps: int
    decay_type: str = "cosine"
    end: float = 0.0
    power: float = 1.0

    def __post_init__(self) -> None:
        _set(
            self,
            num_steps=check_int("num_steps", self.num_steps, minimum=1),
            decay_type=check_choice("decay_type", self.decay_type, DECAY_SHAPES),
            end=check_float("end", self.end, minimum=0.0, maximum=1.0),
            power=check_float("power", self.power, minimum=0.0, exclusive_minimum=True),
        )
        if self.decay_type == "exponential" and self.end == 0.0:
            raise ValueError("an exponential decay needs `end` > 0 (it is geometric), got end=0.0")

    def _formula(self, step: Any, xp: Forms) -> Any:
        progress = xp.minimum(step, self.num_steps) / self.num_steps
        return xp.maximum(0.0, _decay_shape(self.decay_type, progress, self.power, self.end, xp))

    def boundaries(self) -> tuple[int, ...]:
        return (self.num_steps,)

    def horizon(self) -> int | None:
        return self.num_steps


def _ramp(kind: str, step: Any, num_steps: int, start: float, xp: Forms) -> Any:
    """From ``start`` at step 0 towards 1 at ``num_steps``."""
    progress = step / num_steps
    if kind == "log":  # DeepSpeed's log-shaped warmup: log(step + 1) / log(num_steps + 1)
        return start + (1.0 - start) * xp.log(step + 1.0) / math.log(num_steps + 1.0)
    if kind == "exponential":  # geometric from start to 1
        return start ** (1.0 - progress)
    return _from_start(start, _rise(kind, progress, xp))


@dataclasses.dataclass(frozen=True)
class Warmup(_Wraps, _Piecewise):
    """Warm any schedule up over ``num_warmup_steps`` updates.

    During warmup the multiplier ramps (``warmup_type``: ``"linear"``, ``"cosine"``, ``"exponential"`` (geometric, needs
    ``start_factor > 0``), ``"log"`` (DeepSpeed's), ``"1-sqrt"``) from ``start_factor`` times the target to the
    target, the value the schedule takes right after warmup. With ``prefix=True`` (default) the schedule starts after
    warmup on its own clock (it sees step 0 at update ``num_warmup_steps``); with ``prefix=False`` it runs from update
    0 and warmup covers its first updates.

    Args:
        schedule (`Schedule`):
            The schedule to warm up.
        num_warmup_steps (`int`):
            The number of warmup updates (0: no warmup).
        warmup_type (`str`, *optional*, defaults to `"linear"`):
            The ramp's shape (Transformers' name in ``get_wsd_schedule``; formerly `kind`).
        start_factor (`float`, *optional*, defaults to 0.0):
            The fraction of the target at update 0, in [0, 1].
        prefix (`bool`, *optional*, defaults to `True`):
            Whether the schedule's clock starts after warmup.

    Example:
        >>> from hf_lr.compose import Decay, Warmup
        >>> Warmup(Decay(4, "linear"), num_warmup_steps=2).values(range(8)).tolist()
        [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """

    schedule: Schedule
    num_warmup_steps: int
    warmup_type: str = "linear"
    start_factor: float = 0.0
    prefix: bool = True

    def __post_init__(self) -> None:
        _set(
            self,
            schedule=_check_schedule("schedule", self.schedule),
            num_warmup_steps=check_int("num_warmup_steps", self.num_warmup_steps),
            warmup_type=check_choice("warmup_type", self.warmup_type, WARMUP_KINDS),
            start_factor=check_float("start_factor", self.start_factor, minimum=0.0, maximum=1.0),
            prefix=check_bool("prefix", self.prefix),
        )
        if self.warmup_type == "exponential" and self.start_factor == 0.0:
            raise ValueError("an exponential warmup needs `start_factor` > 0 (it is geometric), got start_factor=0.0")

    def _inner_step(self, step: Any) -> Any:
        return step - self.num_warmup_steps if self.prefix else step

    def _piece_bounds(self) -> tuple[int, ...]:
        return (self.num_warmup_steps,)

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        w = self.num_warmup_steps
        if index:
            return xp.of(self.schedule, self._inner_step(step))
        target = self.schedule(0 if self.prefix else w)
        return target * _ramp(self.warmup_type, step, w, self.start_factor, xp)

    def range_values(self, start: int, stop: int) -> np.ndarray:
        w, shift = self.num_warmup_steps, self.num_warmup_steps if self.prefix else 0
        if start >= w:
            return self.schedule.range_values(start - shift, stop - shift)
        if stop <= w:
            return super().range_values(start, stop)
        return np.concatenate((super().range_values(start, w), self.schedule.range_values(w - shift, stop - shift)))

    def boundaries(self) -> tuple[int, ...]:
        shift = self.num_warmup_steps if self.prefix else 0
        inner = tuple(b + shift for b in self.schedule.boundaries() if b + shift > self.num_warmup_steps)
        return ((self.num_warmup_steps,) if self.num_warmup_steps else ()) + inner

    def horizon(self) -> int | None:
        inner = self.schedule.horizon()
        return None if inner is None else inner + self.num_warmup_steps if self.prefix else inner


@dataclasses.dataclass(frozen=True)
class Join(_Piecewise):
    """Phases one after the other, each on its own clock: ``schedules[i](step - boundaries[i - 1])``.

    ``schedules[i]`` is used from ``boundaries[i - 1]`` (0 for the first) up to ``boundaries[i]``; the last one runs
    forever. A mismatched number of boundaries raises (there is no silent truncation).

    Args:
        schedules (`tuple[Schedule, ...]`):
            The phases.
        boundaries (`tuple[int, ...]`):
            The global steps where each phase after the first starts: ``len(schedules) - 1`` increasing values.

    Example:
        >>> from hf_lr.schedules import Constant
        >>> from hf_lr.compose import Decay, Join
        >>> Join((Constant(), Decay(2, "linear")), boundaries=(3,)).values(range(7)).tolist()
        [1.0, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    """

    schedules: tuple[Schedule, ...]
    boundaries_: tuple[int, ...]

    def __init__(self, schedules: Any, boundaries: Any) -> None:
        schedules = tuple(_check_schedule(f"schedules[{i}]", s) for i, s in enumerate(schedules))
        bounds = tuple(check_int(f"boundaries[{i}]", b, minimum=1) for i, b in enumerate(boundaries))
        if len(schedules) == 0:
            raise ValueError("`schedules` must hold at least one schedule, got none")
        if len(bounds) != len(schedules) - 1:
            raise ValueError(
                f"`boundaries` must have len(schedules) - 1 = {len(schedules) - 1} values, got {len(bounds)}: {bounds}"
            )
        if any(b >= c for b, c in itertools.pairwise(bounds)):
            raise ValueError(f"`boundaries` must be strictly increasing, got {bounds}")
        object.__setattr__(self, "schedules", schedules)
        object.__setattr__(self, "boundaries_", bounds)

    def config(self) -> dict[str, Any]:
        return {"type": "Join", "schedules": [s.config() for s in self.schedules], "boundaries": list(self.boundaries_)}

    @property
    def needs_base_lr(self) -> bool:  # type: ignore[override]
        return any(s.needs_base_lr for s in self.schedules)

    @property
    def uses_reference_lr(self) -> bool:  # type: ignore[override]
        return any(s.uses_reference_lr for s in self.schedules)

    def bind(self, base_lr: float, reference_lr: float | None = None) -> Schedule:
        return Join(tuple(s.bind(base_lr, reference_lr) for s in self.schedules), self.boundaries_)

    def _piece_bounds(self) -> tuple[int, ...]:
        return self.boundaries_

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        return xp.of(self.schedules[index], step - self.boundaries_[index - 1] if index else step)

    def range_values(self, start: int, stop: int) -> np.ndarray:
        out = np.empty(stop - start, dtype=np.float64)
        starts = (0,) + self.boundaries_
        ends = self.boundaries_ + (max(stop, starts[-1]),)
        for schedule, first, end in zip(self.schedules, starts, ends):
            low, high = max(start, first), min(stop, end)
            if low < high:
                out[low - start : high - start] = schedule.range_values(low - first, high - first)
        return out

    def horizon(self) -> int | None:
        last = self.schedules[-1].horizon()
        return None if last is None else self.boundaries_[-1] + last

    def boundaries(self) -> tuple[int, ...]:
        starts = (0,) + self.boundaries_
        inner = {start + b for start, s in zip(starts, self.schedules) for b in s.boundaries()}
        return tuple(sorted(set(self.boundaries_) | inner))


@dataclasses.dataclass(frozen=True)
class Floor(Schedule):
    """A minimum learning rate under any schedule: absolute (``min_lr``, per group) or a ratio (``min_lr_ratio``).

    ``mode="rescale"`` (default) maps the schedule's ``[0, 1]`` onto ``[floor, 1]`` (``r + (1 - r) * f``, the
    Transformers/torch ``eta_min`` convention); ``mode="clip"`` is ``max(f, r)``.

    Args:
        schedule (`Schedule`):
            The schedule to floor.
        min_lr (`float`, *optional*):
            The absolute floor, reached by every group (per group, like torch's ``eta_min``; a group whose learning
            rate is below it rises to it). Exactly one of `min_lr` and `min_lr_ratio` is set.
        min_lr_ratio (`float`, *optional*):
            The floor as a ratio of each group's learning rate, in [0, 1].
        mode (`str`, *optional*, defaults to `"rescale"`):
            ``"rescale"`` or ``"clip"``.

    Example:
        >>> from hf_lr.compose import Decay, Floor
        >>> Floor(Decay(2, "linear"), min_lr_ratio=0.1).values(range(4)).tolist()
        [1.0, 0.55, 0.1, 0.1]
    """

    schedule: Schedule
    min_lr: float | None = None
    min_lr_ratio: float | None = None
    mode: str = "rescale"

    def __post_init__(self) -> None:
        if (self.min_lr is None) == (self.min_lr_ratio is None):
            raise ValueError(
                f"exactly one of `min_lr` and `min_lr_ratio` must be set, got min_lr={self.min_lr}, "
                f"min_lr_ratio={self.min_lr_ratio}"
            )
        _set(
            self,
            schedule=_check_schedule("schedule", self.schedule),
            min_lr=check_optional_float("min_lr", self.min_lr, minimum=0.0),
            min_lr_ratio=check_optional_float("min_lr_ratio", self.min_lr_ratio, minimum=0.0, maximum=1.0),
            mode=check_choice("mode", self.mode, ("rescale", "clip")),
        )

    @property
    def needs_base_lr(self) -> bool:  # type: ignore[override]
        return self.min_lr is not None or self.schedule.needs_base_lr

    @property
    def uses_reference_lr(self) -> bool:  # type: ignore[override]
        return self.schedule.uses_reference_lr

    def bind(self, base_lr: float, reference_lr: float | None = None) -> Schedule:
        inner = self.schedule.bind(base_lr, reference_lr)
        if self.min_lr is None:
            return Floor(inner, min_lr_ratio=self.min_lr_ratio, mode=self.mode)
        bound = Floor(inner, min_lr_ratio=0.0, mode=self.mode)
        # A group whose lr is below the absolute floor rises to it: its ratio is above 1, which only binding may set.
        _set(bound, min_lr_ratio=absolute_ratio("min_lr", self.min_lr, base_lr))
        return bound

    def _ratio(self) -> float:
        if self.min_lr_ratio is None:
            raise ValueError("Floor with an absolute `min_lr` must be bound to the group's lr: call `.bind(lr)` first")
        return self.min_lr_ratio

    def _formula(self, step: Any, xp: Forms) -> Any:
        ratio, value = self._ratio(), xp.of(self.schedule, step)
        return ratio + (1.0 - ratio) * value if self.mode == "rescale" else xp.maximum(value, ratio)

    def boundaries(self) -> tuple[int, ...]:
        return self.schedule.boundaries()

    def horizon(self) -> int | None:
        return self.schedule.horizon()


@dataclasses.dataclass(frozen=True)
class Cycles(_Wraps):
    """Repeat a schedule in cycles: cycle ``i`` lasts ``period * period_mult ** i`` updates, scaled by ``decay ** i``.

    The child runs on the cycle's clock and should span ``period`` updates (its value at the cycle's length is where
    the cycle ends). After ``limit`` cycles (if set) the multiplier stays at the value the last cycle ends with. The
    cycle of step ``k`` is found in closed form (``period_mult`` is an integer, as torch's ``T_mult``).

    Args:
        schedule (`Schedule`):
            One cycle's shape, on a clock from 0 to ``period``.
        period (`int`):
            The length of the first cycle (>= 1).
        period_mult (`int`, *optional*, defaults to 1):
            Each cycle is this many times longer than the previous one (>= 1).
        decay (`float`, *optional*, defaults to 1.0):
            Each cycle's amplitude is this times the previous one's (in (0, 1]).
        limit (`int`, *optional*):
            The number of cycles (``None``: forever).

    Example:
        >>> from hf_lr.compose import Cycles, Decay
        >>> Cycles(Decay(2, "linear"), period=2, decay=0.5).values(range(7)).tolist()
        [1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]
    """

    schedule: Schedule
    period: int
    period_mult: int = 1
    decay: float = 1.0
    limit: int | None = None

    def __post_init__(self) -> None:
        _set(
            self,
            schedule=_check_schedule("schedule", self.schedule),
            period=check_int("period", self.period, minimum=1),
            period_mult=check_int("period_mult", self.period_mult, minimum=1),
            decay=check_float("decay", self.decay, minimum=0.0, maximum=1.0, exclusive_minimum=True),
            limit=check_optional_int("limit", self.limit, minimum=1),
        )

    def cycle_start(self, index: int) -> int:
        """The global step at which cycle ``index`` starts."""
        if self.period_mult == 1:
            return self.period * index
        return self.period * (self.period_mult**index - 1) // (self.period_mult - 1)

    def cycle_of(self, step: int) -> int:
        """The index of the cycle that contains ``step`` (O(1): a logarithm and an exact integer correction)."""
        return scalar_cycle(step, self.period, self.period_mult)[0]

    def _formula(self, step: Any, xp: Forms) -> Any:
        index, start, _ = xp.cycle(step, self.period, self.period_mult)
        return xp.piecewise(index, () if self.limit is None else (self.limit,), self._in_cycle, step - start)

    def _in_cycle(self, past_limit: int, index: Any, xp: Forms, local: Any) -> Any:
        if past_limit:  # held after `limit` cycles: where the last cycle ends
            assert self.limit is not None
            last = self.limit - 1
            return self.decay**last * self.schedule(self.cycle_start(last + 1) - self.cycle_start(last))
        return self.decay**index * xp.of(self.schedule, local)

    def boundaries(self) -> tuple[int, ...]:
        count = min(self.limit, MAX_BOUNDARIES) if self.limit is not None else 8
        return tuple(self.cycle_start(i) for i in range(1, count + 1))


def warmup(
    schedule: Schedule,
    num_warmup_steps: int,
    warmup_type: str = "linear",
    start_factor: float = 0.0,
    prefix: bool = True,
    **former: Any,
) -> Warmup:
    """Warm ``schedule`` up over ``num_warmup_steps`` updates; see :class:`Warmup`.

    Example:
        >>> from hf_lr import build_schedule, warmup
        >>> s = warmup(build_schedule("cosine_annealing", T_max=4), 2, warmup_type="cosine")
        >>> [round(float(v), 4) for v in s.values(range(7))]
        [0.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    warmup_type = renamed_argument(former, "kind", "warmup_type", warmup_type, "linear", "warmup()")
    no_more_arguments("warmup()", former)
    return Warmup(schedule, num_warmup_steps, warmup_type=warmup_type, start_factor=start_factor, prefix=prefix)


def join(*schedules: Schedule, boundaries: Any) -> Join:
    """Phases one after the other on local clocks; see :class:`Join`.

    Example:
        >>> from hf_lr import join
        >>> from hf_lr.schedules import Constant
        >>> from hf_lr.compose import Decay
        >>> join(Decay(2, "linear", end=0.5), Constant(), boundaries=[2]).values(range(4)).tolist()
        [1.0, 0.75, 1.0, 1.0]
    """
    return Join(schedules, boundaries)


def with_floor(
    schedule: Schedule, min_lr: float | None = None, min_lr_ratio: float | None = None, mode: str = "rescale"
) -> Floor:
    """Put a minimum learning rate under ``schedule``; see :class:`Floor`.

    Example:
        >>> from hf_lr import build_schedule, with_floor
        >>> with_floor(build_schedule("linear", 0, 2), min_lr_ratio=0.5, mode="clip").values(range(3)).tolist()
        [1.0, 0.5, 0.5]
    """
    return Floor(schedule, min_lr=min_lr, min_lr_ratio=min_lr_ratio, mode=mode)


def cycles(
    schedule: Schedule, period: int, period_mult: int = 1, decay: float = 1.0, limit: int | None = None
) -> Cycles:
    """Repeat ``schedule`` in cycles; see :class:`Cycles`.

    Example:
        >>> from hf_lr import cycles
        >>> from hf_lr.compose import Decay
        >>> cycles(Decay(2, "linear"), period=2, period_mult=2).values(range(7)).tolist()
        [1.0, 0.5, 1.0, 0.5, 0.0, 0.0, 1.0]
    """
    return Cycles(schedule, period, period_mult=period_mult, decay=decay, limit=limit)


# The translator of the registered name `warmup_hold_decay` (see `hf_lr.names`).
def _warmup_hold_decay(
    num_warmup_steps: int,
    num_training_steps: int,
    hold_steps: int = 0,
    decay_type: str = "cosine",
    power: float = 1.0,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
) -> Schedule:
    decay_steps = num_training_steps - num_warmup_steps - check_int("hold_steps", hold_steps)
    if decay_steps < 1:
        raise ValueError(
            "`num_warmup_steps + hold_steps` must be < `num_training_steps`, got "
            f"num_warmup_steps={num_warmup_steps}, hold_steps={hold_steps}, num_training_steps={num_training_steps}"
        )
    with user_names(end="min_lr_ratio"):
        tail: Schedule = Decay(decay_steps, decay_type, end=min_lr_ratio, power=power)
        if hold_steps:
            tail = Join((Constant(), tail), (hold_steps,))
        return Warmup(tail, num_warmup_steps, warmup_type=warmup_type)
