"""Any hf_lr schedule in ``transformers.Trainer``, by name, from Python and from the command line.

Transformers' ``TrainingArguments.lr_scheduler_type`` accepts only its closed ``SchedulerType`` enum. This module
adds, without patching Transformers:

- :class:`HfLrTrainingArguments`: ``lr_scheduler_type`` is any hf_lr name (built-in, ``noam``, ``lambda``,
  user-registered, entry points), checked when the arguments are built — so ``HfArgumentParser`` fails at parse time,
  with close matches — and ``lr_scheduler_kwargs`` (a dict, or JSON on the command line) is checked against the
  schedule's parameters then too;
- :class:`HfLrTrainerMixin` / :class:`HfLrTrainer`: ``create_scheduler`` builds the schedule with
  :func:`hf_lr.get_scheduler` from the number of optimizer updates Trainer computes (world size, accumulation and
  epochs included) and the warmup Trainer derives from ``warmup_steps`` (a count, or a ratio below 1, which
  :class:`HfLrTrainingArguments` also takes from Transformers before 5.0, where Trainer spells it ``warmup_ratio``);
  the logs carry every parameter group's learning rate (``learning_rate`` is group 0's, as Trainer's;
  ``learning_rate_group_1``, ... the others'), when the groups have different learning rates or when asked
  (``log_group_learning_rates``).

The plain route needs none of this: ``Trainer(optimizers=(optimizer, hf_lr_scheduler))``, where you size the
schedule in optimizer updates yourself. Trainer saves ``scheduler.pt`` and reloads it with
``torch.load(weights_only=True)``; hf_lr's scheduler states are plain values, and a checkpoint made with another
schedule configuration raises :class:`hf_lr.ScheduleMismatchError` on resume instead of silently changing the curve.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

import torch
from transformers import Trainer, TrainingArguments
from transformers.trainer_utils import SchedulerType

import hf_lr
from hf_lr.registry import ScheduleEntry

__all__ = ["HfLrTrainer", "HfLrTrainerMixin", "HfLrTrainingArguments"]

_TRANSFORMERS_NAMES = frozenset(member.value for member in SchedulerType)
#: Transformers < 5.0 spells a warmup ratio ``warmup_ratio`` (its ``warmup_steps`` is a count); 5.0 removed the field.
_HAS_WARMUP_RATIO = "warmup_ratio" in TrainingArguments.__dataclass_fields__


def _check_kwargs(entry: ScheduleEntry, kwargs: dict[str, Any]) -> None:
    try:
        entry.check_parameters(kwargs)
    except TypeError as error:  # at parse time, argparse-style: a ValueError naming the flag
        raise ValueError(f"lr_scheduler_kwargs for lr_scheduler_type={entry.name!r}: {error}") from None


@dataclasses.dataclass
class HfLrTrainingArguments(TrainingArguments):
    """``TrainingArguments`` whose ``lr_scheduler_type`` is any hf_lr schedule name.

    Everything else is Transformers' ``TrainingArguments``. The name and ``lr_scheduler_kwargs`` are checked when the
    arguments are built (``HfArgumentParser`` builds them while parsing), so a typo fails before training with the
    closest names. Metric-driven names (``reduce_lr_on_plateau``, ``reduce_lr_on_plateau_with_warmup``, ``greedy``)
    get Transformers' checks for plateau schedulers (an evaluation strategy is required).

    ``log_group_learning_rates`` chooses whether :class:`HfLrTrainer` logs the learning rate of every parameter group
    (``learning_rate_group_1``, ``learning_rate_group_2``, ...; ``learning_rate`` stays group 0's): ``None`` (default)
    when the groups start from different learning rates or follow different schedules (layer-wise learning rates, a
    separate head lr), not for Trainer's usual two groups (with and without weight decay, one lr); ``True`` whenever
    there is more than one group; ``False`` never.

    Example:
        >>> from hf_lr.integrations.transformers import HfLrTrainingArguments
        >>> args = HfLrTrainingArguments(output_dir="/tmp/out", lr_scheduler_type="noam",
        ...                              lr_scheduler_kwargs={"d_model": 256}, warmup_steps=100, report_to="none")
        >>> args.lr_scheduler_type, args.lr_scheduler_kwargs
        ('noam', {'d_model': 256})
        >>> HfLrTrainingArguments(output_dir="/tmp/out", lr_scheduler_type="cosin", report_to="none")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: unknown schedule name 'cosin'. Did you mean 'cosine', ...
    """

    lr_scheduler_type: str = dataclasses.field(  # type: ignore[assignment]
        default="linear",
        metadata={
            "help": "The learning-rate schedule: any hf_lr name (Transformers' names, noam, torch/timm/DeepSpeed "
            "equivalents, and names you register). `python -m hf_lr list` shows them."
        },
    )

    lr_scheduler_extend: str | None = dataclasses.field(
        default=None,
        metadata={
            "help": "Resume from a checkpoint whose schedule was sized for fewer updates (a larger --max_steps now) by "
            "extending it from the checkpoint's update to this run's size: 'stretch' (same shape, stretched) or "
            "'rewarm' (warm up again, then decay). Without it, a different size raises ScheduleMismatchError.",
            "choices": ["stretch", "rewarm"],
        },
    )
    log_group_learning_rates: bool | None = dataclasses.field(
        default=None,
        metadata={
            "help": "Log every parameter group's learning rate as learning_rate_group_1, ... (learning_rate is group "
            "0's). Default: when the groups have different learning rates or schedules."
        },
    )

    def __post_init__(self) -> None:
        if self.lr_scheduler_extend not in (None, "stretch", "rewarm"):
            raise ValueError(
                f"`lr_scheduler_extend` must be 'stretch', 'rewarm' or None, got {self.lr_scheduler_extend!r}"
            )
        if self.log_group_learning_rates is not None and not isinstance(self.log_group_learning_rates, bool):
            raise TypeError(
                "`log_group_learning_rates` must be True, False or None, got "
                f"{self.log_group_learning_rates!r} ({type(self.log_group_learning_rates).__name__})"
            )
        if _HAS_WARMUP_RATIO and isinstance(self.warmup_steps, float) and 0 < self.warmup_steps < 1:
            # Transformers 5's spelling of a warmup ratio, taken on the releases that spell it `warmup_ratio` (a field
            # only those releases have, hence getattr/setattr for the type checker of either).
            ratio_field = "warmup_ratio"
            if getattr(self, ratio_field):
                raise ValueError(
                    f"give the warmup as `warmup_steps` or as `warmup_ratio`, not both: got warmup_steps="
                    f"{self.warmup_steps} and warmup_ratio={getattr(self, ratio_field)}"
                )
            setattr(self, ratio_field, self.warmup_steps)
            self.warmup_steps = 0
        name = self.lr_scheduler_type.value if isinstance(self.lr_scheduler_type, enum.Enum) else self.lr_scheduler_type
        entry = hf_lr.get_schedule_entry(name)
        # TrainingArguments converts the name to its enum: give it a Transformers name that triggers the same checks.
        stand_in = name if name in _TRANSFORMERS_NAMES else "reduce_lr_on_plateau" if entry.metric_driven else "linear"
        self.lr_scheduler_type = stand_in
        super().__post_init__()
        self.lr_scheduler_type = name
        kwargs = self.lr_scheduler_kwargs
        if isinstance(kwargs, str):
            kwargs = json.loads(kwargs) if kwargs.strip() else {}
        self.lr_scheduler_kwargs = dict(kwargs or {})
        _check_kwargs(entry, self.lr_scheduler_kwargs)


class HfLrTrainerMixin:
    """Put before ``Trainer`` (or your Trainer subclass) in the bases: builds the scheduler with hf_lr.

    Works with :class:`HfLrTrainingArguments` (any hf_lr name) and with plain ``TrainingArguments`` (Transformers'
    names, with hf_lr's numbers, resumable state and checks). A scheduler passed in ``optimizers=(...)`` is kept.
    Closed-form names count real optimizer updates (``clock="updates"``), so the schedule keeps its size whoever steps
    it; ``lr_scheduler_extend`` lets a resumed run with a larger ``max_steps`` extend the checkpoint's schedule.

    Every parameter group's learning rate is logged next to Trainer's ``learning_rate`` (group 0's) as
    ``learning_rate_group_1``, ``learning_rate_group_2``, ...: read at the moment Trainer reads ``learning_rate``, so
    each is the learning rate its group used at the logged update (Transformers before 4.51 reads it after the
    scheduler's step: the next update's, for every group alike). By default only when the groups have different
    learning rates or schedules; see ``HfLrTrainingArguments.log_group_learning_rates``.
    """

    _group_learning_rates: list[float] | None = None
    _logs_groups: bool | None = None
    # Trainer's own attributes, set by Trainer.__init__ / create_scheduler
    lr_scheduler: Any
    _created_lr_scheduler: bool

    def _get_learning_rate(self) -> float:
        # Trainer reads group 0's lr here, after the optimizer update and before the scheduler steps (after both before
        # Transformers 4.51): the other groups are read at the same moment, so every logged value is of one update.
        lr: float = super()._get_learning_rate()  # type: ignore[misc]
        self._group_learning_rates = [float(group["lr"]) for group in self.optimizer.param_groups]  # type: ignore[attr-defined]
        return lr

    def _should_log_groups(self) -> bool:
        if self._logs_groups is None:
            groups = self.optimizer.param_groups  # type: ignore[attr-defined]
            setting = getattr(self.args, "log_group_learning_rates", None)  # type: ignore[attr-defined]
            if len(groups) < 2 or setting is not None:
                self._logs_groups = len(groups) > 1 and bool(setting)
            else:
                starts = {float(group.get("initial_lr", group["lr"])) for group in groups}
                schedules = getattr(self.lr_scheduler, "lr_lambdas", [None])  # type: ignore[attr-defined]
                self._logs_groups = len(starts) > 1 or any(s != schedules[0] for s in schedules)
        return self._logs_groups

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        """Trainer's ``log``, with ``learning_rate_group_{i}`` for groups 1, 2, ... next to ``learning_rate``."""
        if "learning_rate" in logs and self._group_learning_rates is not None and self._should_log_groups():
            for index, lr in enumerate(self._group_learning_rates[1:], start=1):
                logs[f"learning_rate_group_{index}"] = lr
        super().log(logs, *args, **kwargs)  # type: ignore[misc]

    def create_scheduler(self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None) -> Any:
        """Build ``args.lr_scheduler_type`` with hf_lr, sized in the optimizer updates Trainer will make."""
        if self.lr_scheduler is None:  # type: ignore[has-type]
            args = self.args  # type: ignore[attr-defined]
            name = (
                args.lr_scheduler_type.value
                if isinstance(args.lr_scheduler_type, enum.Enum)
                else args.lr_scheduler_type
            )
            closed_form = hf_lr.get_schedule_entry(name).closed_form
            self.lr_scheduler = hf_lr.get_scheduler(
                name,
                optimizer if optimizer is not None else self.optimizer,  # type: ignore[attr-defined]
                num_warmup_steps=args.get_warmup_steps(num_training_steps),
                num_training_steps=num_training_steps,
                scheduler_specific_kwargs=dict(args.lr_scheduler_kwargs or {}),
                clock="updates" if closed_form else "calls",
            )
            extend = getattr(args, "lr_scheduler_extend", None)
            if extend is not None and closed_form:
                self.lr_scheduler.allow_extension(extend)
            self._created_lr_scheduler = True
        return self.lr_scheduler


class HfLrTrainer(HfLrTrainerMixin, Trainer):
    """``transformers.Trainer`` that builds its learning-rate schedule with hf_lr (see :class:`HfLrTrainerMixin`).

    Example:
        >>> from hf_lr.integrations.transformers import HfLrTrainer, HfLrTrainingArguments
        >>> issubclass(HfLrTrainer, __import__("transformers").Trainer)
        True
    """
