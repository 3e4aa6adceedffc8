"""Any hf_lr schedule in ``transformers.Trainer``, by name, from Python and from the command line.

Transformers' ``TrainingArguments.lr_scheduler_type`` accepts only its closed ``SchedulerType`` enum. This module
adds, without patching Transformers:

- :class:`HfLrTrainingArguments`: ``lr_scheduler_type`` is any hf_lr name (built-in, ``noam``, ``lambda``,
  user-registered, entry points), checked when the arguments are built — so ``HfArgumentParser`` fails at parse time,
  with close matches — and ``lr_scheduler_kwargs`` (a dict, or JSON on the command line) is checked against the
  schedule's parameters then too;
- :class:`HfLrTrainerMixin` / :class:`HfLrTrainer`: ``create_scheduler`` builds the schedule with
  :func:`hf_lr.get_scheduler` from the number of optimizer updates Trainer computes (world size, accumulation and
  epochs included) and the warmup Trainer derives from ``warmup_steps`` (a count, or a ratio below 1).

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

    def __post_init__(self) -> None:
        if self.lr_scheduler_extend not in (None, "stretch", "rewarm"):
            raise ValueError(
                f"`lr_scheduler_extend` must be 'stretch', 'rewarm' or None, got {self.lr_scheduler_extend!r}"
            )
        name = self.lr_scheduler_type.value if isinstance(self.lr_scheduler_type, enum.Enum) else self.lr_scheduler_type
        entry = hf_lr.get_schedule_entry(name)
        # TrainingArguments converts the name to its enum: give it a Transformers name that triggers the same checks.
        if name in _TRANSFORMERS_NAMES:
            stand_in = name
        else:
            stand_in = "reduce_lr_on_plateau" if entry.metric_driven else "linear"
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
    """

    def create_scheduler(self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None) -> Any:
        """Build ``args.lr_scheduler_type`` with hf_lr, sized in the optimizer updates Trainer will make."""
        if self.lr_scheduler is None:  # type: ignore[has-type]
            args = self.args  # type: ignore[attr-defined]
            name = args.lr_scheduler_type.value if isinstance(args.lr_scheduler_type, enum.Enum) else args.lr_scheduler_type
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
