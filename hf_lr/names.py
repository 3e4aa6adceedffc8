"""The built-in schedule names: one table, read by :mod:`hf_lr.registry`.

Each row is a name, what it builds, and one line for ``list_schedules``/the CLI. A closed-form row builds a
:class:`~hf_lr.schedules.Schedule` from the name's arguments; where those differ from the schedule's own (Transformers'
step counts for torch's, timm's or DeepSpeed's lengths), the translator sits beside the schedule it builds, in that
schedule's module. torch-style schedules, which have no warmup of their own, are wrapped in :class:`WithWarmup`, so
that every name takes Trainer-style arguments (``num_warmup_steps``, ``num_training_steps``). Metric-driven rows build
a scheduler stepped with a metric.

Example:
    >>> from hf_lr.names import BUILTIN_ENTRIES
    >>> [entry.name for entry in BUILTIN_ENTRIES][:3]
    ['linear', 'cosine', 'cosine_with_restarts']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch.optim.lr_scheduler import ReduceLROnPlateau

from hf_lr._validation import user_names
from hf_lr.adaptive import GreedyLR, get_greedy_schedule, get_warmup_reduce_on_plateau_schedule
from hf_lr.compose import Warmup, _warmup_hold_decay
from hf_lr.epochs import in_epochs
from hf_lr.equivalents import (
    ConstantFactor,
    CosineAnnealing,
    CosineAnnealingWarmRestarts,
    Cyclic,
    ExponentialDecay,
    LinearFactor,
    MultiStepDecay,
    Polynomial,
    StepDecay,
    _deepspeed,
    _deepspeed_no_decay,
    _one_cycle,
    _timm_cosine,
    _tri_stage,
)
from hf_lr.expression import _lambda
from hf_lr.factories import get_reduce_on_plateau_schedule
from hf_lr.registry import (
    BOUND_FIELDS,
    OPTIONAL,
    REQUIRED,
    UNUSED,
    ScheduleEntry,
    _parameters,
    closed_form_entry,
    metric_entry,
    register_builtin,
)
from hf_lr.schedules import (
    Constant,
    ConstantWithWarmup,
    CosineWarmupWithMinLR,
    CosineWithHardRestarts,
    CosineWithMinLR,
    CosineWithWarmup,
    InverseSqrt,
    LinearWithWarmup,
    Noam,
    PolynomialDecay,
    Schedule,
    WarmupStableDecay,
)

__all__ = ["BUILTIN_ENTRIES", "WithWarmup"]


class WithWarmup:
    """Builds a schedule that has no warmup of its own, preceded by an optional generic :class:`Warmup`.

    The schedule runs on its own clock after warmup. ``length`` names its length parameter, which defaults to what
    ``num_training_steps`` leaves after warmup. A schedule whose lengths the original library counts in epochs (its
    class declares ``epoch_fields``) also takes ``steps_per_epoch`` and ``staircase`` (see :class:`hf_lr.epochs.Epochs`);
    its epoch clock starts after warmup, which stays counted in updates.
    """

    def __init__(
        self, build: Callable[..., Schedule], length: str | None = None, instead: tuple[str, ...] = ()
    ) -> None:
        self.build = build
        self.length = length
        self.instead = instead  # parameters that give the length another way (one_cycle's epochs)

    def parameters(self) -> dict[str, Any]:
        parameters, _, _ = _parameters(self.build, skip=0, exclude=BOUND_FIELDS)
        if self.length is not None:
            parameters[self.length] = None
        if self._counts_epochs():
            parameters.update(steps_per_epoch=None, staircase=False)
        return {**parameters, "warmup_type": "linear", "warmup_start_factor": 0.0}

    def _counts_epochs(self) -> bool:
        return bool(getattr(self.build, "epoch_fields", ()))

    def __call__(
        self,
        num_warmup_steps: int | None = None,
        num_training_steps: int | None = None,
        warmup_type: str = "linear",
        warmup_start_factor: float = 0.0,
        **kwargs: Any,
    ) -> Schedule:
        warmup_steps = num_warmup_steps or 0
        epochs = {
            key: kwargs.pop(key) for key in ("steps_per_epoch", "staircase") if key in kwargs and self._counts_epochs()
        }
        derived: dict[str, str] = {}
        if self.length is not None and kwargs.get(self.length) is None and not any(k in kwargs for k in self.instead):
            if epochs.get("steps_per_epoch") is not None:
                raise ValueError(
                    f"with `steps_per_epoch`, give `{self.length}` in epochs in scheduler_specific_kwargs "
                    f"(`num_training_steps` counts updates), got {self.length}=None"
                )
            if num_training_steps is None:
                raise ValueError(
                    f"this schedule needs `{self.length}` in scheduler_specific_kwargs or `num_training_steps`"
                )
            kwargs[self.length] = num_training_steps - warmup_steps
            derived[self.length] = "num_training_steps - num_warmup_steps" if warmup_steps else "num_training_steps"
            if kwargs[self.length] < 1:
                raise ValueError(
                    f"`num_training_steps` must exceed `num_warmup_steps`, got num_training_steps={num_training_steps}, "
                    f"num_warmup_steps={warmup_steps}"
                )
        with user_names(**derived):
            schedule = in_epochs(self.build(**kwargs), **epochs)
        with user_names(start_factor="warmup_start_factor"):
            warmed = Warmup(schedule, warmup_steps, warmup_type=warmup_type, start_factor=warmup_start_factor)
        if warmed.num_warmup_steps or warmed.warmup_type != "linear" or warmed.start_factor:
            return warmed
        return schedule  # no warmup: the bare schedule (its configuration as before)


def _torch_style(
    name: str,
    build: Callable[..., Schedule],
    description: str,
    length: str | None = None,
    instead: tuple[str, ...] = (),
    per_group: tuple[str, ...] = (),
) -> ScheduleEntry:
    """A torch-style schedule behind an optional warmup; ``length`` (its length parameter) defaults to the updates
    left after warmup."""
    return closed_form_entry(
        name,
        WithWarmup(build, length, instead),
        description,
        warmup=OPTIONAL,
        training=OPTIONAL if length else UNUSED,
        per_group=per_group,
        renamed={"warmup_kind": "warmup_type"},
    )


_PLATEAU: dict[str, Any] = _parameters(ReduceLROnPlateau.__init__, skip=2)[0]

#: Every built-in name, grouped by family. W is ``num_warmup_steps``, T
#: ``num_training_steps``; a name's own parameters go in ``scheduler_specific_kwargs``.
BUILTIN_ENTRIES: tuple[ScheduleEntry, ...] = (
    # Transformers' names, with Transformers' numbers
    closed_form_entry("linear", LinearWithWarmup, "step/W during warmup, then linear decay to 0 at T"),
    closed_form_entry("cosine", CosineWithWarmup, "step/W during warmup, then 0.5*(1+cos(2*pi*num_cycles*progress))"),
    closed_form_entry(
        "cosine_with_restarts",
        CosineWithHardRestarts,
        "step/W during warmup, then num_cycles half-cosines to 0, each restarting at 1",
    ),
    closed_form_entry(
        "polynomial",
        PolynomialDecay,
        "step/W during warmup, then (lr-lr_end)*(1-progress)**power+lr_end (absolute lr_end)",
    ),
    closed_form_entry("constant", Constant, "1 (the optimizer's learning rate)", warmup=UNUSED, training=UNUSED),
    closed_form_entry("constant_with_warmup", ConstantWithWarmup, "step/W during warmup, then 1", training=UNUSED),
    closed_form_entry(
        "inverse_sqrt",
        InverseSqrt,
        "step/W during warmup, then 1/sqrt((step+timescale-W)/timescale)",
        training=UNUSED,
    ),
    closed_form_entry(
        "cosine_with_min_lr",
        CosineWithMinLR,
        "step/W during warmup, then a cosine from 1 to min_lr (absolute) or min_lr_rate (ratio)",
    ),
    closed_form_entry(
        "cosine_warmup_with_min_lr",
        CosineWarmupWithMinLR,
        "(step+1)/W or from warmup_lr_rate during warmup, then a cosine to the floor reached at step T-1",
    ),
    closed_form_entry(
        "warmup_stable_decay",
        WarmupStableDecay.from_lengths,
        "warmup (linear/cosine/1-sqrt), hold 1, decay to min_lr_ratio (linear/cosine/1-sqrt)",
        training=OPTIONAL,
    ),
    metric_entry(
        "reduce_lr_on_plateau",
        get_reduce_on_plateau_schedule,
        "torch's ReduceLROnPlateau: reduce by `factor` when a metric stops improving (call step(metric))",
        parameters=_PLATEAU,
    ),
    metric_entry(
        "greedy",
        get_greedy_schedule,
        "GreedyLR: divide by `factor` after `patience` improvements of a metric, multiply after stalls (step(metric))",
        parameters=_parameters(GreedyLR.__init__, skip=2)[0],
    ),
    # hf_lr's own
    closed_form_entry(
        "noam",
        Noam,
        "factor*d_model**-0.5*min(s**-0.5, s*W**-1.5), s=step+1; mode absolute|peak|scale",
        training=UNUSED,
    ),
    closed_form_entry(
        "lambda",
        _lambda,
        "your own multiplier: a function lr_lambda(step), or a safe expression string of step and params",
        warmup=OPTIONAL,
        training=OPTIONAL,
        per_group=("lr_lambda",),
    ),
    closed_form_entry(
        "warmup_hold_decay",
        _warmup_hold_decay,
        "NeMo-style warmup, hold for hold_steps, then decay (cosine/linear/polynomial/...) to min_lr_ratio at T",
        renamed={"decay": "decay_type", "warmup_kind": "warmup_type"},
    ),
    metric_entry(
        "reduce_lr_on_plateau_with_warmup",
        get_warmup_reduce_on_plateau_schedule,
        "warmup over the first optimizer updates (it hooks optimizer.step), then ReduceLROnPlateau (step(metric))",
        warmup=REQUIRED,
        parameters={**_PLATEAU, "warmup_type": "linear", "warmup_start_factor": 0.0},
        renamed={"warmup_kind": "warmup_type"},
    ),
    # torch's schedulers, closed form, behind an optional warmup
    _torch_style("exponential", ExponentialDecay, "torch ExponentialLR: gamma**step"),
    _torch_style("step", StepDecay, "torch StepLR: gamma**(step // step_size)"),
    _torch_style("multistep", MultiStepDecay, "torch MultiStepLR: gamma**(milestones passed)"),
    _torch_style(
        "cosine_annealing",
        CosineAnnealing,
        "torch CosineAnnealingLR: eta_min + (lr-eta_min)(1+cos(pi*step/T_max))/2",
        "T_max",
    ),
    _torch_style(
        "cosine_annealing_warm_restarts",
        CosineAnnealingWarmRestarts,
        "torch CosineAnnealingWarmRestarts: cosine annealing restarted every T_0*T_mult**i updates",
    ),
    _torch_style(
        "one_cycle",
        _one_cycle,
        "torch OneCycleLR: max_lr/div_factor up to max_lr, then far down (cos or linear)",
        "total_steps",
        instead=("epochs", "steps_per_epoch"),
        per_group=("max_lr",),
    ),
    _torch_style(
        "cyclic",
        Cyclic,
        "torch CyclicLR: triangles between base_lr and max_lr (triangular, triangular2, exp_range)",
        per_group=("base_lr", "max_lr"),
    ),
    _torch_style("polynomial_lr", Polynomial, "torch PolynomialLR: (1 - min(step, total_iters)/total_iters)**power"),
    _torch_style("linear_lr", LinearFactor, "torch LinearLR: start_factor to end_factor over total_iters"),
    _torch_style("constant_lr", ConstantFactor, "torch ConstantLR: factor for total_iters updates, then 1"),
    # timm, fairseq, DeepSpeed
    closed_form_entry(
        "timm_cosine",
        _timm_cosine,
        "timm CosineLRScheduler: warmup from warmup_lr_init, cosine cycles (cycle_mul, cycle_decay, cycle_limit, k_decay)",
        warmup=OPTIONAL,
        training=OPTIONAL,
    ),
    closed_form_entry(
        "tri_stage",
        _tri_stage,
        "fairseq tri-stage: warmup from init_lr_scale, hold, exponential decay to final_lr_scale",
        training=OPTIONAL,
    ),
    closed_form_entry(
        "deepspeed_warmup",
        _deepspeed_no_decay,
        "DeepSpeed WarmupLR: log (or linear) warmup from warmup_min_lr, then constant",
        training=UNUSED,
    ),
    closed_form_entry(
        "deepspeed_warmup_decay",
        _deepspeed,
        "DeepSpeed WarmupDecayLR: log (or linear) warmup from warmup_min_lr, then linear decay back to it at T",
    ),
)

register_builtin(BUILTIN_ENTRIES)
