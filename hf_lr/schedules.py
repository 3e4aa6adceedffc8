"""Closed-form learning-rate schedules.

A schedule is a pure function of the optimizer-update count ``step`` (0 for the first update) that returns the
multiplier applied to a parameter group's base learning rate. Every schedule here:

- is a frozen dataclass whose fields are primitives (ints, floats, strings, bools, ``None``), so it pickles, compares
  by value and describes itself with :meth:`Schedule.config`;
- has a scalar form, ``schedule(step) -> float``, that uses the same float operations in the same order as
  Transformers' lambdas for the names both libraries share, so the numbers are identical;
- has a vectorized form, ``schedule.values(steps) -> numpy.ndarray``; both forms come from one formula,
  ``_formula(step, xp)`` (see :mod:`hf_lr._forms`), and are tested equal on dense grids.

Schedules whose value depends on an absolute learning rate (an ``lr_end`` or ``min_lr`` given in learning-rate units,
Noam's absolute mode) are *bound* with :meth:`Schedule.bind` before use. Each absolute argument means what it means in
the library its name comes from: Transformers' ``lr_end``/``min_lr`` are relative to the optimizer's *reference*
learning rate (``optimizer.defaults["lr"]``), so every group follows the same multiplier and layer-wise groups keep
their ratios; torch's, timm's and DeepSpeed's floors (``eta_min``, ``lr_min``, ...) are absolute per group.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from hf_lr._forms import Array, Forms, Scalar, as_values
from hf_lr._validation import (
    MAX_INT,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_number,
    check_optional_float,
    check_optional_int,
    check_warmup_within_training,
)

__all__ = [
    "Constant",
    "ConstantWithWarmup",
    "CosineWarmupWithMinLR",
    "CosineWithHardRestarts",
    "CosineWithMinLR",
    "CosineWithWarmup",
    "FunctionSchedule",
    "InverseSqrt",
    "LambdaSchedule",
    "LinearWithWarmup",
    "Noam",
    "PolynomialDecay",
    "Schedule",
    "WarmupStableDecay",
]

WSD_SHAPES = ("linear", "cosine", "1-sqrt")
# More cosine cycles than the largest step count would only sample the cosine below its period; the bound keeps
# pi * num_cycles * progress finite (a cos(inf) is a NaN) for every step up to 2**62.
MAX_CYCLES = float(MAX_INT)
# boundaries() lists at most this many repeated phase changes (restarts, cycles): they are for plots, and a count
# taken from an argument (num_cycles, cycle_limit) must not size a list.
MAX_BOUNDARIES = 64
NOAM_MODES = ("absolute", "peak", "scale")


def _as_steps(steps: Any) -> np.ndarray:
    array = np.asarray(steps)
    if array.dtype.kind not in "iu":
        raise TypeError(f"`steps` must be an array of integers, got dtype {array.dtype}")
    if array.size and array.min() < 0:
        raise ValueError(f"`steps` must be >= 0, got a minimum of {array.min()}")
    return array.astype(np.int64, copy=False)


def _plain(value: Any) -> Any:
    """Nested schedules as their configurations, tuples as lists: what ``torch.load(weights_only=True)`` reads."""
    if isinstance(value, Schedule):
        return value.config()
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def _set(instance: Any, **values: Any) -> None:
    for key, value in values.items():
        object.__setattr__(instance, key, value)


def _from_start(start: float, fraction: Any) -> Any:
    """Linear from ``start`` at fraction 0 to 1 at fraction 1 (scalars or arrays).

    With ``start == 0`` it returns ``fraction`` itself, so Transformers' warmup numbers stay identical.
    """
    return fraction if start == 0.0 else start + (1.0 - start) * fraction


def _rise(kind: str, progress: Any, xp: Forms) -> Any:
    """A warmup shape, from 0 at progress 0 to 1 at progress 1 (Transformers' WSD warmup shapes)."""
    if kind == "linear":
        return progress
    if kind == "cosine":
        return 0.5 * (1.0 - xp.cos(math.pi * progress))
    return 1.0 - xp.sqrt(1.0 - progress)  # "1-sqrt"


def _fall(shape: str, progress: Any, xp: Forms, num_cycles: float = 0.5, power: float = 1.0) -> Any:
    """A decay shape, from 1 at progress 0 to 0 at progress 1 (a cosine of ``num_cycles`` waves; Transformers' order
    of operations: with the default 0.5 waves, ``pi * 0.5 * 2.0 * progress`` is exactly ``pi * progress``)."""
    if shape == "cosine":
        return 0.5 * (1.0 + xp.cos(math.pi * num_cycles * 2.0 * progress))
    if shape == "linear":
        return 1.0 - progress
    if shape == "polynomial":
        return (1.0 - progress) ** power
    return 1.0 - xp.sqrt(progress)  # "1-sqrt"


#: field metadata of opt-in options added after the first release: recorded in :meth:`Schedule.config` only when set,
#: so scheduler states saved before an option existed still load into a schedule that leaves it at its default.
OPT_IN = {"opt_in": True}


def check_flag(name: str, value: Any) -> bool:
    """``value`` if it is a bool (a string such as ``"false"`` would be truthy: refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a bool (True or False), got {value!r} ({type(value).__name__})")
    return bool(value)


def _chain_post_init(instance: Any, cls: type) -> None:
    """Run the ``__post_init__`` that follows ``cls`` in ``instance``'s MRO (mixins combine with any base)."""
    parent = getattr(super(cls, instance), "__post_init__", None)
    if parent is not None:
        parent()


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Base class of closed-form schedules: ``multiplier = schedule(step)``.

    Subclasses are frozen dataclasses of primitive fields that write their formula once, as
    ``_formula(self, step, xp)`` with the operations of :mod:`hf_lr._forms`; ``schedule(step)`` and
    :meth:`values` both come from it. (A subclass may instead implement ``__call__`` alone: its values are then
    computed point by point.)

    Example:
        >>> from hf_lr.schedules import LinearWithWarmup
        >>> schedule = LinearWithWarmup(num_warmup_steps=2, num_training_steps=10)
        >>> [schedule(step) for step in range(4)]
        [0.0, 0.5, 1.0, 0.875]
        >>> schedule.values([0, 5, 10]).tolist()
        [0.0, 0.625, 0.0]
    """

    #: whether :meth:`bind` must be called with the group's base learning rate before evaluating.
    needs_base_lr: ClassVar[bool] = False
    #: whether :meth:`bind` reads ``reference_lr`` (Transformers' ``optimizer.defaults["lr"]``) rather than the group's lr.
    uses_reference_lr: ClassVar[bool] = False
    #: the fields that are lengths the original library counts in epochs (see :class:`hf_lr.epochs.Epochs`).
    epoch_fields: ClassVar[tuple[str, ...]] = ()

    def _formula(self, step: Any, xp: Forms) -> Any:
        """The multiplier at ``step``: one int with ``xp=Scalar``, an int64 array with ``xp=Array``."""
        raise NotImplementedError(f"{type(self).__name__} must define `_formula(step, xp)` or `__call__(step)`")

    def __call__(self, step: int) -> float:
        return float(self._formula(step, Scalar))

    def values(self, steps: Any) -> np.ndarray:
        """Vectorized multipliers at ``steps`` (an integer array-like of non-negative steps)."""
        steps = _as_steps(steps)
        return self._values(steps)

    def range_values(self, start: int, stop: int) -> np.ndarray:
        """``values(range(start, stop))``; composites split a range into slices instead of masks (curves)."""
        return self._values(np.arange(start, stop, dtype=np.int64))

    @classmethod
    def _vectorized(cls) -> bool:
        """Whether :meth:`values` has a vectorized form (a formula, or its own ``_values``), not a point-by-point one."""
        return cls._formula is not Schedule._formula or cls._values is not Schedule._values

    def _values(self, steps: np.ndarray) -> np.ndarray:
        if type(self)._formula is not Schedule._formula:
            return as_values(self._formula(steps, Array), steps.shape)
        # A schedule with no formula (user functions): evaluate point by point (mapping over Python ints is about 2x
        # faster than converting numpy integers one by one).
        return np.fromiter(map(self, steps.ravel().tolist()), dtype=np.float64, count=steps.size).reshape(steps.shape)

    def bind(self, base_lr: float, reference_lr: float | None = None) -> Schedule:
        """Return the schedule a parameter group with base learning rate ``base_lr`` follows.

        ``reference_lr`` is the optimizer's reference learning rate (see :meth:`hf_lr.ScheduleLR.reference_lr`); the
        schedules whose absolute arguments come from Transformers are bound to it (``base_lr`` when it is ``None``),
        the others to ``base_lr``.
        """
        return self

    def config(self) -> dict[str, Any]:
        """The schedule's type and parameters as plain values (what the scheduler's ``state_dict`` records).

        Opt-in options (``hold_end``, ``warmup_start_factor``, ...) are recorded only when they differ from their
        default, so a state saved before an option existed still matches a schedule that does not use it.
        """
        return {
            "type": type(self).__name__,
            **{
                f.name: _plain(getattr(self, f.name))
                for f in dataclasses.fields(self)
                if not (f.metadata.get("opt_in") and getattr(self, f.name) == f.default)
            },
        }

    def boundaries(self) -> tuple[int, ...]:
        """Steps at which the schedule changes phase (for plots)."""
        return ()

    def horizon(self) -> int | None:
        """The number of updates the schedule was sized for (its ``num_training_steps``), or ``None`` for a schedule
        with no end (constant, inverse square root, periodic ones, open-ended warmup-stable).

        A correctly sized run ends with ``last_epoch == horizon()``; :class:`~hf_lr.ScheduleLR` warns once when it is
        stepped past it.
        """
        return None


@dataclasses.dataclass(frozen=True)
class Constant(Schedule):
    """Constant multiplier 1: the optimizer's learning rate throughout (Transformers' ``constant``), and the
    building block of ``hold`` phases in joins.

    Example:
        >>> from hf_lr.schedules import Constant
        >>> Constant()(10**9)
        1.0
    """

    def _formula(self, step: Any, xp: Forms) -> Any:
        return 1.0


_bisect_right = bisect.bisect_right


class _Piecewise(Schedule):
    """A formula in pieces: piece ``i`` holds from ``bounds[i - 1]`` (0 for the first) up to ``bounds[i]``.

    Subclasses define ``_piece_bounds()`` (increasing steps) and ``_piece(index, step, xp)``, the formula of piece
    ``index``. A step is dispatched to its piece directly (``schedule(step)`` runs once per optimizer update); many
    steps through :meth:`hf_lr._forms.Array.piecewise`, each piece on its own steps.
    """

    @functools.cached_property
    def _bounds(self) -> tuple[int, ...]:
        return self._piece_bounds()

    def _piece_bounds(self) -> tuple[int, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _formula(self, step: Any, xp: Forms) -> Any:
        return xp.piecewise(step, self._bounds, self._piece)

    def __call__(self, step: int) -> float:
        return float(self._piece(_bisect_right(self._bounds, step), step, Scalar))


@dataclasses.dataclass(frozen=True)
class _LinearWarmup(_Piecewise):
    """Mixin of Transformers' names that warm up linearly from 0: the opt-in ``warmup_start_factor``.

    Warmup goes linearly from ``warmup_start_factor`` at step 0 to 1 at step ``num_warmup_steps``:
    ``s + (1 - s) * step / W``. At the default 0 the numbers are Transformers' exactly (``step / W``).
    """

    # Keyword-only: after every positional field of the schedules that mix it in, whose positional order is unchanged.
    warmup_start_factor: float = dataclasses.field(default=0.0, kw_only=True, metadata=OPT_IN)

    def __post_init__(self) -> None:
        _chain_post_init(self, _LinearWarmup)
        _set(
            self,
            warmup_start_factor=check_float("warmup_start_factor", self.warmup_start_factor, minimum=0.0, maximum=1.0),
        )

    def _piece_bounds(self) -> tuple[int, ...]:
        return (self.num_warmup_steps,)  # type: ignore[attr-defined]

    def _warmup(self, step: Any, xp: Forms) -> Any:
        # Transformers' float(current_step) / float(max(1, num_warmup_steps))
        warmup: int = self.num_warmup_steps  # type: ignore[attr-defined]
        return _from_start(self.warmup_start_factor, xp.to_float(step) / float(max(1, warmup)))


@dataclasses.dataclass(frozen=True)
class _HoldEnd(_Piecewise):
    """Mixin of the schedules whose curve continues past their end (a cosine rises again): the opt-in ``hold_end``.

    With ``hold_end=True`` the value at every step after :meth:`_end_step` is the value at that step.
    """

    hold_end: bool = dataclasses.field(default=False, kw_only=True, metadata=OPT_IN)

    def __post_init__(self) -> None:
        _chain_post_init(self, _HoldEnd)
        _set(self, hold_end=check_flag("hold_end", self.hold_end))

    def _end_step(self) -> int:  # pragma: no cover - each schedule says where it ends
        raise NotImplementedError

    def _formula(self, step: Any, xp: Forms) -> Any:
        return xp.piecewise(xp.minimum(step, self._end_step()) if self.hold_end else step, self._bounds, self._piece)

    def __call__(self, step: int) -> float:
        if self.hold_end:
            step = min(step, self._end_step())
        return float(self._piece(_bisect_right(self._bounds, step), step, Scalar))


@dataclasses.dataclass(frozen=True)
class ConstantWithWarmup(_LinearWarmup):
    """``step / num_warmup_steps`` during warmup, then 1 (Transformers' ``constant_with_warmup``).

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates (0 for none).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            Keyword-only. The multiplier at step 0, in [0, 1]: warmup rises linearly from it to 1 at step
            `num_warmup_steps` (0, the default, is Transformers' warmup from 0).

    Example:
        >>> from hf_lr.schedules import ConstantWithWarmup
        >>> [ConstantWithWarmup(num_warmup_steps=4)(step) for step in range(6)]
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
        >>> [ConstantWithWarmup(num_warmup_steps=4, warmup_start_factor=0.2)(step) for step in range(6)]
        [0.2, 0.4, 0.6000000000000001, 0.8, 1.0, 1.0]
    """

    num_warmup_steps: int

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, num_warmup_steps=check_int("num_warmup_steps", self.num_warmup_steps))

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        return 1.0 if index else self._warmup(step, xp)

    def boundaries(self) -> tuple[int, ...]:
        return (self.num_warmup_steps,)


@dataclasses.dataclass(frozen=True)
class _WarmupThenDecay(Schedule):
    """Shared fields and checks of the schedules that warm up linearly and then decay until ``num_training_steps``."""

    num_warmup_steps: int
    num_training_steps: int

    def __post_init__(self) -> None:
        _set(
            self,
            num_warmup_steps=check_int("num_warmup_steps", self.num_warmup_steps),
            num_training_steps=check_int("num_training_steps", self.num_training_steps, minimum=1),
        )
        check_warmup_within_training(self.num_warmup_steps, self.num_training_steps)

    def boundaries(self) -> tuple[int, ...]:
        return (self.num_warmup_steps, self.num_training_steps)

    def horizon(self) -> int | None:
        return self.num_training_steps

    @functools.cached_property
    def _decay_length(self) -> float:
        return float(max(1, self.num_training_steps - self.num_warmup_steps))

    def _progress(self, step: Any, xp: Forms) -> Any:
        return xp.to_float(step - self.num_warmup_steps) / self._decay_length


@dataclasses.dataclass(frozen=True)
class LinearWithWarmup(_LinearWarmup, _WarmupThenDecay):
    """Linear warmup from 0 to 1, then linear decay to 0 at ``num_training_steps`` (Transformers' ``linear``).

    ``step / W`` for ``step < W``, else ``max(0, (T - step) / max(1, T - W))``.

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates ``W``.
        num_training_steps (`int`):
            The total number of updates ``T``.
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            Keyword-only. The multiplier at step 0, in [0, 1]: warmup rises linearly from it to 1 at step
            `num_warmup_steps` (0, the default, is Transformers' warmup from 0).

    Example:
        >>> from hf_lr.schedules import LinearWithWarmup
        >>> LinearWithWarmup(num_warmup_steps=0, num_training_steps=4).values(range(6)).tolist()
        [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
        >>> LinearWithWarmup(num_warmup_steps=2, num_training_steps=4, warmup_start_factor=0.5).values(range(5)).tolist()
        [0.5, 0.75, 1.0, 0.5, 0.0]
    """

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        if index == 0:
            return self._warmup(step, xp)
        return xp.maximum(0.0, xp.to_float(self.num_training_steps - step) / self._decay_length)


@dataclasses.dataclass(frozen=True)
class CosineWithWarmup(_LinearWarmup, _HoldEnd, _WarmupThenDecay):
    """Linear warmup, then ``0.5 * (1 + cos(2 pi * num_cycles * progress))`` (Transformers' ``cosine``).

    With the default ``num_cycles=0.5`` this is a half cosine from 1 to 0 over the decay phase. As in Transformers, the
    curve continues the cosine past ``num_training_steps`` (it rises again); size the schedule to the run, or pass
    ``hold_end=True`` to keep the value of step ``num_training_steps`` (0 with the default ``num_cycles``) from then on.

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        num_cycles (`float`, *optional*, defaults to 0.5):
            The number of cosine waves over the decay phase, in [0, 2**53].
        hold_end (`bool`, *optional*, defaults to `False`):
            Keyword-only. Hold the value of step `num_training_steps` at every later step instead of continuing the
            cosine past the end (Transformers continues it).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            Keyword-only. The multiplier at step 0, in [0, 1]: warmup rises linearly from it to 1 at step
            `num_warmup_steps` (0, the default, is Transformers' warmup from 0).

    Example:
        >>> from hf_lr.schedules import CosineWithWarmup
        >>> [round(float(v), 4) for v in CosineWithWarmup(num_warmup_steps=1, num_training_steps=5).values(range(8))]
        [0.0, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.1464, 0.5]
        >>> held = CosineWithWarmup(num_warmup_steps=1, num_training_steps=5, hold_end=True)
        >>> [round(float(v), 4) for v in held.values(range(8))]
        [0.0, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0, 0.0]
    """

    num_cycles: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, num_cycles=check_float("num_cycles", self.num_cycles, minimum=0.0, maximum=MAX_CYCLES))

    def _end_step(self) -> int:
        return self.num_training_steps

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        if index == 0:
            return self._warmup(step, xp)
        return xp.maximum(0.0, _fall("cosine", self._progress(step, xp), xp, self.num_cycles))


@dataclasses.dataclass(frozen=True)
class CosineWithHardRestarts(_LinearWarmup, _WarmupThenDecay):
    """Linear warmup, then ``num_cycles`` half cosines from 1 to 0, each restarting at 1; 0 after the end.

    Transformers' ``cosine_with_restarts``: ``0.5 * (1 + cos(pi * ((num_cycles * progress) % 1)))``. It already holds
    its end value (0 from step ``num_training_steps`` on), so it takes no ``hold_end``.

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        num_cycles (`float`, *optional*, defaults to 1):
            The number of cosine cycles, in (0, 2**53] (fractional values end mid-cycle).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            Keyword-only. The multiplier at step 0, in [0, 1]: warmup rises linearly from it to 1 at step
            `num_warmup_steps` (0, the default, is Transformers' warmup from 0).

    Example:
        >>> from hf_lr.schedules import CosineWithHardRestarts
        >>> s = CosineWithHardRestarts(num_warmup_steps=0, num_training_steps=4, num_cycles=2)
        >>> [round(float(v), 4) for v in s.values(range(5))]
        [1.0, 0.5, 1.0, 0.5, 0.0]
    """

    num_cycles: float = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(
            self,
            num_cycles=check_float(
                "num_cycles", self.num_cycles, minimum=0.0, maximum=MAX_CYCLES, exclusive_minimum=True
            ),
        )

    def boundaries(self) -> tuple[int, ...]:
        w, t = self.num_warmup_steps, self.num_training_steps
        count = min(math.ceil(self.num_cycles), MAX_BOUNDARIES + 1)
        restarts = [w + math.ceil((t - w) * k / self.num_cycles) for k in range(1, count)]
        return tuple(sorted({w, t, *(r for r in restarts if w < r < t)}))

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        if index == 0:
            return self._warmup(step, xp)
        progress = self._progress(step, xp)
        wave = xp.maximum(0.0, 0.5 * (1.0 + xp.cos(math.pi * xp.frac(self.num_cycles * progress))))
        return xp.where(progress >= 1.0, 0.0, wave)


@dataclasses.dataclass(frozen=True)
class PolynomialDecay(_LinearWarmup, _WarmupThenDecay):
    """Linear warmup, then ``(lr - lr_end) * (1 - progress) ** power + lr_end``, then ``lr_end`` (absolute).

    Transformers' ``polynomial``. As in Transformers, ``lr`` and ``lr_end`` are the optimizer's reference learning rate
    (``optimizer.defaults["lr"]``) and the absolute final learning rate: every group follows the same multiplier, so
    the reference group ends at ``lr_end`` and layer-wise groups keep their ratios (for a per-group absolute floor use
    :func:`hf_lr.with_floor`). With ``num_warmup_steps == num_training_steps`` the decay phase is empty and the
    schedule goes straight to ``lr_end`` (Transformers divides by zero at that step).

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        lr_end (`float`, *optional*, defaults to 1e-7):
            The final learning rate of the reference group (absolute, >= 0, below the reference learning rate).
        power (`float`, *optional*, defaults to 1.0):
            The power of the decay (> 0).
        lr_init (`float`, *optional*):
            The reference learning rate the schedule is bound to; set by :meth:`bind`, leave it unset.
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            Keyword-only. The multiplier at step 0, in [0, 1]: warmup rises linearly from it to 1 at step
            `num_warmup_steps` (0, the default, is Transformers' warmup from 0).

    Example:
        >>> from hf_lr.schedules import PolynomialDecay
        >>> s = PolynomialDecay(num_warmup_steps=0, num_training_steps=4, lr_end=0.1, power=2.0).bind(1.0)
        >>> [round(float(v), 4) for v in s.values(range(6))]
        [1.0, 0.6062, 0.325, 0.1562, 0.1, 0.1]
    """

    lr_end: float = 1e-7
    power: float = 1.0
    lr_init: float | None = None

    needs_base_lr: ClassVar[bool] = True
    uses_reference_lr: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(
            self,
            lr_end=check_float("lr_end", self.lr_end, minimum=0.0),
            power=check_float("power", self.power, minimum=0.0, exclusive_minimum=True),
            lr_init=check_optional_float("lr_init", self.lr_init, minimum=0.0),
        )
        if self.lr_init is not None and not self.lr_init > self.lr_end:
            raise ValueError(
                f"`lr_end` must be smaller than the optimizer's learning rate it decays from, got lr_end={self.lr_end}, "
                f"lr={self.lr_init}"
            )

    def bind(self, base_lr: float, reference_lr: float | None = None) -> PolynomialDecay:
        return dataclasses.replace(self, lr_init=base_lr if reference_lr is None else reference_lr)

    def _lr_init(self) -> float:
        if self.lr_init is None:
            raise ValueError("PolynomialDecay needs the group's learning rate: call `.bind(lr)` before evaluating it")
        return self.lr_init

    def _piece_bounds(self) -> tuple[int, ...]:
        # lr_end after num_training_steps, or right after warmup when the decay phase is empty
        w, t = self.num_warmup_steps, self.num_training_steps
        return (w, t + 1 if t > w else w)

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        lr_init = self._lr_init()  # unbound: raises at every step
        if index == 0:
            return self._warmup(step, xp)
        if index == 2:
            return self.lr_end / lr_init
        # Transformers' operations
        decay_steps = self.num_training_steps - self.num_warmup_steps
        lr_range = lr_init - self.lr_end
        pct_remaining = 1 - (step - self.num_warmup_steps) / decay_steps
        decay = lr_range * pct_remaining**self.power + self.lr_end
        return decay / lr_init


@dataclasses.dataclass(frozen=True)
class InverseSqrt(_LinearWarmup):
    """Linear warmup, then ``1 / sqrt((step + timescale - W) / timescale)`` (Transformers' ``inverse_sqrt``).

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates ``W``.
        timescale (`int`, *optional*, defaults to `num_warmup_steps`, or 10000 without warmup):
            The time scale of the decay (> 0, and not so small next to `num_warmup_steps` that
            ``step + timescale - num_warmup_steps`` rounds to 0).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            Keyword-only. The multiplier at step 0, in [0, 1]: warmup rises linearly from it to 1 at step
            `num_warmup_steps` (0, the default, is Transformers' warmup from 0).

    Example:
        >>> from hf_lr.schedules import InverseSqrt
        >>> [round(float(v), 4) for v in InverseSqrt(num_warmup_steps=4).values([0, 2, 4, 16, 64])]
        [0.0, 0.5, 1.0, 0.5, 0.25]
    """

    num_warmup_steps: int
    timescale: int | float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        warmup = check_int("num_warmup_steps", self.num_warmup_steps)
        timescale = (warmup or 10_000) if self.timescale is None else self.timescale
        _set(self, num_warmup_steps=warmup, timescale=check_number("timescale", timescale, exclusive_minimum=0))
        assert self.timescale is not None
        scale = self.timescale
        if not warmup + (scale - warmup) > 0:  # 1 / sqrt(0) at step num_warmup_steps, in float arithmetic
            raise ValueError(
                f"`timescale` is too small next to `num_warmup_steps`: step + timescale - num_warmup_steps rounds to 0 "
                f"at step num_warmup_steps, got timescale={scale}, num_warmup_steps={warmup}"
            )

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        if index == 0:
            return self._warmup(step, xp)
        assert self.timescale is not None  # set in __post_init__
        shift = self.timescale - self.num_warmup_steps
        return 1.0 / xp.sqrt((step + shift) / self.timescale)

    def boundaries(self) -> tuple[int, ...]:
        return (self.num_warmup_steps,)


def absolute_ratio(name: str, value: float, lr: float, *, whose: str = "the group's") -> float:
    """``value / lr``: an absolute learning rate as a multiplier of ``lr``.

    ``lr`` may be below ``value`` (the ratio is then above 1: a group below a floor rises to it, as in the library the
    argument comes from); only ``lr == 0`` with ``value > 0`` cannot be expressed as a multiplier, nor a ratio that
    overflows float64 (``1e308`` next to ``0.1``), and those are refused.
    """
    if value == 0.0:
        return 0.0
    if not lr > 0.0:
        raise ValueError(
            f"`{name}`={value} is an absolute learning rate, which {whose} learning rate {lr} cannot reach as a "
            f"multiplier (lr * multiplier stays 0); give that group a learning rate > 0, or set `{name}`=0"
        )
    ratio = value / lr
    if not math.isfinite(ratio):
        raise ValueError(
            f"`{name}`={value} is too large an absolute learning rate for {whose} learning rate {lr}: their ratio overflows"
        )
    return ratio


@dataclasses.dataclass(frozen=True)
class _CosineToMinLR(_HoldEnd, _WarmupThenDecay):
    """Fields and binding shared by the two cosine-with-floor schedules."""

    num_cycles: float = 0.5
    min_lr: float | None = None
    min_lr_rate: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.min_lr is None) == (self.min_lr_rate is None):
            raise ValueError(
                "exactly one of `min_lr` (absolute) and `min_lr_rate` (ratio of the learning rate) must be set, got "
                f"min_lr={self.min_lr}, min_lr_rate={self.min_lr_rate}"
            )
        _set(
            self,
            num_cycles=check_float("num_cycles", self.num_cycles, minimum=0.0, maximum=MAX_CYCLES),
            min_lr=check_optional_float("min_lr", self.min_lr, minimum=0.0),
            min_lr_rate=check_optional_float("min_lr_rate", self.min_lr_rate, minimum=0.0, maximum=1.0),
        )

    @property
    def needs_base_lr(self) -> bool:  # type: ignore[override]
        return self.min_lr_rate is None

    uses_reference_lr = needs_base_lr  # type: ignore[assignment]

    def bind(self, base_lr: float, reference_lr: float | None = None) -> Schedule:
        if self.min_lr_rate is not None:
            return self
        assert self.min_lr is not None  # checked in __post_init__
        lr = base_lr if reference_lr is None else reference_lr
        if self.min_lr > lr:
            raise ValueError(
                f"`min_lr` must be <= the optimizer's learning rate (the floor of a decay from it), got "
                f"min_lr={self.min_lr}, lr={lr}"
            )
        return dataclasses.replace(
            self, min_lr=None, min_lr_rate=absolute_ratio("min_lr", self.min_lr, lr, whose="the optimizer's")
        )

    def _rate(self) -> float:
        if self.min_lr_rate is None:
            raise ValueError(f"{type(self).__name__} with an absolute `min_lr` must be bound: call `.bind(lr)` first")
        return self.min_lr_rate

    def _floored(self, wave: Any, xp: Forms) -> Any:
        rate = self._rate()
        return xp.maximum(0, wave * (1 - rate) + rate)


@dataclasses.dataclass(frozen=True)
class CosineWithMinLR(_LinearWarmup, _CosineToMinLR):
    """Linear warmup, then a cosine from 1 down to a floor (Transformers' ``cosine_with_min_lr``).

    The floor is ``min_lr_rate`` times the group's learning rate, or, as in Transformers, the absolute ``min_lr`` of the
    optimizer's reference learning rate (``optimizer.defaults["lr"]``): the reference group ends at ``min_lr`` and
    layer-wise groups keep their ratios.

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_training_steps (`int`):
            The total number of updates.
        num_cycles (`float`, *optional*, defaults to 0.5):
            The number of cosine waves over the decay phase.
        min_lr (`float`, *optional*):
            The absolute floor. Exactly one of `min_lr` and `min_lr_rate` is set.
        min_lr_rate (`float`, *optional*):
            The floor as a ratio of the learning rate, in [0, 1].
        hold_end (`bool`, *optional*, defaults to `False`):
            Keyword-only. Hold the value of step `num_training_steps` at every later step instead of continuing the
            cosine past the end (Transformers continues it).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            Keyword-only. The multiplier at step 0, in [0, 1]: warmup rises linearly from it to 1 at step
            `num_warmup_steps` (0, the default, is Transformers' warmup from 0).

    Example:
        >>> from hf_lr.schedules import CosineWithMinLR
        >>> s = CosineWithMinLR(num_warmup_steps=0, num_training_steps=2, min_lr_rate=0.1)
        >>> [round(float(v), 4) for v in s.values(range(5))]
        [1.0, 0.55, 0.1, 0.55, 1.0]
        >>> s = CosineWithMinLR(num_warmup_steps=0, num_training_steps=2, min_lr_rate=0.1, hold_end=True)
        >>> [round(float(v), 4) for v in s.values(range(5))]
        [1.0, 0.55, 0.1, 0.1, 0.1]
    """

    def _end_step(self) -> int:
        return self.num_training_steps

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        if index == 0:
            return self._warmup(step, xp)
        return self._floored(_fall("cosine", self._progress(step, xp), xp, self.num_cycles), xp)


@dataclasses.dataclass(frozen=True)
class CosineWarmupWithMinLR(_CosineToMinLR):
    """Transformers' ``cosine_warmup_with_min_lr``: warmup that starts above 0, then a cosine to a floor.

    Warmup is ``(step + 1) / W``, or, with ``warmup_lr_rate``, linear from ``warmup_lr_rate`` at step 0 to 1 at step
    ``W - 1``; the cosine phase uses ``progress = (step - W + 1) / max(1, T - W)``, so it reaches the floor at the last
    update ``T - 1``. Past the end the cosine continues, as in Transformers; with ``hold_end=True`` every step from
    ``T - 1`` on keeps the value of step ``T - 1`` (the floor; when warmup fills the run, ``W == T``, the last warmup
    value). Its warmup already starts above 0 (``warmup_lr_rate``), so it takes no ``warmup_start_factor``.

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates ``W``.
        num_training_steps (`int`):
            The total number of updates ``T``.
        num_cycles (`float`, *optional*, defaults to 0.5):
            The number of cosine waves over the decay phase.
        min_lr (`float`, *optional*):
            The absolute floor. Exactly one of `min_lr` and `min_lr_rate` is set.
        min_lr_rate (`float`, *optional*):
            The floor as a ratio of the learning rate, in [0, 1].
        warmup_lr_rate (`float`, *optional*):
            The multiplier at the first warmup update, in [0, 1].
        hold_end (`bool`, *optional*, defaults to `False`):
            Keyword-only. Hold the value of the last update, step `num_training_steps - 1` (the floor), at every later
            step instead of continuing the cosine (Transformers continues it).

    Example:
        >>> from hf_lr.schedules import CosineWarmupWithMinLR
        >>> s = CosineWarmupWithMinLR(num_warmup_steps=2, num_training_steps=4, min_lr_rate=0.0)
        >>> [round(float(v), 4) for v in s.values(range(6))]
        [0.5, 1.0, 0.5, 0.0, 0.5, 1.0]
        >>> s = CosineWarmupWithMinLR(num_warmup_steps=2, num_training_steps=4, min_lr_rate=0.0, hold_end=True)
        >>> [round(float(v), 4) for v in s.values(range(6))]
        [0.5, 1.0, 0.5, 0.0, 0.0, 0.0]
    """

    warmup_lr_rate: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, warmup_lr_rate=check_optional_float("warmup_lr_rate", self.warmup_lr_rate, minimum=0.0, maximum=1.0))

    def _end_step(self) -> int:
        return self.num_training_steps - 1

    def _piece_bounds(self) -> tuple[int, ...]:
        # Transformers compares in floats, float(step) < float(num_warmup_steps): the same split for every step, since
        # num_warmup_steps (<= 2**53) is exact.
        return (self.num_warmup_steps,)

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        current, warmup = xp.to_float(step), float(self.num_warmup_steps)
        if index:
            progress = (current - warmup + 1.0) / max(1.0, float(self.num_training_steps) - warmup)
            return self._floored(_fall("cosine", progress, xp, self.num_cycles), xp)
        if self.warmup_lr_rate is None:
            return (current + 1.0) / max(1.0, warmup)
        return self.warmup_lr_rate + (1.0 - self.warmup_lr_rate) * current / max(1, warmup - 1)


@dataclasses.dataclass(frozen=True)
class WarmupStableDecay(_Piecewise):
    """Warmup, stable at 1, decay to ``min_lr_ratio``, then ``min_lr_ratio`` (Transformers' ``warmup_stable_decay``).

    Warmup and decay shapes are ``"linear"``, ``"cosine"`` or ``"1-sqrt"``; warmup rises from ``min_lr_ratio``.

    With ``num_stable_steps=None`` the schedule is open-ended (an hf_lr extension: Transformers needs a length): it
    stays at the peak until :meth:`hf_lr.ScheduleLR.start_decay` starts its decay (``num_decay_steps`` updates of
    ``decay_type`` down to ``min_lr_ratio``) at the update you choose.

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates.
        num_stable_steps (`int` or `None`):
            The number of updates at the peak; ``None``: until :meth:`hf_lr.ScheduleLR.start_decay`.
        num_decay_steps (`int`):
            The number of decay updates.
        warmup_type (`str`, *optional*, defaults to `"linear"`):
            The warmup shape.
        decay_type (`str`, *optional*, defaults to `"cosine"`):
            The decay shape.
        min_lr_ratio (`float`, *optional*, defaults to 0):
            The floor as a ratio of the learning rate, in [0, 1].
        num_cycles (`float`, *optional*, defaults to 0.5):
            The number of cosine waves of a cosine decay.

    Example:
        >>> from hf_lr.schedules import WarmupStableDecay
        >>> s = WarmupStableDecay(num_warmup_steps=2, num_stable_steps=2, num_decay_steps=2, decay_type="linear")
        >>> s.values(range(8)).tolist()
        [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    """

    num_warmup_steps: int
    num_stable_steps: int | None
    num_decay_steps: int
    warmup_type: str = "linear"
    decay_type: str = "cosine"
    min_lr_ratio: float = 0.0
    num_cycles: float = 0.5

    def __post_init__(self) -> None:
        _set(
            self,
            num_warmup_steps=check_int("num_warmup_steps", self.num_warmup_steps),
            num_stable_steps=check_optional_int("num_stable_steps", self.num_stable_steps),
            num_decay_steps=check_int("num_decay_steps", self.num_decay_steps),
            warmup_type=check_choice("warmup_type", self.warmup_type, WSD_SHAPES),
            decay_type=check_choice("decay_type", self.decay_type, WSD_SHAPES),
            min_lr_ratio=check_float("min_lr_ratio", self.min_lr_ratio, minimum=0.0, maximum=1.0),
            num_cycles=check_float("num_cycles", self.num_cycles, minimum=0.0, maximum=MAX_CYCLES),
        )

    @classmethod
    def from_lengths(
        cls,
        num_warmup_steps: int,
        num_decay_steps: int,
        num_training_steps: int | None = None,
        num_stable_steps: int | None = None,
        warmup_type: str = "linear",
        decay_type: str = "cosine",
        min_lr_ratio: float = 0.0,
        num_cycles: float = 0.5,
    ) -> WarmupStableDecay:
        """Build from Transformers' arguments: the stable phase is `num_stable_steps`, or what `num_training_steps`
        leaves after warmup and decay. When both are given and disagree, `num_stable_steps` wins with a warning. With
        neither, the schedule is open-ended: stable until :meth:`hf_lr.ScheduleLR.start_decay`."""
        num_warmup_steps = check_int("num_warmup_steps", num_warmup_steps)
        num_decay_steps = check_int("num_decay_steps", num_decay_steps)
        num_training_steps = check_optional_int("num_training_steps", num_training_steps, minimum=1)
        num_stable_steps = check_optional_int("num_stable_steps", num_stable_steps)
        if num_stable_steps is None:
            if num_training_steps is None:  # open-ended: the decay starts when ScheduleLR.start_decay says so
                return cls(num_warmup_steps, None, num_decay_steps, warmup_type, decay_type, min_lr_ratio, num_cycles)
            num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
            if num_stable_steps < 0:
                raise ValueError(
                    "`num_warmup_steps + num_decay_steps` must be <= `num_training_steps`, got "
                    f"num_warmup_steps={num_warmup_steps}, num_decay_steps={num_decay_steps}, "
                    f"num_training_steps={num_training_steps}"
                )
        elif (
            num_training_steps is not None
            and num_warmup_steps + num_stable_steps + num_decay_steps != num_training_steps
        ):
            warnings.warn(
                f"num_warmup_steps + num_stable_steps + num_decay_steps = "
                f"{num_warmup_steps + num_stable_steps + num_decay_steps} differs from "
                f"num_training_steps={num_training_steps}; num_stable_steps={num_stable_steps} is used",
                UserWarning,
                stacklevel=3,
            )
        return cls(
            num_warmup_steps, num_stable_steps, num_decay_steps, warmup_type, decay_type, min_lr_ratio, num_cycles
        )

    def _piece_bounds(self) -> tuple[int, ...]:
        w, s, d = self.num_warmup_steps, self.num_stable_steps, self.num_decay_steps
        return (w,) if s is None else (w, w + s, w + s + d)  # open-ended: stable from the end of warmup on

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        # Transformers' operations: factor * (1.0 - min_lr_ratio) + min_lr_ratio, clipped at 0.
        ratio = self.min_lr_ratio
        if index == 0:
            progress = xp.to_float(step) / float(max(1, self.num_warmup_steps))
            return xp.maximum(0.0, _rise(self.warmup_type, progress, xp) * (1.0 - ratio) + ratio)
        if index == 1:
            return 1.0
        if index == 2:
            assert self.num_stable_steps is not None  # the decay phase exists only then
            progress = xp.to_float(step - self.num_warmup_steps - self.num_stable_steps) / float(
                max(1, self.num_decay_steps)
            )
            return xp.maximum(0.0, _fall(self.decay_type, progress, xp, self.num_cycles) * (1.0 - ratio) + ratio)
        return ratio

    def boundaries(self) -> tuple[int, ...]:
        w, s, d = self.num_warmup_steps, self.num_stable_steps, self.num_decay_steps
        return (w,) if s is None else (w, w + s, w + s + d)

    def horizon(self) -> int | None:
        s = self.num_stable_steps
        return None if s is None else self.num_warmup_steps + s + self.num_decay_steps


@dataclasses.dataclass(frozen=True)
class Noam(Schedule):
    """The schedule of "Attention Is All You Need" (Vaswani et al., 2017, eq. 3).

    ``noam(s) = factor * d_model ** -0.5 * min(s ** -0.5, s * W ** -1.5)`` with ``s = step + 1``: the paper's
    ``step_num`` counts updates from 1, so the first update (``step`` 0) gets a small positive learning rate instead of
    0 or infinity, and the peak is at the ``W``-th update (``step == W - 1``).

    How the optimizer's learning rate relates, by ``mode``:

    - ``"absolute"`` (default): the learning rate is ``noam(s)``, the paper's absolute values, whatever the
      optimizer's learning rate (which must be > 0). Other groups keep their ratio to the optimizer's reference
      learning rate (``optimizer.defaults["lr"]``), so layer-wise learning rates still decay across layers. (As a
      ``LambdaLR`` multiplier, ``lr * (noam(s) / lr)``, it can differ from ``noam(s)`` in the last bit.)
    - ``"peak"``: the optimizer's learning rate is the peak, reached at ``s == W``: ``lr * min(sqrt(W / s), s / W)``.
      ``d_model`` and ``factor`` are not used; groups keep their ratios (layer-wise learning rates).
    - ``"scale"``: the classic ``LambdaLR`` port, ``lr * noam(s)``; with ``lr=1.0`` it equals ``"absolute"``.

    Args:
        num_warmup_steps (`int`):
            The number of warmup updates ``W`` (>= 1).
        d_model (`int`, *optional*):
            The model width; required in the ``"absolute"`` and ``"scale"`` modes.
        factor (`float`, *optional*, defaults to 1.0):
            A constant multiplier (> 0).
        mode (`str`, *optional*, defaults to `"absolute"`):
            ``"absolute"``, ``"peak"`` or ``"scale"``, see above.
        group_lr (`float`, *optional*):
            The reference learning rate the ``"absolute"`` mode is bound to; set by :meth:`bind`, leave it unset.

    Example:
        >>> from hf_lr.schedules import Noam
        >>> noam = Noam(num_warmup_steps=4000, d_model=512, mode="scale")
        >>> f"{noam(3999):.3e}"  # the peak, at the 4000th update
        '6.988e-04'
        >>> Noam(num_warmup_steps=4, mode="peak").values(range(6)).tolist()
        [0.25, 0.5, 0.75, 1.0, 0.8944271909999159, 0.816496580927726]
    """

    num_warmup_steps: int
    d_model: int | None = None
    factor: float = 1.0
    mode: str = "absolute"
    group_lr: float | None = None

    def __post_init__(self) -> None:
        _set(
            self,
            num_warmup_steps=check_int("num_warmup_steps", self.num_warmup_steps, minimum=1),
            d_model=check_optional_int("d_model", self.d_model, minimum=1),
            factor=check_float("factor", self.factor, minimum=0.0, exclusive_minimum=True),
            mode=check_choice("mode", self.mode, NOAM_MODES),
            group_lr=check_optional_float("group_lr", self.group_lr, minimum=0.0, exclusive_minimum=True),
        )
        if self.mode != "peak" and self.d_model is None:
            raise ValueError(f"Noam's mode={self.mode!r} needs `d_model` (the model width), got d_model=None")

    @property
    def needs_base_lr(self) -> bool:  # type: ignore[override]
        return self.mode == "absolute"

    uses_reference_lr = needs_base_lr  # type: ignore[assignment]

    def bind(self, base_lr: float, reference_lr: float | None = None) -> Schedule:
        if self.mode != "absolute":
            return self
        lr = base_lr if reference_lr is None else reference_lr
        if not lr > 0.0:
            raise ValueError(f"Noam's mode='absolute' needs the optimizer's learning rate > 0, got lr={lr}")
        bound = dataclasses.replace(self, group_lr=lr)
        if not math.isfinite(bound(self.num_warmup_steps - 1)):  # the peak, the largest multiplier
            raise ValueError(
                f"Noam's peak learning rate factor * d_model ** -0.5 * num_warmup_steps ** -0.5 is too large for the "
                f"optimizer's learning rate {lr} (the multiplier overflows), got factor={self.factor}, d_model={self.d_model}"
            )
        return bound

    def _scale(self) -> float:
        assert self.d_model is not None
        scale = self.factor * self.d_model**-0.5
        if self.mode == "absolute":
            if self.group_lr is None:
                raise ValueError("Noam in mode='absolute' must be bound to the group's lr: call `.bind(lr)` first")
            scale = scale / self.group_lr
        return scale

    def _formula(self, step: Any, xp: Forms) -> Any:
        s = step + 1  # an int, or an int64 array: numpy divides and powers it as float64
        w = self.num_warmup_steps
        if self.mode == "peak":
            return xp.minimum(xp.sqrt(w / s), s / w)
        return self._scale() * xp.minimum(s**-0.5, s * w**-1.5)

    def boundaries(self) -> tuple[int, ...]:
        return (self.num_warmup_steps - 1,)


def _callable_name(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None) or "?"
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{name}"


@dataclasses.dataclass(frozen=True, eq=False)
class LambdaSchedule(Schedule):
    """A user's own multiplier function ``fn(step) -> float``.

    The function must return a finite, non-negative number for every step (the scheduler checks each value and
    raises otherwise). Curves call it once per step; with ``vectorized=True`` it is called once with a numpy array
    of steps instead (for functions written with numpy operations, e.g. ``lambda s: 0.5 ** (s // 10)``), about 100x
    faster for long curves. To pickle the scheduler, use a module-level function or a picklable callable object, not a
    ``lambda``. Two ``LambdaSchedule`` objects are equal when they wrap the same function.

    Args:
        fn (`Callable[[int], float]`):
            The multiplier function.
        vectorized (`bool`, *optional*, defaults to `False`):
            Whether ``fn`` also works element-wise on a numpy array of steps.

    Example:
        >>> from hf_lr.schedules import LambdaSchedule
        >>> LambdaSchedule(lambda step: 0.5**step).values(range(4)).tolist()
        [1.0, 0.5, 0.25, 0.125]
    """

    fn: Callable[[int], float]
    vectorized: bool = False

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"`lr_lambda` must be callable, got {self.fn!r} ({type(self.fn).__name__})")
        _set(self, vectorized=check_bool("vectorized", self.vectorized))

    def __call__(self, step: int) -> float:
        return float(self.fn(step))

    def _values(self, steps: np.ndarray) -> np.ndarray:
        if not self.vectorized:
            return super()._values(steps)
        values = np.asarray(self.fn(steps), dtype=np.float64)  # type: ignore[arg-type]
        if values.shape != steps.shape:
            raise ValueError(
                f"LambdaSchedule(vectorized=True): {_callable_name(self.fn)} returned shape {values.shape} for steps of "
                f"shape {steps.shape}; it must work element-wise on a numpy array of steps"
            )
        return values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LambdaSchedule) and other.fn is self.fn and other.vectorized == self.vectorized

    def __hash__(self) -> int:
        return hash((LambdaSchedule, id(self.fn)))

    def config(self) -> dict[str, Any]:
        return {"type": "LambdaSchedule", "fn": _callable_name(self.fn), "vectorized": self.vectorized}


@dataclasses.dataclass(frozen=True, eq=False)
class FunctionSchedule(Schedule):
    """A registered multiplier function with its keyword arguments: ``fn(step, **kwargs)``.

    This is what :func:`hf_lr.register_schedule` builds for a plain function; ``kwargs`` are the step counts the
    function declares and its own parameters (from ``scheduler_specific_kwargs``), as plain values.

    Args:
        name (`str`):
            The registered name (recorded in the configuration).
        fn (`Callable[..., float]`):
            The multiplier function.
        kwargs (`dict`):
            Keyword arguments passed on every call.

    Example:
        >>> from hf_lr.schedules import FunctionSchedule
        >>> def halving(step, *, period):
        ...     return 0.5 ** (step // period)
        >>> FunctionSchedule("halving", halving, {"period": 2}).values(range(5)).tolist()
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    name: str
    fn: Callable[..., float]
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __call__(self, step: int) -> float:
        return float(self.fn(step, **self.kwargs))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FunctionSchedule)
            and other.name == self.name
            and other.fn is self.fn
            and other.kwargs == self.kwargs
        )

    def __hash__(self) -> int:
        return hash((FunctionSchedule, self.name, id(self.fn)))

    def config(self) -> dict[str, Any]:
        return {"type": "FunctionSchedule", "name": self.name, "fn": _callable_name(self.fn), **dict(self.kwargs)}

    def boundaries(self) -> tuple[int, ...]:
        return tuple(v for k, v in self.kwargs.items() if k in ("num_warmup_steps", "num_training_steps"))

    def horizon(self) -> int | None:
        total = self.kwargs.get("num_training_steps")
        return total if isinstance(total, int) and not isinstance(total, bool) else None
