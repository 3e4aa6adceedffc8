"""The ``LambdaLR`` subclass that drives an optimizer with :class:`~hf_lr.schedules.Schedule` objects."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

from hf_lr._validation import check_base_lr, check_int
from hf_lr.schedules import LambdaSchedule, Schedule

__all__ = ["ScheduleLR", "ScheduleMismatchError", "resolve_last_epoch"]

STATE_FORMAT = 1


class ScheduleMismatchError(ValueError):
    """Raised when a saved scheduler state was made with a different schedule configuration than the live one."""


def resolve_last_epoch(last_epoch: int = -1, completed_steps: int | None = None) -> int:
    """Turn torch's ``last_epoch`` or hf_lr's ``completed_steps`` into torch's ``last_epoch``.

    ``completed_steps=k`` (the number of optimizer updates already done) is ``last_epoch=k - 1``: the scheduler's
    constructor steps once, so the next update uses ``schedule(k)``.

    Example:
        >>> from hf_lr import resolve_last_epoch
        >>> resolve_last_epoch(completed_steps=100)
        99
        >>> resolve_last_epoch(last_epoch=-1)
        -1
    """
    last_epoch = check_int("last_epoch", last_epoch, minimum=-1)
    if completed_steps is None:
        return last_epoch
    completed_steps = check_int("completed_steps", completed_steps)
    if last_epoch != -1:
        raise ValueError(
            "pass either `last_epoch` (torch's index of the last update, -1 to start) or `completed_steps` (the "
            f"number of updates done), not both; got last_epoch={last_epoch}, completed_steps={completed_steps}"
        )
    return completed_steps - 1


def _as_schedule(candidate: Any, index: int | None = None) -> Schedule:
    if isinstance(candidate, Schedule):
        return candidate
    if callable(candidate):
        return LambdaSchedule(candidate)
    where = "" if index is None else f"[{index}]"
    raise TypeError(f"`schedule{where}` must be a hf_lr Schedule or a callable step -> float, got {candidate!r}")


def _config_differences(saved: Any, live: Any, prefix: str = "") -> list[str]:
    if isinstance(saved, dict) and isinstance(live, dict):
        lines = []
        for key in sorted(set(saved) | set(live), key=str):
            lines += _config_differences(saved.get(key, "<missing>"), live.get(key, "<missing>"), f"{prefix}{key}.")
        return lines
    if isinstance(saved, list) and isinstance(live, list) and len(saved) == len(live):
        lines = []
        for index, (a, b) in enumerate(zip(saved, live)):
            lines += _config_differences(a, b, f"{prefix}{index}.")
        return lines
    return [] if saved == live else [f"{prefix.rstrip('.')}: saved {saved!r}, live {live!r}"]


class ScheduleLR(LambdaLR):
    """A :class:`torch.optim.lr_scheduler.LambdaLR` whose multipliers are closed-form hf_lr schedules.

    Group ``i``'s learning rate at update ``step`` is ``base_lrs[i] * schedule_i(step)``, where ``base_lrs[i]`` is the
    group's ``initial_lr`` (its learning rate when the schedule started) and ``schedule_i`` is the schedule bound to
    that base learning rate. Each distinct schedule is evaluated once per step, whatever the number of groups. Tensor
    learning rates are updated in place (``fill_``) and read as floats, never captured.

    Resuming: ``ScheduleLR(optimizer, schedule, completed_steps=k)`` continues exactly as a run that has done ``k``
    updates (torch's equivalent is ``last_epoch=k - 1``). Each group's base learning rate is its ``initial_lr``,
    which the optimizer's ``state_dict`` carries; with ``completed_steps``, a group without one (a fresh optimizer)
    takes its current lr as the base. torch's ``last_epoch`` route raises an explained ``ValueError`` instead (torch
    raises a bare ``KeyError``) unless ``base_lrs`` gives the missing values.

    :meth:`state_dict` holds only plain values (it loads with ``torch.load(weights_only=True)``) and records every
    group's schedule configuration; :meth:`load_state_dict` raises :class:`ScheduleMismatchError` when the saved
    configuration differs from the live one.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rates are scheduled.
        schedule (`Schedule`, callable, or a list of them, one per parameter group):
            The multiplier; a plain callable ``step -> float`` is wrapped in :class:`~hf_lr.LambdaSchedule`.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update done; -1 starts from scratch.
        completed_steps (`int`, *optional*):
            The number of updates already done (instead of `last_epoch`); groups without ``initial_lr`` take their
            current lr as the base.
        base_lrs (`list[float]`, *optional*):
            Base learning rates for groups that have no ``initial_lr`` when resuming.

    Example:
        >>> import torch
        >>> from hf_lr import LinearWithWarmup, ScheduleLR
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> scheduler = ScheduleLR(optimizer, LinearWithWarmup(num_warmup_steps=2, num_training_steps=10))
        >>> lrs = []
        >>> for _ in range(4):
        ...     lrs.append(scheduler.get_last_lr()[0])
        ...     optimizer.step()
        ...     scheduler.step()
        >>> [round(lr, 4) for lr in lrs]
        [0.0, 0.05, 0.1, 0.0875]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: Schedule | Callable[[int], float] | Sequence[Schedule | Callable[[int], float]],
        last_epoch: int = -1,
        *,
        completed_steps: int | None = None,
        base_lrs: Sequence[float] | None = None,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"`optimizer` must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        groups = optimizer.param_groups
        if isinstance(schedule, (list, tuple)):
            if len(schedule) != len(groups):
                raise ValueError(
                    f"`schedule` must have one entry per parameter group: expected {len(groups)}, got {len(schedule)}"
                )
            schedules = [_as_schedule(s, i) for i, s in enumerate(schedule)]
        else:
            schedules = [_as_schedule(schedule)] * len(groups)
        fresh_groups_are_base = completed_steps is not None
        last_epoch = resolve_last_epoch(last_epoch, completed_steps)
        if last_epoch != -1:
            self._repair_initial_lr(optimizer, last_epoch, base_lrs, fresh_groups_are_base)
        elif base_lrs is not None:
            raise ValueError("`base_lrs` only repairs missing 'initial_lr' when resuming (completed_steps > 0)")
        self.schedules: list[Schedule] = schedules
        self.lr_lambdas = list(schedules)
        #: how the schedule was asked for (registry name and arguments, as plain values), if built by name
        self.source: dict[str, Any] | None = None
        LRScheduler.__init__(self, optimizer, last_epoch)

    @staticmethod
    def _repair_initial_lr(
        optimizer: Optimizer, last_epoch: int, base_lrs: Sequence[float] | None, fresh_groups_are_base: bool
    ) -> None:
        groups = optimizer.param_groups
        if base_lrs is not None and len(base_lrs) != len(groups):
            raise ValueError(f"`base_lrs` must have one value per parameter group: expected {len(groups)}, got {len(base_lrs)}")
        for index, group in enumerate(groups):
            if "initial_lr" in group:
                continue
            if base_lrs is None and fresh_groups_are_base:
                # Only a scheduler changes a group's lr, and it records 'initial_lr' (which the optimizer's
                # state_dict carries): a group without it has never been scheduled, its lr is the base.
                group["initial_lr"] = group["lr"].clone() if isinstance(group["lr"], Tensor) else group["lr"]
                continue
            if base_lrs is None:
                raise ValueError(
                    f"param_groups[{index}] has no 'initial_lr', which resuming at update {last_epoch + 1} needs "
                    "(the learning rate the schedule started from). Load the optimizer's state_dict from the "
                    "checkpoint before building the scheduler (it carries 'initial_lr'), or pass "
                    "`base_lrs=[...]` with each group's base learning rate, or use `completed_steps=k` (for k updates "
                    "done), which takes the lr of a group without 'initial_lr' as its base."
                )
            group["initial_lr"] = check_base_lr(base_lrs[index], where=f"base_lrs[{index}]")

    def _initial_step(self) -> None:
        # LRScheduler.__init__ has set base_lrs from each group's initial_lr (tensor clones for tensor lrs).
        self.base_lrs = [check_base_lr(lr, where=f"param_groups[{i}]") for i, lr in enumerate(self.base_lrs)]
        self._bind()
        super()._initial_step()

    def _bind(self) -> None:
        """Bind each group's schedule to its base lr and group the groups that follow the same bound schedule."""
        bound: list[Schedule] = []
        plan: dict[Schedule, list[int]] = {}
        for index, (schedule, base_lr) in enumerate(zip(self.schedules, self.base_lrs)):
            try:
                schedule_for_group = schedule.bind(base_lr)
            except ValueError as error:
                raise ValueError(f"param_groups[{index}]: {error}") from None
            bound.append(schedule_for_group)
            plan.setdefault(schedule_for_group, []).append(index)
        self.lr_lambdas = bound
        self._plan = [(schedule, tuple(indices)) for schedule, indices in plan.items()]

    def _multiplier(self, schedule: Schedule, step: int) -> float:
        value = schedule(step)
        if not 0.0 <= value < math.inf:
            raise ValueError(
                f"schedule {schedule.config()['type']} returned {value} at step {step}; a learning-rate multiplier "
                "must be finite and >= 0"
            )
        return value

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The learning rates for update ``last_epoch`` (``base_lr * schedule(last_epoch)`` per group)."""
        base_lrs, step = self.base_lrs, self.last_epoch
        if len(self._plan) == 1:
            # Every group follows one bound schedule (the usual case, layer-wise lrs included): one evaluation and a
            # single comprehension, about twice as fast per group as indexed writes.
            multiplier = self._multiplier(self._plan[0][0], step)
            return [base_lr * multiplier for base_lr in base_lrs]
        lrs = [0.0] * len(base_lrs)
        for schedule, indices in self._plan:
            multiplier = self._multiplier(schedule, step)
            for index in indices:
                lrs[index] = base_lrs[index] * multiplier
        return lrs

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
        else:
            self.last_epoch = check_int("epoch", epoch, minimum=0)
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            current = group["lr"]
            # `type(...) is float` first: isinstance against torch.Tensor's metaclass costs ~4x more per group.
            if type(current) is not float and isinstance(current, Tensor):
                current.fill_(lr)
            else:
                group["lr"] = lr
        self._last_lr = lrs

    def get_last_lr(self) -> list[float]:  # type: ignore[override]
        """The learning rates the scheduler last set, one float per group (also for tensor learning rates)."""
        return list(self._last_lr)

    def schedule_configs(self) -> list[dict[str, Any]]:
        """Each group's schedule configuration, as recorded in :meth:`state_dict`."""
        return [schedule.config() for schedule in self.schedules]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state as plain values, with the schedule configuration of every group.

        Loads with ``torch.load(path, weights_only=True)``.
        """
        return {
            "last_epoch": int(self.last_epoch),
            "_step_count": int(self._step_count),
            "base_lrs": [float(lr) for lr in self.base_lrs],
            "_last_lr": [float(lr) for lr in self._last_lr],
            "_get_lr_called_within_step": False,
            "_is_initial": False,
            "hf_lr": {"format": STATE_FORMAT, "schedules": self.schedule_configs(), "source": self.source},
        }

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> None:
        """Restore the step count and base learning rates saved by :meth:`state_dict`, and set the optimizer's
        learning rates to the schedule's values at that step (torch's schedulers leave them to the optimizer state).

        A state without hf_lr's record (saved by a plain ``LambdaLR``, e.g. Transformers') loads with a warning, since
        its schedule cannot be checked.

        Args:
            state_dict (`dict`):
                A state returned by :meth:`state_dict`.
            strict (`bool`, *optional*, defaults to `True`):
                Raise :class:`ScheduleMismatchError` when the saved schedule configuration differs from the live one;
                with `False`, warn and keep the live schedule.
        """
        missing = [key for key in ("last_epoch", "base_lrs") if key not in state_dict]
        if missing:
            raise ValueError(f"not a scheduler state: missing {', '.join(missing)} (keys: {sorted(state_dict)})")
        record = state_dict.get("hf_lr")
        if record is None:
            warnings.warn(
                "this scheduler state has no hf_lr schedule record (saved by a plain LambdaLR?): its step count is "
                "restored but its schedule cannot be checked against the live one",
                UserWarning,
                stacklevel=2,
            )
        else:
            differences = _config_differences(record.get("schedules"), self.schedule_configs())
            if differences:
                message = (
                    "the saved scheduler state was made with a different schedule than this scheduler's; resuming "
                    "would silently change the curve. Differences (param group index first):\n  "
                    + "\n  ".join(differences)
                    + "\nBuild the scheduler with the saved configuration, or load with strict=False to keep the live one."
                )
                if strict:
                    raise ScheduleMismatchError(message)
                warnings.warn(message, UserWarning, stacklevel=2)
        base_lrs = list(state_dict["base_lrs"])
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(
                f"the saved state has {len(base_lrs)} base learning rates, the optimizer has "
                f"{len(self.optimizer.param_groups)} parameter groups"
            )
        self.last_epoch = check_int("last_epoch", state_dict["last_epoch"], minimum=-1)
        self._step_count = int(state_dict.get("_step_count", self.last_epoch + 1))
        self.base_lrs = [check_base_lr(lr, where=f"base_lrs[{i}]") for i, lr in enumerate(base_lrs)]
        self._bind()
        # Unlike torch, also set the optimizer's learning rates to the schedule's values at the loaded step, so that
        # loading the scheduler state alone is enough (loading the optimizer state too writes the same values).
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            if isinstance(group["lr"], Tensor):
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr
        self._last_lr = lrs
