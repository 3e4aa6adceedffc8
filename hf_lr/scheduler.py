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

from hf_lr._validation import ABSENT, check_base_lr, check_choice, check_int, no_more_arguments, renamed_argument
from hf_lr.extension import EXTENSION_SHAPES, Extension
from hf_lr.schedules import LambdaSchedule, Schedule, WarmupStableDecay

__all__ = ["CLOCKS", "ScheduleLR", "ScheduleMismatchError", "ScheduleOverrunWarning", "resolve_last_epoch"]

STATE_FORMAT = 1
#: ``"calls"``: torch's clock, one step per ``scheduler.step()`` call; ``"updates"``: the number of optimizer updates.
CLOCKS = ("calls", "updates")
#: torch >= 2.9's ``LRScheduler.step`` writes the learning rates through ``_update_lr``, which ScheduleLR overrides;
#: older releases write them in ``step`` itself.
_TORCH_STEPS_THROUGH_UPDATE_LR = hasattr(LRScheduler, "_update_lr")


class ScheduleMismatchError(ValueError):
    """Raised when a saved scheduler state was made with a different schedule configuration than the live one."""


class ScheduleOverrunWarning(UserWarning):
    """Warned once when a scheduler is stepped past the number of updates its schedule was sized for."""


def _innermost(optimizer: Optimizer) -> Optimizer:
    """The torch optimizer under wrappers (Accelerate's ``AcceleratedOptimizer`` keeps it as ``.optimizer``): its
    ``step`` is the one that runs for every real update and fires step hooks."""
    seen = {id(optimizer)}
    while isinstance(getattr(optimizer, "optimizer", None), Optimizer) and id(optimizer.optimizer) not in seen:  # type: ignore[attr-defined]
        optimizer = optimizer.optimizer  # type: ignore[attr-defined]
        seen.add(id(optimizer))
    return optimizer


class _CountsUpdates:
    """Mixin: ``self.updates`` counts real optimizer updates, through a step hook on the innermost optimizer (skipped
    updates never call it). Pickles without the hook's handle and registers the hook again when unpickled."""

    optimizer: Optimizer
    updates: int

    def _hook(self) -> None:
        self._hook_handle = _innermost(self.optimizer).register_step_post_hook(self._after_optimizer_step)

    def _after_optimizer_step(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        self.updates += 1

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_hook_handle", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._hook()


def _extensions(config: Any) -> tuple[list[dict[str, Any]], Any]:
    """Split a saved schedule configuration into its Extension layers (outermost first) and the original's."""
    layers = []
    while isinstance(config, dict) and config.get("type") == "Extension" and isinstance(config.get("schedule"), dict):
        layers.append({key: value for key, value in config.items() if key not in ("type", "schedule")})
        config = config["schedule"]
    return layers, config


def _rebuild(schedule: Schedule, layers: list[dict[str, Any]]) -> Schedule:
    for layer in reversed(layers):
        schedule = Extension(schedule, **layer)
    return schedule


def resolve_last_epoch(last_epoch: int = -1, completed_steps: int | None = None) -> int:
    """Turn torch's ``last_epoch`` or hf_lr's ``completed_steps`` into torch's ``last_epoch``.

    ``completed_steps=k`` (the number of optimizer updates already done) is ``last_epoch=k - 1``: the scheduler's
    constructor steps once, so the next update uses ``schedule(k)``.

    Example:
        >>> from hf_lr.scheduler import resolve_last_epoch
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
        raise ValueError(
            f"state_dict[{key!r}] must be a list with one learning rate per parameter group, got {values!r}"
        )
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


#: type names that earlier versions recorded for a schedule that is now another class's
RENAMED_TYPES = {"Constant1": "Constant"}
#: configuration keys that earlier versions recorded under a former name (one name per concept: Transformers' own)
RENAMED_FIELDS = {
    "Warmup": {"kind": "warmup_type"},
    "Decay": {"shape": "decay_type"},
    "Extension": {"shape": "decay_type"},
}


def current_config(config: Any) -> Any:
    """A saved schedule configuration with the type and field names of this version (states saved by earlier ones
    load)."""
    if isinstance(config, list):
        return [current_config(item) for item in config]
    if not isinstance(config, dict):
        return config
    kind = RENAMED_TYPES.get(config.get("type"), config.get("type"))  # type: ignore[arg-type]
    renamed = RENAMED_FIELDS.get(kind, {}) if isinstance(kind, str) else {}
    out = {renamed.get(key, key): current_config(value) for key, value in config.items()}
    if "type" in config:
        out["type"] = kind
    return out


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


class ScheduleLR(_CountsUpdates, LambdaLR):
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
            The multiplier; a plain callable ``step -> float`` is wrapped in :class:`~hf_lr.schedules.LambdaSchedule`.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update done; -1 starts from scratch.
        completed_steps (`int`, *optional*):
            The number of updates already done (instead of `last_epoch`); groups without ``initial_lr`` take their
            current lr as the base.
        base_lrs (`list[float]`, *optional*):
            Base learning rates for groups that have no ``initial_lr`` when resuming.
        clock (`str`, *optional*, defaults to `"calls"`):
            What a step of the schedule is. ``"calls"``: torch's clock, one step per ``step()`` call.
            ``"updates"``: the number of real optimizer updates, counted by a step hook on the optimizer, so extra
            ``step()`` calls are no-ops (Accelerate's default ``prepare()`` steps a scheduler ``num_processes``
            times per update; loops that step per micro-batch), and skipped updates (a ``GradScaler`` that found
            inf, Accelerate's ``step_was_skipped``) do not count. On either clock a scheduler stepped past its
            schedule's end warns once (:class:`ScheduleOverrunWarning`).

    Example:
        >>> import torch
        >>> from hf_lr import ScheduleLR
        >>> from hf_lr.schedules import LinearWithWarmup
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

    # After `_initial_step` the base and last learning rates are floats (tensor lrs are read as floats) and the
    # lambdas are the bound schedules; torch declares the wider types.
    base_lrs: list[float]  # type: ignore[assignment]
    _last_lr: list[float]  # type: ignore[assignment]
    lr_lambdas: list[Schedule]  # type: ignore[assignment]

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: Schedule | Callable[[int], float] | Sequence[Schedule | Callable[[int], float]],
        last_epoch: int = -1,
        *,
        completed_steps: int | None = None,
        base_lrs: Sequence[float] | None = None,
        clock: str = "calls",
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
        self.clock = check_choice("clock", clock, CLOCKS)
        # Real optimizer updates, counted by a step hook on the innermost optimizer (skipped updates never call it);
        # with clock="updates" the schedule's step is `updates - offset`.
        self.updates, self._offset = last_epoch + 1, 0
        self._overrun_warned = False
        self._extension_on_load: dict[str, Any] | None = None
        LRScheduler.__init__(self, optimizer, last_epoch)
        self._hook()

    @staticmethod
    def _repair_initial_lr(
        optimizer: Optimizer, last_epoch: int, base_lrs: Sequence[float] | None, fresh_groups_are_base: bool
    ) -> None:
        groups = optimizer.param_groups
        if base_lrs is not None and len(base_lrs) != len(groups):
            raise ValueError(
                f"`base_lrs` must have one value per parameter group: expected {len(groups)}, got {len(base_lrs)}"
            )
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
        horizons = [h for h in (schedule.horizon() for schedule in self.schedules) if h is not None]
        self._horizon = max(horizons) if horizons else None

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

    def step(self, epoch: int | None = None) -> None:  # type: ignore[override]
        """Advance the schedule: by one (``clock="calls"``), or to the number of optimizer updates done so far
        (``clock="updates"``, where a call with no update since the last one does nothing)."""
        if epoch is None and self.clock == "updates" and self.updates - self._offset == self.last_epoch:
            return
        if _TORCH_STEPS_THROUGH_UPDATE_LR:
            super().step(epoch)
            return
        # torch < 2.9's LRScheduler.step advances last_epoch and writes get_lr()'s values itself instead of calling
        # _update_lr. Let it run for its call-order warnings and counters, then take the step again through
        # _update_lr from where it started, so both clocks, the overrun warning and float _last_lr behave as on
        # torch >= 2.9.
        if epoch is not None:
            check_int("epoch", epoch, minimum=0)
        before = self.last_epoch
        LambdaLR.step(self, epoch)
        self.last_epoch = before
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is not None:
            self.last_epoch = check_int("epoch", epoch, minimum=0)
            self._offset = self.updates - self.last_epoch
        elif self.clock == "calls":
            self.last_epoch += 1
        else:  # extra calls between two updates are no-ops; skipped updates were never counted
            self.last_epoch = max(0, self.updates - self._offset)
        if self._horizon is not None and self.last_epoch > self._horizon and not self._overrun_warned:
            self._warn_overrun()
        self._set_lrs(self.get_lr())

    def _set_lrs(self, lrs: list[float]) -> None:
        """Write ``lrs`` into the optimizer (tensor lrs in place) and record them as the last lrs."""
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

    def _warn_overrun(self) -> None:
        self._overrun_warned = True
        calls, updates = self.last_epoch, self.updates
        if self.clock == "updates" or not calls > 1.5 * updates:
            cause = (
                f"the run has made more optimizer updates ({updates}) than the schedule was sized for: size it in "
                "optimizer updates for the whole run, or extend it (`scheduler.extend(num_training_steps)`)"
            )
        else:
            per_update = f" (about {calls / updates:.3g} per update)" if updates else ""
            cause = (
                f"after {updates} optimizer updates the scheduler has been stepped to {calls}{per_update}. Likely "
                "causes: Accelerate's default prepare() steps a prepared scheduler num_processes times per update; "
                "`scheduler.step()` called per micro-batch under gradient accumulation; a schedule sized in batches or "
                "for fewer updates than the run. Fix: build it with clock='updates' (the schedule then counts real "
                "optimizer updates, whoever calls step()), or `Accelerator(step_scheduler_with_optimizer=False)` and "
                "one `scheduler.step()` per update, or size the schedule in optimizer updates"
            )
        warnings.warn(
            f"learning-rate schedule stepped past its end: step {self.last_epoch} > num_training_steps={self._horizon}; "
            + cause,
            ScheduleOverrunWarning,
            stacklevel=4,
        )

    def _install(self, change: Callable[[Schedule], Schedule]) -> None:
        """Replace each distinct (unbound) schedule by ``change(schedule)`` and set the lrs of the current step
        (unchanged at the switch)."""
        changed = {schedule: change(schedule) for schedule in dict.fromkeys(self.schedules)}
        self.schedules = [changed[schedule] for schedule in self.schedules]
        self._bind()
        self._overrun_warned = False
        self._set_lrs(self.get_lr())

    def _at(self) -> int:
        if self.last_epoch < 0:
            raise ValueError("the schedule has not started (last_epoch=-1): nothing to extend yet")
        return self.last_epoch

    def extend(
        self,
        num_training_steps: int,
        mode: str = "stretch",
        *,
        num_warmup_steps: int = 0,
        peak: float = 1.0,
        decay_type: str = "cosine",
        end: float | None = None,
        **former: Any,
    ) -> None:
        """Extend the run to `num_training_steps` updates from the current update, without a jump in the lr.

        ``mode="stretch"``: the rest of the curve, from here to its old end, is stretched to end at
        `num_training_steps` (same shape, same end value). ``mode="rewarm"``: warm up linearly from the current lr to
        `peak` times the base lr over `num_warmup_steps` updates, then decay (`decay_type`) to `end` (default: the old
        curve's end value) at `num_training_steps`. The change is a closed-form :class:`~hf_lr.extension.Extension`
        of the schedule, recorded in :meth:`state_dict`; a scheduler built with the original arguments loads that
        state and follows the extended curve. See :meth:`allow_extension` to extend when resuming with new arguments.

        Args:
            num_training_steps (`int`):
                The new total number of updates.
            mode (`str`, *optional*, defaults to `"stretch"`):
                ``"stretch"`` or ``"rewarm"``.
            num_warmup_steps (`int`, *optional*, defaults to 0):
                The re-warmup length (``"rewarm"``).
            peak (`float`, *optional*, defaults to 1.0):
                The re-warmup's target multiplier of the base lr (``"rewarm"``).
            decay_type (`str`, *optional*, defaults to `"cosine"`):
                The decay after re-warmup: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
            end (`float`, *optional*):
                The final multiplier after re-warmup.

        Example:
            >>> import torch
            >>> from hf_lr import get_scheduler
            >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            >>> scheduler = get_scheduler("linear", optimizer, num_warmup_steps=0, num_training_steps=10, completed_steps=5)
            >>> scheduler.extend(20)
            >>> lrs = []
            >>> for _ in range(15):
            ...     optimizer.step(); scheduler.step(); lrs.append(round(scheduler.get_last_lr()[0], 4))
            >>> lrs[0], lrs[4], lrs[14]  # updates 6, 10 and 20 (the new end)
            (0.4667, 0.3333, 0.0)
        """
        decay_type = renamed_argument(former, "shape", "decay_type", decay_type, "cosine", "extend()")
        no_more_arguments("extend()", former)
        mode = check_choice("mode", mode, ("stretch", "rewarm"))
        at = self._at()
        options: dict[str, Any] = (
            {"num_warmup_steps": num_warmup_steps, "peak": peak, "decay_type": decay_type, "end": end}
            if mode == "rewarm"
            else {}
        )
        if mode == "stretch" and (num_warmup_steps or end is not None):
            raise ValueError(
                "`num_warmup_steps` and `end` go with mode='rewarm'; mode='stretch' keeps the curve's shape and end"
            )
        self._install(
            lambda schedule: Extension(
                schedule, at=at, new_end=num_training_steps, mode=mode, old_end=schedule.horizon(), **options
            )
        )

    def start_decay(
        self, num_decay_steps: int | None = None, decay_type: str | None = None, end: float | None = None, **former: Any
    ) -> None:
        """Start the cooldown now: decay from the current lr to `end` over `num_decay_steps` updates (WSD-style).

        For an open-ended ``warmup_stable_decay`` (no ``num_training_steps``), the defaults are its own
        ``num_decay_steps``, ``decay_type`` (``"linear"``, ``"cosine"``, ``"1-sqrt"``) and ``min_lr_ratio``;
        otherwise `num_decay_steps` is required, `decay_type` defaults to ``"cosine"`` and `end` to 0. Recorded in
        :meth:`state_dict`, like :meth:`extend`; usable from a Trainer callback.

        Example:
            >>> import torch
            >>> from hf_lr import get_scheduler
            >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            >>> scheduler = get_scheduler("warmup_stable_decay", optimizer, num_warmup_steps=2,
            ...                           scheduler_specific_kwargs={"num_decay_steps": 4, "decay_type": "linear"})
            >>> for _ in range(6):
            ...     optimizer.step(); scheduler.step()
            >>> scheduler.start_decay()  # at update 6, over the schedule's own 4 decay updates
            >>> lrs = []
            >>> for _ in range(4):
            ...     optimizer.step(); scheduler.step(); lrs.append(scheduler.get_last_lr()[0])
            >>> lrs
            [0.75, 0.5, 0.25, 0.0]
        """
        decay_type = renamed_argument(former, "shape", "decay_type", decay_type, None, "start_decay()")
        no_more_arguments("start_decay()", former)
        at = self._at()

        def decay(schedule: Schedule) -> Schedule:
            own = schedule if isinstance(schedule, WarmupStableDecay) and schedule.num_stable_steps is None else None
            steps = num_decay_steps if num_decay_steps is not None else (own.num_decay_steps if own else None)
            if steps is None:
                raise ValueError(
                    "`num_decay_steps` is required (only an open-ended warmup_stable_decay has its own), got None"
                )
            steps = check_int("num_decay_steps", steps, minimum=1)
            shape_ = decay_type if decay_type is not None else (own.decay_type if own else "cosine")
            shape_ = check_choice("decay_type", shape_, EXTENSION_SHAPES)
            end_ = end if end is not None else (own.min_lr_ratio if own else 0.0)
            return Extension(schedule, at=at, new_end=at + steps, mode="decay", decay_type=shape_, end=end_)

        self._install(decay)

    def allow_extension(self, mode: str = "stretch", **options: Any) -> None:
        """Accept, at the next :meth:`load_state_dict`, a state saved with a smaller size: extend it instead.

        For resuming with a larger ``num_training_steps`` (Trainer's ``max_steps``) than the checkpoint's. The saved
        schedule is rebuilt from its recorded arguments (so the scheduler must have been built by name, with
        :func:`hf_lr.get_scheduler`), then extended from the saved update to this scheduler's size with
        :meth:`extend`'s `mode` and `options` (``"rewarm"`` re-warms over this scheduler's own ``num_warmup_steps``
        unless `options` say otherwise). Anything else that differs (the name, its arguments, a smaller size) still
        raises :class:`ScheduleMismatchError`.

        Example:
            >>> import torch
            >>> from hf_lr import get_scheduler
            >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            >>> old = get_scheduler("cosine", optimizer, 0, 100, completed_steps=60)
            >>> new = get_scheduler("cosine", optimizer, 0, 200)
            >>> new.allow_extension("stretch")
            >>> new.load_state_dict(old.state_dict())
            >>> new.last_epoch, new.schedules[0].horizon()
            (60, 200)
        """
        check_choice("mode", mode, ("stretch", "rewarm"))
        decay_type = renamed_argument(
            options, "shape", "decay_type", options.get("decay_type", ABSENT), ABSENT, "allow_extension()"
        )
        if decay_type is not ABSENT:
            options["decay_type"] = decay_type
        unknown = sorted(set(options) - {"num_warmup_steps", "peak", "decay_type", "end"})
        if unknown:
            raise TypeError(
                f"allow_extension() got unknown option(s) {unknown}; it takes num_warmup_steps, peak, decay_type, end"
            )
        self._extension_on_load = {"mode": mode, **options}

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
            "hf_lr": {
                "format": STATE_FORMAT,
                "schedules": self.schedule_configs(),
                "source": self.source,
                "clock": {"kind": self.clock, "updates": int(self.updates), "offset": int(self._offset)},
            },
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
            raise ValueError(
                f"not a scheduler state: missing {', '.join(missing)} (keys: {sorted(map(str, state_dict))})"
            )
        count = len(self.optimizer.param_groups)
        last_epoch = check_int("state_dict['last_epoch']", state_dict["last_epoch"], minimum=-1)
        base_lrs = _state_lrs(state_dict, "base_lrs", count)
        last_lrs = _state_lrs(state_dict, "_last_lr", count) if "_last_lr" in state_dict else None
        step_count = check_int("state_dict['_step_count']", state_dict.get("_step_count", last_epoch + 1))
        record = state_dict.get("hf_lr")
        adopted = None
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
            saved_configs = current_config(record.get("schedules"))
            differences = _config_differences(saved_configs, self.schedule_configs())
            adopted = self._adopt(saved_configs, record.get("source"), last_epoch) if differences else None
            if adopted is not None:
                differences = []
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
        clock = record.get("clock") if isinstance(record, Mapping) else None
        updates, offset = last_epoch + 1, 0
        if isinstance(clock, Mapping):
            updates = check_int("state_dict['hf_lr']['clock']['updates']", clock.get("updates", updates))
            offset = check_int("state_dict['hf_lr']['clock']['offset']", clock.get("offset", 0), minimum=None)
            if clock.get("kind") != self.clock:
                warnings.warn(
                    f"the saved scheduler state counted steps with clock={clock.get('kind')!r}, this scheduler with "
                    f"clock={self.clock!r}: it continues from step {last_epoch} with its own clock",
                    UserWarning,
                    stacklevel=2,
                )
                updates, offset = last_epoch + 1 if last_epoch >= 0 else 0, 0
        previous = (self.last_epoch, self._step_count, self.base_lrs, self.schedules, self.updates, self._offset)
        self.last_epoch, self._step_count, self.base_lrs = last_epoch, step_count, base_lrs
        self.updates, self._offset = updates, offset
        if adopted is not None:
            self.schedules, self.source = adopted
        try:
            self._bind()
            if last_lrs is None:
                # A state without them (torch's LambdaLR always has them): the schedule's values, unless not started.
                last_lrs = self.get_lr() if last_epoch >= 0 else [float(lr) for lr in self.get_last_lr()]
        except ValueError:
            self.last_epoch, self._step_count, self.base_lrs, self.schedules, self.updates, self._offset = previous
            self._bind()
            raise
        self._last_lr = last_lrs
        self._overrun_warned = self._horizon is not None and last_epoch > self._horizon
        target = self._target_size
        growing = self._horizon is not None and target is not None and target > self._horizon
        if self._extension_on_load is not None and target is not None and growing and last_epoch >= 0:
            options = dict(self._extension_on_load)
            if options["mode"] == "rewarm" and "num_warmup_steps" not in options:  # the new run's own warmup
                options["num_warmup_steps"] = (self.source or {}).get("live_num_warmup_steps") or 0
            self.extend(target, **options)

    @property
    def _target_size(self) -> int | None:
        total = (self.source or {}).get("live_num_training_steps", (self.source or {}).get("num_training_steps"))
        return total if isinstance(total, int) else None

    def _adopt(self, saved: Any, saved_source: Any, last_epoch: int) -> tuple[list[Schedule], Any] | None:
        """The schedules a differing saved state asks for, when the difference is a recorded change: extensions of
        this scheduler's own schedules, or (after :meth:`allow_extension`) a smaller saved size to extend."""
        if not isinstance(saved, list) or len(saved) != len(self.schedules):
            return None
        layers_and_bases = [_extensions(config) for config in saved]
        live = self.schedule_configs()
        if all(base == config for (_, base), config in zip(layers_and_bases, live)):  # extended, then saved
            return [_rebuild(s, layers) for s, (layers, _) in zip(self.schedules, layers_and_bases)], self.source
        if self._extension_on_load is None:
            return None
        source = self.source or {}
        if not isinstance(saved_source, Mapping) or not source:
            raise ScheduleMismatchError(
                "allow_extension() needs both schedules built by name with hf_lr.get_scheduler (the state records the "
                "arguments to rebuild the saved one); build the scheduler with the saved size, load the state, then "
                "call extend() instead"
            )
        from hf_lr.registry import build_schedule, get_schedule_entry  # the registry imports this module

        saved_kwargs = saved_source.get("scheduler_specific_kwargs")
        if isinstance(saved_kwargs, Mapping) and saved_source.get("name") == source.get("name"):
            # a state saved before a parameter was renamed records its former name
            saved_kwargs = get_schedule_entry(source["name"]).current_names(saved_kwargs)
            saved_source = {**saved_source, "scheduler_specific_kwargs": saved_kwargs}
        same = ("name", "scheduler_specific_kwargs")
        changed = [key for key in same if saved_source.get(key) != source.get(key)]
        if changed:
            raise ScheduleMismatchError(
                "allow_extension() extends a run of the same schedule; the saved state differs in "
                + ", ".join(f"{key}: saved {saved_source.get(key)!r}, live {source.get(key)!r}" for key in changed)
            )
        saved_total, live_total = saved_source.get("num_training_steps"), source.get("num_training_steps")
        base = build_schedule(
            saved_source["name"],
            saved_source.get("num_warmup_steps"),
            saved_total,
            **dict(saved_source.get("scheduler_specific_kwargs") or {}),
        )
        if any(config != base.config() for _, config in layers_and_bases):
            raise ScheduleMismatchError(
                "the saved schedules cannot be rebuilt from their recorded arguments; cannot extend"
            )
        rebuilt = [_rebuild(base, layers) for layers, _ in layers_and_bases]
        horizon = max((s.horizon() or 0) for s in rebuilt)
        if not isinstance(live_total, int) or live_total < horizon:
            raise ScheduleMismatchError(
                f"allow_extension(): the live num_training_steps={live_total} does not extend the saved schedule, "
                f"which ends at {horizon}"
            )
        sizes = {"live_num_training_steps": live_total, "live_num_warmup_steps": source.get("num_warmup_steps")}
        return rebuilt, {**saved_source, **sizes}
