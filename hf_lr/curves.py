"""Whole learning-rate curves at once: :func:`lr_curve`.

A closed-form schedule is a pure function of the update count, so its curve is one vectorized evaluation of
:meth:`Schedule.values <hf_lr.Schedule.values>` instead of millions of ``scheduler.step()`` calls.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from hf_lr._validation import check_float, check_int
from hf_lr.registry import build_schedule, get_schedule_entry
from hf_lr.scheduler import ScheduleLR
from hf_lr.schedules import Schedule

__all__ = ["lr_curve"]

_ARGUMENT = "name_or_scheduler_or_schedule"


def _checked(multipliers: np.ndarray, schedule: Schedule) -> np.ndarray:
    """Raise where the scheduler would: a multiplier that is negative, infinite or NaN."""
    # Two reductions and no temporaries in the common case; min/max propagate NaN, which fails the test.
    if multipliers.size == 0 or (multipliers.min() >= 0.0 and multipliers.max() < np.inf):
        return multipliers
    step = int(np.argmax(~((multipliers >= 0.0) & (multipliers < np.inf))))
    raise ValueError(
        f"schedule {schedule.config()['type']} returned {multipliers[step]} at step {step}; a learning-rate "
        "multiplier must be finite and >= 0"
    )


def _multipliers(schedule: Schedule, num_steps: int) -> np.ndarray:
    if not schedule._vectorized():
        # No vectorized formula (a user's Python function): call it once per step, as the scheduler does, but
        # without the per-element numpy-integer conversions of the generic fallback (about 2x faster).
        values = np.fromiter(map(schedule, range(num_steps)), dtype=np.float64, count=num_steps)
    else:
        values = schedule.range_values(0, num_steps)
    return _checked(values, schedule)


def _curve(schedule: Schedule, base_lr: float, num_steps: int) -> np.ndarray:
    return base_lr * _multipliers(schedule, num_steps)


def _scheduler_curve(scheduler: ScheduleLR, num_steps: int) -> np.ndarray:
    base_lrs = [float(lr) for lr in scheduler.base_lrs]
    if len(base_lrs) == 1:
        return _curve(scheduler.lr_lambdas[0], base_lrs[0], num_steps)
    curve = np.empty((num_steps, len(base_lrs)), dtype=np.float64)
    # Groups that follow the same bound schedule share one evaluation, as in ScheduleLR.step.
    for schedule, indices in scheduler._plan:
        multipliers = _multipliers(schedule, num_steps)
        for index in indices:
            curve[:, index] = base_lrs[index] * multipliers
    return curve


def lr_curve(
    name_or_scheduler_or_schedule: str | enum.Enum | Schedule | ScheduleLR,
    num_steps: int,
    *,
    base_lr: float = 1.0,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
    **schedule_kwargs: Any,
) -> np.ndarray:
    """The learning rate used at updates ``0 .. num_steps - 1``, computed in one vectorized pass.

    ``lr_curve(...)[k]`` equals the learning rate that the scheduler sets for the ``k``-th optimizer update (the value
    of ``scheduler.get_last_lr()`` after ``k`` calls of ``scheduler.step()``), for steps past ``num_training_steps``
    too. Built-in schedules use their numpy formula; a user's own function (the ``lambda`` name, a registered multiplier
    function) is evaluated point by point. Numbers equal stepping the scheduler exactly, or within a few units in the
    last place where numpy's vector ``cos``/``sqrt``/``pow`` round differently from :mod:`math`.

    Args:
        name_or_scheduler_or_schedule (`str`, `SchedulerType`, `Schedule` or `ScheduleLR`):
            What to draw:

            - a registered closed-form name (see :func:`hf_lr.list_schedules`), built with `num_warmup_steps`,
              `num_training_steps` and `schedule_kwargs` exactly as :func:`hf_lr.get_scheduler` builds it, for one
              parameter group whose learning rate is `base_lr`;
            - a :class:`~hf_lr.Schedule`, bound to `base_lr` (for schedules with an absolute ``lr_end``/``min_lr``);
            - a :class:`~hf_lr.ScheduleLR`, using its own per-group schedules and base learning rates (each group's
              ``initial_lr``). The curve always starts at update 0, whatever the scheduler's current ``last_epoch``,
              and the scheduler is not modified.
        num_steps (`int`):
            The number of updates to cover (>= 0).
        base_lr (`float`, *optional*, defaults to 1.0):
            The group's learning rate for a name or a `Schedule`; with the default 1.0 the curve is the multiplier. Not
            accepted with a `ScheduleLR` (its groups carry their own).
        num_warmup_steps (`int`, *optional*):
            The number of warmup updates, for a name that uses it.
        num_training_steps (`int`, *optional*):
            The total number of updates, for a name that uses it.
        scheduler_specific_kwargs (`dict`, *optional*):
            The name's own parameters as a dict, as :func:`hf_lr.get_scheduler` takes them; needed for a parameter
            whose name is one of ``lr_curve``'s own arguments (``cyclic``'s ``base_lr``).
        schedule_kwargs:
            The name's own parameters as keywords (merged with `scheduler_specific_kwargs`).

    Returns:
        `numpy.ndarray` of `float64`: shape ``(num_steps,)`` for a name, a `Schedule`, or a `ScheduleLR` with one
        parameter group; shape ``(num_steps, num_groups)`` (column ``i`` is ``param_groups[i]``) for a `ScheduleLR`
        with several groups.

    Raises:
        `TypeError`: an argument of the wrong type, or step arguments / schedule parameters given with a `Schedule` or
            `ScheduleLR` (they only apply to names).
        `ValueError`: an unknown or non-closed-form name (``reduce_lr_on_plateau``), a negative `num_steps` or
            `base_lr`, or a schedule that returns a negative or non-finite multiplier.

    Example:
        >>> import hf_lr
        >>> hf_lr.lr_curve("linear", 6, base_lr=0.1, num_warmup_steps=2, num_training_steps=4).round(4).tolist()
        [0.0, 0.05, 0.1, 0.05, 0.0, 0.0]
        >>> import torch
        >>> model = torch.nn.Linear(2, 2)
        >>> optimizer = torch.optim.AdamW(
        ...     [{"params": [model.weight], "lr": 1e-3}, {"params": [model.bias], "lr": 1e-4}], lr=1e-3
        ... )
        >>> scheduler = hf_lr.get_scheduler("cosine", optimizer, num_warmup_steps=10, num_training_steps=1000)
        >>> curve = hf_lr.lr_curve(scheduler, 1000)
        >>> curve.shape, curve[10].tolist()
        ((1000, 2), [0.001, 0.0001])
    """
    num_steps = check_int("num_steps", num_steps)
    target = name_or_scheduler_or_schedule
    if scheduler_specific_kwargs is not None:
        if not isinstance(scheduler_specific_kwargs, dict):
            raise TypeError(
                f"lr_curve: `scheduler_specific_kwargs` must be a dict, got {scheduler_specific_kwargs!r} "
                f"({type(scheduler_specific_kwargs).__name__})"
            )
        twice = sorted(set(scheduler_specific_kwargs) & set(schedule_kwargs), key=str)
        if twice:
            raise TypeError(
                f"lr_curve: {', '.join(map(repr, twice))} given both as keywords and in `scheduler_specific_kwargs`"
            )
        schedule_kwargs = {**scheduler_specific_kwargs, **schedule_kwargs}
    if isinstance(target, (ScheduleLR, Schedule)):
        given = {"num_warmup_steps": num_warmup_steps, "num_training_steps": num_training_steps}
        extra = [key for key, value in given.items() if value is not None] + sorted(schedule_kwargs, key=str)
        if extra:
            raise TypeError(
                f"lr_curve: {', '.join(f'`{key}`' for key in extra)} only apply to a schedule name; "
                f"`{_ARGUMENT}` is a {type(target).__name__}, which is already configured"
            )
    if isinstance(target, ScheduleLR):
        if isinstance(base_lr, bool) or base_lr != 1.0:
            raise TypeError(
                f"lr_curve: `base_lr` does not apply to a ScheduleLR (each group's base learning rate is its "
                f"'initial_lr', {[float(lr) for lr in target.base_lrs]}), got base_lr={base_lr!r}"
            )
        return _scheduler_curve(target, num_steps)
    base_lr = check_float("base_lr", base_lr, minimum=0.0)
    if isinstance(target, Schedule):
        return _curve(target.bind(base_lr), base_lr, num_steps)
    if isinstance(target, (str, enum.Enum)):
        entry = get_schedule_entry(target)
        if not entry.closed_form:
            raise ValueError(
                f"lr_curve: `{_ARGUMENT}`={entry.name!r} is not a closed-form function of the step (it is "
                "registered as a scheduler factory, e.g. one driven by metrics), so it has no curve"
            )
        schedule = build_schedule(entry.name, num_warmup_steps, num_training_steps, **schedule_kwargs)
        return _curve(schedule.bind(base_lr), base_lr, num_steps)
    raise TypeError(
        f"lr_curve: `{_ARGUMENT}` must be a schedule name, an hf_lr Schedule or an hf_lr ScheduleLR, got "
        f"{target!r} ({type(target).__name__}); wrap a plain function in hf_lr.schedules.LambdaSchedule"
    )
