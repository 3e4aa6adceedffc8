"""Argument checks shared by every schedule and factory.

Each check returns the value normalised to a plain Python primitive (so configurations stay picklable and load with
``torch.load(weights_only=True)``) or raises a ``TypeError``/``ValueError`` that names the argument, the rule and the
value received (shortened: a list from a JSON file may be long).

Integers are bounded by :data:`MAX_INT` (``2**53``): schedules do their step arithmetic in float64, which holds every
integer up to ``2**53`` exactly and no larger range, so a step count beyond it (``num_training_steps=10**400``) would
overflow or round mid-run; it is refused at construction instead.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import re
import reprlib
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
from torch import Tensor

#: The largest integer argument accepted (step counts, lengths, ``d_model``, ...): ``2**53``, float64's exact range.
MAX_INT = 2**53

_SHORT = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 6
_SHORT.maxstring = _SHORT.maxother = 80


def short_repr(value: Any) -> str:
    """``repr(value)``, shortened (long lists, strings and integers) so that an error message stays readable."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(int(value)).bit_length() > 64:
        return f"an integer of {abs(int(value)).bit_length()} bits"  # str() of a huge int is slow, or refused
    return _SHORT.repr(value)


def _describe(value: Any) -> str:
    return f"{short_repr(value)} ({type(value).__name__})"


def _unwrap(name: str, value: Any) -> Any:
    """A one-element tensor or a 0-dim numpy array as its Python scalar (torch takes tensor lrs); other values as is."""
    if isinstance(value, (Tensor, np.ndarray)):
        size = value.numel() if isinstance(value, Tensor) else value.size
        if size != 1:
            raise TypeError(
                f"`{name}` must be a number or a one-element tensor, got a {type(value).__name__} of shape {tuple(value.shape)}"
            )
        return value.item()
    return value


def check_int(name: str, value: Any, *, minimum: int | None = 0, maximum: int | None = MAX_INT) -> int:
    """Return ``value`` as an ``int`` if it is an integer (not a bool) in ``[minimum, maximum]``."""
    value = _unwrap(name, value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {name}={short_repr(value)}")
    if maximum is not None and value > maximum:
        why = (
            " (2**53: float64 arithmetic holds every integer up to it exactly, no further)"
            if maximum == MAX_INT
            else ""
        )
        raise ValueError(f"`{name}` must be <= {maximum}{why}, got {name}={short_repr(value)}")
    return value


def check_optional_int(name: str, value: Any, *, minimum: int | None = 0) -> int | None:
    return None if value is None else check_int(name, value, minimum=minimum)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (numpy's too). Strict: ``bool("false")`` is ``True``, so a string from a command
    line or a config file must not slip through as a flag."""
    value = _unwrap(name, value)
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a bool, got {_describe(value)}")
    return bool(value)


def check_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` inside the given bounds."""
    value = _unwrap(name, value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {_describe(value)}")
    try:
        value = float(value)
    except OverflowError:  # an integer beyond float64's range
        raise ValueError(f"`{name}` must be finite, got {name}={short_repr(value)}") from None
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {name}={value}")
    if minimum is not None:
        if exclusive_minimum and not value > minimum:
            raise ValueError(f"`{name}` must be > {minimum}, got {name}={value}")
        if not exclusive_minimum and not value >= minimum:
            raise ValueError(f"`{name}` must be >= {minimum}, got {name}={value}")
    if maximum is not None:
        if exclusive_maximum and not value < maximum:
            raise ValueError(f"`{name}` must be < {maximum}, got {name}={value}")
        if not exclusive_maximum and not value <= maximum:
            raise ValueError(f"`{name}` must be <= {maximum}, got {name}={value}")
    return value


def check_optional_float(name: str, value: Any, **bounds: Any) -> float | None:
    return None if value is None else check_float(name, value, **bounds)


def check_number(name: str, value: Any, *, exclusive_minimum: float) -> int | float:
    """Like :func:`check_float` with an exclusive lower bound, but keep integers as ``int``.

    Used where Transformers does integer arithmetic with the value (`timescale`), so that the float operations stay
    identical to theirs. Integers are bounded by :data:`MAX_INT` as :func:`check_int`'s.
    """
    value = _unwrap(name, value)
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        if not int(value) > exclusive_minimum:
            raise ValueError(f"`{name}` must be > {exclusive_minimum}, got {name}={short_repr(value)}")
        return check_int(name, value, minimum=None)
    return check_float(name, value, minimum=exclusive_minimum, exclusive_minimum=True)


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:  # `in` would compare a tensor or an array element-wise
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(c) for c in choices)}; got {name}={short_repr(value)}"
        )
    return str(value)


def check_warmup_within_training(num_warmup_steps: int, num_training_steps: int) -> None:
    if num_warmup_steps > num_training_steps:
        raise ValueError(
            "`num_warmup_steps` must be <= `num_training_steps`, got "
            f"num_warmup_steps={num_warmup_steps}, num_training_steps={num_training_steps}"
        )


def check_base_lr(value: Any, *, where: str) -> float:
    """Return a group's base learning rate as a float (a tensor lr is read, never captured)."""
    try:
        lr = float(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(
            f"the learning rate of {where} must be a number or a one-element tensor, got {value!r}"
        ) from error
    if not (math.isfinite(lr) and lr >= 0.0):
        raise ValueError(f"the learning rate of {where} must be finite and >= 0, got {lr}")
    return lr


@contextlib.contextmanager
def user_names(**names: str) -> Iterator[None]:
    """Re-raise a builder's ``TypeError``/``ValueError`` naming the arguments the user passed, not the internal ones.

    ``names`` maps an internal parameter name (``Warmup``'s ``kind``) to what the user passed (``warmup_type``), or to
    the expression it was derived from (``num_training_steps - num_warmup_steps``); messages name arguments as
    ```name``` and ``name=value`` (see :mod:`hf_lr._validation`).
    """
    try:
        yield
    except (TypeError, ValueError) as error:
        message = str(error)
        for internal, passed in names.items():
            message = message.replace(f"`{internal}`", f"`{passed}`")
            message = re.sub(rf"(?<![\w.`]){re.escape(internal)}=", f"{passed}=", message)
        if message == str(error):
            raise
        raise type(error)(message) from None


#: ``renamed_argument``'s ``default`` where the new name's presence, not its value, tells whether it was given
ABSENT: Any = object()


def renamed_argument(
    kwargs: dict[str, Any],
    old: str,
    new: str,
    value: Any,
    default: Any,
    where: str,
    *,
    warn: bool = True,
    stacklevel: int = 3,
) -> Any:
    """The value of argument ``new``, or of its former name ``old`` if ``kwargs`` has it (popped, with a
    ``FutureWarning`` unless ``warn`` is false); both at once (``value`` other than ``default``) is a ``TypeError``."""
    if old not in kwargs:
        return value
    old_value = kwargs.pop(old)
    if value != default:
        raise TypeError(
            f"{where}: pass `{new}` only (`{old}` is its former name), got {old}={old_value!r}, {new}={value!r}"
        )
    if warn:
        warnings.warn(
            f"{where}: `{old}` is now called `{new}`; `{old}` will stop working in a future release",
            FutureWarning,
            stacklevel=stacklevel,
        )
    return old_value


def no_more_arguments(where: str, kwargs: Mapping[str, Any]) -> None:
    """Refuse what is left of ``**kwargs`` once the former names are taken out of it."""
    if kwargs:
        raise TypeError(f"{where} got unexpected keyword argument(s) {', '.join(map(repr, sorted(kwargs)))}")
