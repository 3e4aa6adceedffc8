"""The ``LambdaLR`` subclass that drives an optimizer with :class:`~hf_lr.schedules.Schedule` objects."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
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


def _class_default_lr(optimizer: Optimizer) -> Any:
    try:
        parameter = inspect.signature(type(optimizer).__init__).parameters.get("lr")
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return None
    return None if parameter is None else parameter.default


def reference_lr(optimizer: Optimizer, base_lrs: Sequence[float]) -> tuple[float, str | None]:
    """The learning rate that Transformers' absolute arguments (``lr_end``, ``min_lr``, Noam's absolute mode) refer to.

    It is ``optimizer.defaults["lr"]`` (read as a float), as in Transformers, when it is usable: some group has it,
    or the user passed it (it differs from the optimizer class's default). An optimizer built from groups only, each
    with its own lr, has its class's default lr there (AdamW: 1e-3), which no group uses; the reference is then the
    largest group lr, and the second value returned is a warning that says so (``None`` otherwise).

    Example:
        >>> import torch
        >>> from hf_lr.scheduler import reference_lr
        >>> p, q = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
        >>> reference_lr(torch.optim.AdamW([{"params": [p]}, {"params": [q], "lr": 1e-5}], lr=1e-4), [1e-4, 1e-5])
        (0.0001, None)
        >>> reference_lr(torch.optim.AdamW([{"params": [p], "lr": 2e-5}, {"params": [q], "lr": 1e-5}]), [2e-5, 1e-5])[0]
        2e-05
    """
    default = optimizer.defaults.get("lr")
    largest = max(base_lrs, default=0.0)
    if default is not None:
        try:
            value = float(default)
        except (TypeError, ValueError, RuntimeError):
            value = math.nan
        class_default = _class_default_lr(optimizer)
        try:
            passed = class_default is inspect.Parameter.empty or class_default is None or value != float(class_default)
        except (TypeError, ValueError, RuntimeError):
            passed = True
        if math.isfinite(value) and value >= 0.0 and (passed or value in base_lrs):
            return value, None
    reason = (
        f"no parameter group has the optimizer's default lr ({default!r}, {type(optimizer).__name__}'s class default: "
        "an optimizer built from groups only?)"
        if default is not None
        else "the optimizer has no default lr"
    )
    return largest, (
        f"{reason}; the schedule's absolute learning rates (lr_end, min_lr, Noam's absolute mode) are taken relative to "
        f"the largest group lr, {largest}, so every group keeps its ratio to it (Transformers would read "
        f"optimizer.defaults['lr']). Pass lr=... to the optimizer to choose the reference."
    )


def _state_lrs(state_dict: Mapping[str, Any], key: str, count: int) -> list[float]:
    """A list of per-group learning rates from a saved state, checked (one finite lr >= 0 per group)."""
    values = state_dict[key]
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"state_dict[{key!r}] must be a list with one learning rate per parameter group, got {values!r}")
    if len(values) != count:
        raise ValueError(
            f"the saved state has {len(values)} values in {key!r}, the optimizer has {count} parameter groups"
        )
    return [check_base_lr(lr, where=f"state_dict[{key!r}][{i}]") for i, lr in enumerate(values)]


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

    def reference_lr(self) -> float:
        """The optimizer's reference learning rate, which Transformers' absolute arguments (``lr_end``, ``min_lr``)
        refer to: ``optimizer.defaults["lr"]``, or the largest group lr when no group has it and it is the optimizer
        class's default (see :func:`hf_lr.scheduler.reference_lr`)."""
        return reference_lr(self.optimizer, self.base_lrs)[0]

    def _bind(self) -> None:
        """Bind each group's schedule to its base lr and group the groups that follow the same bound schedule."""
        bound: list[Schedule] = []
        plan: dict[Schedule, list[int]] = {}
        reference = None
        if any(schedule.uses_reference_lr for schedule in self.schedules):
            reference, warning = reference_lr(self.optimizer, self.base_lrs)
            if warning is not None and not getattr(self, "_reference_warned", False):
                self._reference_warned = True
                warnings.warn(warning, UserWarning, stacklevel=4)
        for index, (schedule, base_lr) in enumerate(zip(self.schedules, self.base_lrs)):
            try:
                schedule_for_group = schedule.bind(base_lr, reference)
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
        """Restore the step count, base learning rates and last learning rates saved by :meth:`state_dict`.

        As in torch, the optimizer's learning rates are left alone: they come back with the optimizer's own state
        (Trainer, Accelerate and Lightning load both, in either order). This is what makes a ``ScheduleLR`` resume
        exactly as a child of torch's ``SequentialLR`` or ``ChainedScheduler``, where another child owns the current
        learning rate; a child that has not started yet (``last_epoch == -1``) is never evaluated. To resume without
        the optimizer's state, build the scheduler with ``completed_steps=k`` instead.

        A state without hf_lr's record (saved by a plain ``LambdaLR``, e.g. Transformers') loads with a warning, since
        its schedule cannot be checked. A state whose values are malformed raises ``ValueError`` and changes nothing.

        Args:
            state_dict (`dict`):
                A state returned by :meth:`state_dict`.
            strict (`bool`, *optional*, defaults to `True`):
                Raise :class:`ScheduleMismatchError` when the saved schedule configuration differs from the live one;
                with `False`, warn and keep the live schedule.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"`state_dict` must be a dict (a scheduler state), got {type(state_dict).__name__}")
        missing = [key for key in ("last_epoch", "base_lrs") if key not in state_dict]
        if missing:
            raise ValueError(f"not a scheduler state: missing {', '.join(missing)} (keys: {sorted(map(str, state_dict))})")
        count = len(self.optimizer.param_groups)
        last_epoch = check_int("state_dict['last_epoch']", state_dict["last_epoch"], minimum=-1)
        base_lrs = _state_lrs(state_dict, "base_lrs", count)
        last_lrs = _state_lrs(state_dict, "_last_lr", count) if "_last_lr" in state_dict else None
        step_count = check_int("state_dict['_step_count']", state_dict.get("_step_count", last_epoch + 1))
        record = state_dict.get("hf_lr")
        if record is None:
            warnings.warn(
                "this scheduler state has no hf_lr schedule record (saved by a plain LambdaLR?): its step count is "
                "restored but its schedule cannot be checked against the live one",
                UserWarning,
                stacklevel=2,
            )
        else:
            if not isinstance(record, Mapping) or not isinstance(record.get("schedules"), list):
                raise ValueError(
                    "state_dict['hf_lr'] must be hf_lr's record, a dict with a list of schedule configurations under "
                    f"'schedules', got {record!r}"
                )
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
        previous = (self.last_epoch, self._step_count, self.base_lrs)
        self.last_epoch, self._step_count, self.base_lrs = last_epoch, step_count, base_lrs
        try:
            self._bind()
            if last_lrs is None:
                # A state without them (torch's LambdaLR always has them): the schedule's values, unless not started.
                last_lrs = self.get_lr() if last_epoch >= 0 else [float(lr) for lr in self.get_last_lr()]
        except ValueError:
            self.last_epoch, self._step_count, self.base_lrs = previous
            self._bind()
            raise
        self._last_lr = last_lrs
