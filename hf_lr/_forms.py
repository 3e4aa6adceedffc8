"""One formula, two forms: the operations a schedule's formula is written with, for one step or for many.

A schedule writes its formula once, as ``_formula(self, step, xp)``, and :class:`~hf_lr.Schedule` derives both forms
from it: ``schedule(step)`` runs it with ``xp=Scalar`` (``step`` is a Python int; Python's float operations in the
order written, no numpy, so Transformers' numbers are reproduced exactly and one call stays cheap), and
``schedule.values(steps)`` with ``xp=Array`` (``step`` is an int64 array; numpy's element-wise operations, which may
differ from the scalar ones in the last bit).

Branches go through ``xp.piecewise(step, bounds, piece)`` (a schedule in phases defines ``_piece(index, step, xp)``
and its bounds instead, and ``schedule(step)`` calls its piece directly): each piece is evaluated on its own steps
only, so a piece never sees a step where it would divide by zero or take a square root of a negative number, and an
expensive piece (a cosine) costs nothing on a cheap piece's steps. ``where`` evaluates both of its values (in both
forms) and is only for values that are safe everywhere.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

if TYPE_CHECKING:
    from hf_lr.schedules import Schedule

__all__ = ["Array", "Forms", "Scalar", "as_values", "geometric_cycles", "scalar_cycle"]


def scalar_cycle(step: int, period: int, mult: int) -> tuple[int, int, int]:
    """(index, start, length) of the cycle holding ``step``, cycle ``i`` lasting ``period * mult ** i`` updates.

    O(1) whatever the step: a logarithm, then an exact integer correction.
    """
    if mult == 1:
        index = step // period
        return index, index * period, period
    index = max(0, int(math.log(1 + step * (mult - 1) / period, mult)))
    while index > 0 and period * (mult**index - 1) // (mult - 1) > step:
        index -= 1
    while period * (mult ** (index + 1) - 1) // (mult - 1) <= step:
        index += 1
    return index, period * (mult**index - 1) // (mult - 1), period * mult**index


def geometric_cycles(steps: np.ndarray, period: int, mult: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorized (index, start, length) of the cycle holding each step, cycle ``i`` lasting ``period * mult ** i``.

    The cycle starts are exact integers (Python's), found by a sorted search: with ``mult >= 2`` fewer than 64 of them
    lie below any int64 step, and nothing overflows (int64 powers ``mult ** i`` would, for a large ``mult``). Lengths
    are float64 (exact up to 2**53), the value a division by them uses.
    """
    steps = steps.astype(np.int64)
    if mult == 1:
        index = steps // period
        return index, index * period, np.full(steps.shape, float(period))
    last = int(steps.max(initial=0))
    starts, lengths = [0], [period]
    while starts[-1] + lengths[-1] <= last:
        starts.append(starts[-1] + lengths[-1])
        lengths.append(lengths[-1] * mult)
    index = np.searchsorted(np.array(starts, dtype=np.int64), steps, side="right") - 1
    return index, np.array(starts, dtype=np.int64)[index], np.array(lengths, dtype=np.float64)[index]


class Scalar:
    """The operations on one step: ``step`` is an int, values are Python floats."""

    cos = math.cos
    sqrt = math.sqrt
    exp = math.exp
    log = math.log
    log1p = math.log1p
    floor = math.floor
    minimum = min
    maximum = max
    to_float = float
    any = bool
    cycle = scalar_cycle
    count_le = bisect.bisect_right  # count_le(sorted_values, step): how many values are <= step

    @staticmethod
    def piecewise(step: Any, bounds: Sequence[int], piece: Callable[..., Any], *args: Any) -> Any:
        """``piece(i, step, Scalar, *args)`` where ``i`` is the number of ``bounds`` (increasing) that are <= step."""
        return piece(bisect.bisect_right(bounds, step), step, Scalar, *args)

    @staticmethod
    def where(condition: bool, if_true: Any, if_false: Any) -> Any:
        return if_true if condition else if_false

    @staticmethod
    def frac(x: float) -> float:
        """The fractional part of ``x >= 0``."""
        return x % 1.0

    @staticmethod
    def fast_power(base: float, exponent: Any) -> Any:
        """``base ** exponent`` for ``base > 0``."""
        return base**exponent

    @staticmethod
    def ratio_of_powers(x: float, y: float, k: float) -> float:
        """``x ** k / y ** k`` (timm's operations), or the equal ``(x / y) ** k`` where ``y ** k`` overflows."""
        try:
            return x**k / y**k  # type: ignore[no-any-return]
        except OverflowError:
            return (x / y) ** k  # type: ignore[no-any-return]

    @staticmethod
    def of(schedule: Schedule, step: Any) -> float:
        """A child schedule's value."""
        return schedule(step)


def as_values(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    if np.ndim(value) == 0:
        return np.full(shape, value, dtype=np.float64)
    return np.asarray(value, dtype=np.float64)


class Array:
    """The operations on many steps: ``step`` is an int64 numpy array, values are float64 arrays."""

    cos = np.cos
    sqrt = np.sqrt
    exp = np.exp
    log = np.log
    log1p = np.log1p
    floor = np.floor
    minimum = np.minimum
    maximum = np.maximum
    where = np.where
    any = np.any
    cycle = geometric_cycles

    @staticmethod
    def to_float(x: Any) -> Any:
        return np.asarray(x, dtype=np.float64)

    @staticmethod
    def count_le(values: Sequence[int], steps: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(values, dtype=np.int64), steps, side="right")

    @staticmethod
    def piecewise(steps: Any, bounds: Sequence[int], piece: Callable[..., Any], *args: Any) -> np.ndarray:
        """Each piece on its own steps; array ``args`` shaped like ``steps`` are split with them."""
        if steps.size == 0:
            return np.empty(steps.shape, dtype=np.float64)
        low, high = bisect.bisect_right(bounds, int(steps.min())), bisect.bisect_right(bounds, int(steps.max()))
        if low == high:  # one piece: no masks
            return as_values(piece(low, steps, Array, *args), steps.shape)
        inner = np.asarray(bounds[low:high], dtype=np.int64)
        out = np.empty(steps.shape, dtype=np.float64)
        if steps.ndim == 1 and bool(np.all(steps[:-1] <= steps[1:])):  # sorted (curves): each piece is a slice
            cuts = [0, *np.searchsorted(steps, inner, side="left").tolist(), steps.size]
            parts: list[Any] = [slice(a, b) for a, b in itertools.pairwise(cuts)]
        else:
            index = np.searchsorted(inner, steps, side="right")
            parts = [index == i for i in range(high - low + 1)]
        for i, part in enumerate(parts):
            selected = steps[part]
            if selected.size:
                split = [a[part] if isinstance(a, np.ndarray) and a.shape == steps.shape else a for a in args]
                out[part] = piece(low + i, selected, Array, *split)
        return out

    @staticmethod
    def frac(x: np.ndarray) -> np.ndarray:
        # x - floor(x) equals Python's `x % 1.0` exactly for x >= 0 and is ~20x cheaper than np.mod.
        return x - np.floor(x)  # type: ignore[no-any-return]

    @staticmethod
    def fast_power(base: float, exponent: Any) -> Any:
        # exp(k log base): about 20x cheaper than numpy's float64 power, and within 1e-13 relative of base ** k
        # wherever that is a normal float (|k log base| < 745, so the exponent's absolute error stays below 1e-13).
        return 1.0 if base == 1.0 else np.exp(exponent * math.log(base))

    @staticmethod
    def ratio_of_powers(x: Any, y: Any, k: float) -> np.ndarray:
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)  # numpy's overflow to inf, not Python's
        with np.errstate(over="ignore", invalid="ignore"):  # inf / inf where the fallback is taken
            scale = y**k
            return np.where(np.isfinite(scale), x**k / scale, (x / y) ** k)  # type: ignore[no-any-return]

    @staticmethod
    def of(schedule: Schedule, steps: Any) -> np.ndarray:
        return schedule._values(steps)


#: the type of a formula's ``xp`` argument
Forms = Union[type[Scalar], type[Array]]  # noqa: UP007 - a runtime alias: `|` on two types needs Python 3.10
