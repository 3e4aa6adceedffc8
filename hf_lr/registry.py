"""Schedule names: ``get_scheduler`` with Transformers' signature, ``register_schedule``, ``list_schedules``.

Each entry declares what it needs (whether it uses ``num_warmup_steps`` / ``num_training_steps``, which parameters it
takes through ``scheduler_specific_kwargs``); :func:`get_scheduler` has no per-name branches. Third-party packages add
names through the entry-point group ``hf_lr.schedules``, loaded the first time a name is not found.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import enum
import inspect
import numbers
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from typing import Any, overload

import numpy as np
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from hf_lr._validation import MAX_INT, check_bool, check_float, check_int, check_optional_int, short_repr
from hf_lr.adaptive import GreedyLR, get_greedy_schedule, get_warmup_reduce_on_plateau_schedule
from hf_lr.compose import Decay, Join, Warmup
from hf_lr.epochs import in_epochs
from hf_lr.equivalents import (
    ConstantFactor,
    CosineAnnealing,
    CosineAnnealingWarmRestarts,
    Cyclic,
    DeepSpeedWarmup,
    ExponentialDecay,
    LinearFactor,
    MultiStepDecay,
    OneCycle,
    Polynomial,
    StepDecay,
    TimmCosine,
    TriStage,
)
from hf_lr.expression import Expression
from hf_lr.factories import get_reduce_on_plateau_schedule
from hf_lr.scheduler import ScheduleLR
from hf_lr.schedules import (
    Constant,
    ConstantWithWarmup,
    CosineWarmupWithMinLR,
    CosineWithHardRestarts,
    CosineWithMinLR,
    CosineWithWarmup,
    FunctionSchedule,
    InverseSqrt,
    LambdaSchedule,
    LinearWithWarmup,
    Noam,
    PolynomialDecay,
    Schedule,
    WarmupStableDecay,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "OPTIONAL",
    "REQUIRED",
    "UNUSED",
    "ScheduleEntry",
    "build_schedule",
    "get_schedule_entry",
    "get_scheduler",
    "list_schedules",
    "register_schedule",
]

ENTRY_POINT_GROUP = "hf_lr.schedules"
STEP_ARGUMENTS = ("num_warmup_steps", "num_training_steps")
RESUME_ARGUMENTS = ("last_epoch", "completed_steps")
# Parameters that a schedule class fills in itself when bound to a group's learning rate.
BOUND_FIELDS = frozenset({"lr_init", "group_lr"})

#: How an entry uses ``num_warmup_steps`` / ``num_training_steps`` (``ScheduleEntry.warmup`` and ``.training``).
REQUIRED, OPTIONAL, UNUSED = "required", "optional", "unused"


@dataclasses.dataclass(frozen=True)
class ScheduleEntry:
    """What a registered name builds and what it needs.

    Attributes:
        name (`str`): the registered name.
        description (`str`): one line (formula or behaviour).
        build_schedule (`Callable[..., Schedule]`, *optional*): builds the closed-form schedule (closed-form names).
        factory (`Callable[..., LRScheduler]`, *optional*): builds the scheduler (names that are not closed form).
        warmup (`str`): whether ``num_warmup_steps`` is ``"required"``, ``"optional"`` or ``"unused"``.
        training (`str`): the same for ``num_training_steps``.
        parameters (`dict[str, Any]`): the ``scheduler_specific_kwargs`` it takes, with defaults
            (``inspect.Parameter.empty`` when required).
        var_keyword (`bool`): whether it takes any further keyword.
        source (`str`): ``"builtin"``, ``"user"`` or the entry point's ``"module:attr"``.
        metric_driven (`bool`): whether it builds a ``ReduceLROnPlateau``-like scheduler stepped with a metric.
        per_group (`frozenset[str]`): the parameters that also take a list with one value per parameter group (as
            torch's do); :func:`get_scheduler` then builds one schedule per group.
    """

    name: str
    description: str
    build_schedule: Callable[..., Schedule] | None = None
    factory: Callable[..., LRScheduler | ReduceLROnPlateau] | None = None
    warmup: str = OPTIONAL
    training: str = OPTIONAL
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    var_keyword: bool = False
    source: str = "builtin"
    metric_driven: bool = False
    per_group: frozenset[str] = frozenset()

    @property
    def closed_form(self) -> bool:
        """Whether the name is a pure function of the step (usable with curves, resumable in O(1))."""
        return self.build_schedule is not None

    def signature(self) -> str:
        """The parameters as text, e.g. ``"num_warmup_steps, num_training_steps, num_cycles=0.5"``."""
        parts = [arg if usage == REQUIRED else f"{arg}=None" for arg, usage in self._step_usage() if usage != UNUSED]
        for name, default in self.parameters.items():
            parts.append(name if default is inspect.Parameter.empty else f"{name}={default!r}")
        if self.var_keyword:
            parts.append("**kwargs")
        return ", ".join(parts)

    def check_parameters(self, kwargs: Mapping[str, Any]) -> None:
        """Raise ``TypeError`` for an argument the name does not take, or a required one that is missing."""
        unknown = sorted(set(kwargs) - set(self.parameters))
        if unknown and not self.var_keyword:
            raise TypeError(
                f"schedule {self.name!r} got unknown argument(s) {', '.join(map(repr, unknown))} in "
                f"`scheduler_specific_kwargs`; it accepts: {', '.join(self.parameters) or 'none'}"
            )
        missing = [
            name
            for name, default in self.parameters.items()
            if default is inspect.Parameter.empty and name not in kwargs
        ]
        if missing:
            raise TypeError(
                f"schedule {self.name!r} requires {', '.join(map(repr, missing))} in `scheduler_specific_kwargs` "
                f"(its parameters: {self.signature()})"
            )

    def _step_usage(self) -> tuple[tuple[str, str], ...]:
        return (("num_warmup_steps", self.warmup), ("num_training_steps", self.training))

    def _arguments(
        self, num_warmup_steps: int | None, num_training_steps: int | None, kwargs: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Validate and assemble the keyword arguments of the builder or factory.

        The step counts are checked (and numpy or tensor integers made plain ``int``) before any arithmetic, also
        where the name ignores them.
        """
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise TypeError(
                f"`scheduler_specific_kwargs` must be a dict, got {short_repr(kwargs)} ({type(kwargs).__name__})"
            )
        kwargs = dict(kwargs or {})
        for key in kwargs:
            if not isinstance(key, str):
                raise TypeError(f"`scheduler_specific_kwargs` keys must be strings, got {key!r}")
            if key in STEP_ARGUMENTS or key in RESUME_ARGUMENTS:
                raise TypeError(
                    f"schedule {self.name!r}: pass `{key}` as get_scheduler's own argument, not in "
                    "`scheduler_specific_kwargs`"
                )
        self.check_parameters(kwargs)
        values = {"num_warmup_steps": num_warmup_steps, "num_training_steps": num_training_steps}
        values = {arg: check_optional_int(arg, value) for arg, value in values.items()}
        for arg, usage in self._step_usage():
            value = values[arg]
            if value is None:
                if usage == REQUIRED:
                    raise ValueError(f"schedule {self.name!r} requires `{arg}`, please provide that argument")
            elif usage == UNUSED:
                if arg == "num_warmup_steps" and value:
                    warnings.warn(
                        f"schedule {self.name!r} has no warmup: num_warmup_steps={value} is ignored",
                        UserWarning,
                        stacklevel=3,
                    )
            else:
                kwargs[arg] = value
        return kwargs


_REGISTRY: dict[str, ScheduleEntry] = {}
_ENTRY_POINTS_LOADED: set[str] = set()


def _parameters(
    fn: Callable[..., Any], skip: int, exclude: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], bool, dict[str, str]]:
    """Split ``fn``'s signature into its own parameters, whether it takes ``**kwargs``, and step-count usage."""
    signature = inspect.signature(fn)
    own: dict[str, Any] = {}
    usage = {"num_warmup_steps": UNUSED, "num_training_steps": UNUSED}
    var_keyword = False
    for index, parameter in enumerate(signature.parameters.values()):
        if index < skip and parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            continue
        if parameter.kind is parameter.VAR_KEYWORD:
            var_keyword = True
        elif parameter.kind is parameter.VAR_POSITIONAL:
            continue
        elif parameter.name in usage:
            usage[parameter.name] = REQUIRED if parameter.default is parameter.empty else OPTIONAL
        elif parameter.name not in RESUME_ARGUMENTS and parameter.name not in exclude:
            own[parameter.name] = parameter.default
    return own, var_keyword, usage


def _add(entry: ScheduleEntry, overwrite: bool) -> ScheduleEntry:
    if not isinstance(entry.name, str) or not entry.name:
        raise TypeError(f"a schedule name must be a non-empty string, got {entry.name!r}")
    if entry.name in _REGISTRY and not overwrite:
        raise ValueError(
            f"schedule name {entry.name!r} is already registered (by {_REGISTRY[entry.name].source}); pass "
            "overwrite=True to replace it"
        )
    _REGISTRY[entry.name] = entry
    return entry


def _builtin(
    name: str, description: str, build: Callable[..., Schedule], per_group: tuple[str, ...] = (), **usage: str
) -> None:
    parameters, var_keyword, _ = _parameters(build, skip=0, exclude=BOUND_FIELDS)
    for arg in STEP_ARGUMENTS:
        parameters.pop(arg, None)
    _add(
        ScheduleEntry(
            name,
            description,
            build_schedule=build,
            warmup=usage.get("warmup", REQUIRED),
            training=usage.get("training", REQUIRED),
            parameters=parameters,
            var_keyword=var_keyword,
            per_group=frozenset(per_group),
        ),
        overwrite=False,
    )


def _constant() -> Schedule:
    return Constant()


def _noam(num_warmup_steps: int, d_model: int | None = None, factor: float = 1.0, mode: str = "absolute") -> Schedule:
    return Noam(num_warmup_steps, d_model=d_model, factor=factor, mode=mode)


def _lambda(
    lr_lambda: Callable[[int], float] | str,
    params: dict[str, float] | None = None,
    vectorized: bool = False,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
) -> Schedule:
    vectorized = check_bool("vectorized", vectorized)
    if params is not None and not isinstance(params, Mapping):
        raise TypeError(
            f"`params` must be a dict of names to numbers, got {short_repr(params)} ({type(params).__name__})"
        )
    if isinstance(lr_lambda, str):  # a safe expression: fits JSON and the command line, pickles, resumes
        names = dict(params or {})
        for key, value in (("num_warmup_steps", num_warmup_steps), ("num_training_steps", num_training_steps)):
            if value is not None and key in lr_lambda:
                names[key] = value
        try:
            return Expression(lr_lambda, names)  # always vectorized
        except (TypeError, ValueError) as error:
            raise type(error)(f"`lr_lambda`: {error}") from None
    if params:
        raise TypeError("`params` go with an expression string in `lr_lambda`, not with a function")
    if num_warmup_steps:
        warnings.warn(
            f"schedule 'lambda' with a function has no warmup: num_warmup_steps={num_warmup_steps} is ignored "
            "(use it inside an expression, or write it into your function)",
            UserWarning,
            stacklevel=4,
        )
    return LambdaSchedule(lr_lambda, vectorized=vectorized)


_builtin("linear", "step/W during warmup, then linear decay to 0 at T", LinearWithWarmup)
_builtin("cosine", "step/W during warmup, then 0.5*(1+cos(2*pi*num_cycles*progress))", CosineWithWarmup)
_builtin(
    "cosine_with_restarts",
    "step/W during warmup, then num_cycles half-cosines to 0, each restarting at 1",
    CosineWithHardRestarts,
)
_builtin(
    "polynomial", "step/W during warmup, then (lr-lr_end)*(1-progress)**power+lr_end (absolute lr_end)", PolynomialDecay
)
_builtin("constant", "1 (the optimizer's learning rate)", _constant, warmup=UNUSED, training=UNUSED)
_builtin("constant_with_warmup", "step/W during warmup, then 1", ConstantWithWarmup, training=UNUSED)
_builtin(
    "inverse_sqrt", "step/W during warmup, then 1/sqrt((step+timescale-W)/timescale)", InverseSqrt, training=UNUSED
)
_builtin(
    "cosine_with_min_lr",
    "step/W during warmup, then a cosine from 1 to min_lr (absolute) or min_lr_rate (ratio)",
    CosineWithMinLR,
)
_builtin(
    "cosine_warmup_with_min_lr",
    "(step+1)/W or from warmup_lr_rate during warmup, then a cosine to the floor reached at step T-1",
    CosineWarmupWithMinLR,
)
_builtin(
    "warmup_stable_decay",
    "warmup (linear/cosine/1-sqrt), hold 1, decay to min_lr_ratio (linear/cosine/1-sqrt)",
    WarmupStableDecay.from_lengths,
    training=OPTIONAL,
)
_builtin(
    "noam",
    "factor*d_model**-0.5*min(s**-0.5, s*W**-1.5), s=step+1; mode absolute|peak|scale",
    _noam,
    training=UNUSED,
)
_builtin(
    "lambda",
    "your own multiplier: a function lr_lambda(step), or a safe expression string of step and params",
    _lambda,
    per_group=("lr_lambda",),
    warmup=OPTIONAL,
    training=OPTIONAL,
)


@contextlib.contextmanager
def _user_names(**names: str) -> Iterator[None]:
    """Re-raise a builder's ``TypeError``/``ValueError`` naming the arguments the user passed, not the internal ones.

    ``names`` maps an internal parameter name (``Warmup``'s ``kind``) to what the user passed (``warmup_kind``), or to
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


class _WithWarmup:
    """Builds a schedule that has no warmup of its own, preceded by an optional generic :class:`Warmup`.

    The schedule runs on its own clock after warmup. ``length`` names its length parameter, which defaults to what
    ``num_training_steps`` leaves after warmup. A schedule whose lengths the original library counts in epochs (its
    class declares ``epoch_fields``) also takes ``steps_per_epoch`` and ``staircase`` (see :class:`hf_lr.Epochs`);
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
        return {**parameters, "warmup_kind": "linear", "warmup_start_factor": 0.0}

    def _counts_epochs(self) -> bool:
        return bool(getattr(self.build, "epoch_fields", ()))

    def __call__(
        self,
        num_warmup_steps: int | None = None,
        num_training_steps: int | None = None,
        warmup_kind: str = "linear",
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
        with _user_names(**derived):
            schedule = in_epochs(self.build(**kwargs), **epochs)
        with _user_names(kind="warmup_kind", start_factor="warmup_start_factor"):
            warmed = Warmup(schedule, warmup_steps, kind=warmup_kind, start_factor=warmup_start_factor)
        if warmed.num_warmup_steps or warmed.kind != "linear" or warmed.start_factor:
            return warmed
        return schedule  # no warmup: the bare schedule (its configuration as before)


def _with_warmup(
    name: str,
    description: str,
    build: Callable[..., Schedule],
    length: str | None = None,
    instead: tuple[str, ...] = (),
    per_group: tuple[str, ...] = (),
) -> None:
    builder = _WithWarmup(build, length, instead)
    _add(
        ScheduleEntry(
            name,
            description,
            build_schedule=builder,
            warmup=OPTIONAL,
            training=OPTIONAL if length else UNUSED,
            parameters=builder.parameters(),
            per_group=frozenset(per_group),
        ),
        overwrite=False,
    )


def _one_cycle(
    total_steps: int | None = None,
    max_lr: float | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    names: dict[str, str] = {}
    if epochs is not None or steps_per_epoch is not None:
        if epochs is None or steps_per_epoch is None or total_steps is not None:
            raise ValueError(
                "one_cycle takes `total_steps` or both `epochs` and `steps_per_epoch`, as torch's OneCycleLR"
            )
        # Checked before multiplying: a list times a large int would allocate it (JSON can send either).
        epochs, steps_per_epoch = (
            check_int("epochs", epochs, minimum=1),
            check_int("steps_per_epoch", steps_per_epoch, minimum=1),
        )
        if epochs * steps_per_epoch > MAX_INT:
            raise ValueError(
                f"`epochs * steps_per_epoch` must be <= {MAX_INT} (2**53), got epochs={epochs}, steps_per_epoch={steps_per_epoch}"
            )
        total_steps, names["total_steps"] = epochs * steps_per_epoch, "epochs * steps_per_epoch"
    if total_steps is None:
        raise ValueError("one_cycle needs `total_steps` (or `num_training_steps`, or `epochs` and `steps_per_epoch`)")
    with _user_names(**names):
        return OneCycle(total_steps, max_lr, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase)


def _timm_cosine(
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    t_initial: int | None = None,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    k_decay: float = 1.0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    steps_per_epoch: int | None = None,
    staircase: bool = False,
) -> Schedule:
    warmup_t = num_warmup_steps or 0
    names = {"warmup_t": "num_warmup_steps"}
    if steps_per_epoch is not None:  # timm's t_in_epochs: t_initial and warmup_t count epochs
        steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, minimum=1)
        if t_initial is None:
            raise ValueError(
                "timm_cosine with `steps_per_epoch` needs `t_initial` in epochs in scheduler_specific_kwargs "
                "(`num_training_steps` counts updates), got t_initial=None"
            )
        if warmup_t % steps_per_epoch:
            raise ValueError(
                "timm_cosine with `steps_per_epoch` warms up over whole epochs (timm's warmup_t): `num_warmup_steps` "
                f"must be a multiple of steps_per_epoch={steps_per_epoch}, got num_warmup_steps={warmup_t}"
            )
        warmup_t //= steps_per_epoch
    if t_initial is None:
        if num_training_steps is None:
            raise ValueError("timm_cosine needs `t_initial` or `num_training_steps`")
        prefix = check_bool("warmup_prefix", warmup_prefix)
        t_initial = num_training_steps - warmup_t if prefix else num_training_steps
        names["t_initial"] = "num_training_steps - num_warmup_steps" if prefix and warmup_t else "num_training_steps"
    with _user_names(**names):
        schedule = TimmCosine(
            t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, k_decay, warmup_t, warmup_lr_init, warmup_prefix
        )
    return in_epochs(schedule, steps_per_epoch, staircase)


def _tri_stage(
    num_warmup_steps: int,
    num_training_steps: int | None = None,
    hold_steps: int | None = None,
    decay_steps: int | None = None,
    phase_ratio: list[float] | None = None,
    init_lr_scale: float = 0.01,
    final_lr_scale: float = 0.01,
) -> Schedule:
    hold_steps, decay_steps = (
        check_optional_int("hold_steps", hold_steps),
        check_optional_int("decay_steps", decay_steps),
    )
    if phase_ratio is not None:
        if not isinstance(phase_ratio, (list, tuple)):
            raise TypeError(f"`phase_ratio` must be a list of three fractions, got {short_repr(phase_ratio)}")
        ratios = [check_float(f"phase_ratio[{i}]", r, minimum=0.0, maximum=1.0) for i, r in enumerate(phase_ratio)]
        if num_training_steps is None or len(ratios) != 3 or abs(sum(ratios) - 1.0) > 1e-9:
            raise ValueError(
                f"`phase_ratio` needs `num_training_steps` and three fractions summing to 1, got phase_ratio={ratios}"
            )
        num_warmup_steps, hold_steps, decay_steps = (int(num_training_steps * r) for r in ratios)
    hold_steps = 0 if hold_steps is None else hold_steps
    if decay_steps is None:
        if num_training_steps is None:
            raise ValueError("tri_stage needs `decay_steps`, `phase_ratio`, or `num_training_steps`")
        decay_steps = num_training_steps - num_warmup_steps - hold_steps
        if decay_steps < 0:
            raise ValueError(
                f"`num_warmup_steps + hold_steps` must be <= `num_training_steps`, got {num_warmup_steps} + {hold_steps} "
                f"> {num_training_steps}"
            )
    with _user_names(warmup_steps="num_warmup_steps"):
        return TriStage(num_warmup_steps, hold_steps, decay_steps, init_lr_scale, final_lr_scale)


def _warmup_hold_decay(
    num_warmup_steps: int,
    num_training_steps: int,
    hold_steps: int = 0,
    decay: str = "cosine",
    power: float = 1.0,
    min_lr_ratio: float = 0.0,
    warmup_kind: str = "linear",
) -> Schedule:
    decay_steps = num_training_steps - num_warmup_steps - check_int("hold_steps", hold_steps)
    if decay_steps < 1:
        raise ValueError(
            "`num_warmup_steps + hold_steps` must be < `num_training_steps`, got "
            f"num_warmup_steps={num_warmup_steps}, hold_steps={hold_steps}, num_training_steps={num_training_steps}"
        )
    with _user_names(shape="decay", end="min_lr_ratio", kind="warmup_kind"):
        tail: Schedule = Decay(decay_steps, decay, end=min_lr_ratio, power=power)
        if hold_steps:
            tail = Join((Constant(), tail), (hold_steps,))
        return Warmup(tail, num_warmup_steps, kind=warmup_kind)


def _deepspeed(
    num_warmup_steps: int, warmup_min_lr: float = 0.0, warmup_type: str = "log", num_training_steps: int | None = None
) -> Schedule:
    with _user_names(warmup_num_steps="num_warmup_steps", total_num_steps="num_training_steps"):
        return DeepSpeedWarmup(num_warmup_steps, warmup_min_lr, warmup_type, num_training_steps)


def _deepspeed_no_decay(num_warmup_steps: int, warmup_min_lr: float = 0.0, warmup_type: str = "log") -> Schedule:
    return _deepspeed(num_warmup_steps, warmup_min_lr, warmup_type)


_with_warmup("exponential", "torch ExponentialLR: gamma**step", ExponentialDecay)
_with_warmup("step", "torch StepLR: gamma**(step // step_size)", StepDecay)
_with_warmup("multistep", "torch MultiStepLR: gamma**(milestones passed)", MultiStepDecay)
_with_warmup(
    "cosine_annealing",
    "torch CosineAnnealingLR: eta_min + (lr-eta_min)(1+cos(pi*step/T_max))/2",
    CosineAnnealing,
    "T_max",
)
_with_warmup(
    "cosine_annealing_warm_restarts",
    "torch CosineAnnealingWarmRestarts: cosine annealing restarted every T_0*T_mult**i updates",
    CosineAnnealingWarmRestarts,
)
_with_warmup(
    "one_cycle",
    "torch OneCycleLR: max_lr/div_factor up to max_lr, then far down (cos or linear)",
    _one_cycle,
    "total_steps",
    instead=("epochs", "steps_per_epoch"),
    per_group=("max_lr",),
)
_with_warmup(
    "cyclic",
    "torch CyclicLR: triangles between base_lr and max_lr (triangular, triangular2, exp_range)",
    Cyclic,
    per_group=("base_lr", "max_lr"),
)
_with_warmup("polynomial_lr", "torch PolynomialLR: (1 - min(step, total_iters)/total_iters)**power", Polynomial)
_with_warmup("linear_lr", "torch LinearLR: start_factor to end_factor over total_iters", LinearFactor)
_with_warmup("constant_lr", "torch ConstantLR: factor for total_iters updates, then 1", ConstantFactor)
_builtin(
    "timm_cosine",
    "timm CosineLRScheduler: warmup from warmup_lr_init, cosine cycles (cycle_mul, cycle_decay, cycle_limit, k_decay)",
    _timm_cosine,
    warmup=OPTIONAL,
    training=OPTIONAL,
)
_builtin(
    "tri_stage",
    "fairseq tri-stage: warmup from init_lr_scale, hold, exponential decay to final_lr_scale",
    _tri_stage,
    training=OPTIONAL,
)
_builtin(
    "warmup_hold_decay",
    "NeMo-style warmup, hold for hold_steps, then decay (cosine/linear/polynomial/...) to min_lr_ratio at T",
    _warmup_hold_decay,
)
_builtin(
    "deepspeed_warmup",
    "DeepSpeed WarmupLR: log (or linear) warmup from warmup_min_lr, then constant",
    _deepspeed_no_decay,
    training=UNUSED,
)
_builtin(
    "deepspeed_warmup_decay",
    "DeepSpeed WarmupDecayLR: log (or linear) warmup from warmup_min_lr, then linear decay back to it at T",
    _deepspeed,
)

_plateau_parameters, _, _ = _parameters(ReduceLROnPlateau.__init__, skip=2)
_add(
    ScheduleEntry(
        "reduce_lr_on_plateau",
        "torch's ReduceLROnPlateau: reduce by `factor` when a metric stops improving (call step(metric))",
        factory=get_reduce_on_plateau_schedule,
        warmup=UNUSED,
        training=UNUSED,
        parameters=_plateau_parameters,
        metric_driven=True,
    ),
    overwrite=False,
)
_add(
    ScheduleEntry(
        "reduce_lr_on_plateau_with_warmup",
        "warmup over the first optimizer updates (it hooks optimizer.step), then ReduceLROnPlateau (step(metric))",
        factory=get_warmup_reduce_on_plateau_schedule,
        warmup=REQUIRED,
        training=UNUSED,
        parameters={**_plateau_parameters, "warmup_kind": "linear", "warmup_start_factor": 0.0},
        metric_driven=True,
    ),
    overwrite=False,
)
_add(
    ScheduleEntry(
        "greedy",
        "GreedyLR: divide by `factor` after `patience` improvements of a metric, multiply after stalls (step(metric))",
        factory=get_greedy_schedule,
        warmup=UNUSED,
        training=UNUSED,
        parameters=_parameters(GreedyLR.__init__, skip=2)[0],
        metric_driven=True,
    ),
    overwrite=False,
)


class _FactoryWithSteps:
    """Calls a user factory with only the resume arguments it declares."""

    def __init__(self, factory: Callable[..., LRScheduler], accepted: frozenset[str]) -> None:
        self.factory = factory
        self.accepted = accepted

    def __call__(self, optimizer: Optimizer, **kwargs: Any) -> LRScheduler:
        return self.factory(optimizer, **kwargs)


class _FunctionBuilder:
    """Builds the :class:`FunctionSchedule` of a registered multiplier function (picklable when ``fn`` is)."""

    def __init__(self, name: str, fn: Callable[..., float]) -> None:
        self.name = name
        self.fn = fn

    def __call__(self, **kwargs: Any) -> Schedule:
        # Plain numbers: the configuration (with these values) goes into the state, which torch.load must read back.
        return FunctionSchedule(self.name, self.fn, {key: _plain_numbers(value) for key, value in kwargs.items()})


class _CheckedBuilder:
    """Calls a user's schedule builder and checks that it returns a :class:`Schedule`."""

    def __init__(self, name: str, build: Callable[..., Schedule]) -> None:
        self.name = name
        self.build = build

    def __call__(self, **kwargs: Any) -> Schedule:
        schedule = self.build(**kwargs)
        if not isinstance(schedule, Schedule):
            raise TypeError(f"the builder of schedule {self.name!r} must return a hf_lr Schedule, got {schedule!r}")
        return schedule


def _is_factory(fn: Callable[..., Any]) -> bool:
    parameters = list(inspect.signature(fn).parameters.values())
    return bool(parameters) and parameters[0].name == "optimizer"


KINDS = ("auto", "multiplier", "factory", "schedule")


def _make_entry(
    name: str, fn: Callable[..., Any], description: str | None, source: str, kind: str = "auto"
) -> ScheduleEntry:
    if isinstance(fn, ScheduleEntry):
        return dataclasses.replace(fn, name=name, source=source)
    if not callable(fn):
        raise TypeError(f"register_schedule({name!r}, ...) needs a function, got {fn!r}")
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(map(repr, KINDS))}; got kind={kind!r}")
    doc = description or (inspect.getdoc(fn) or "").split("\n")[0] or "user-registered schedule"
    build: Callable[..., Schedule] | None = None
    factory: Callable[..., LRScheduler] | None = None
    if kind == "schedule":
        build = _CheckedBuilder(name, fn)
    elif kind == "factory" or (kind == "auto" and _is_factory(fn)):
        accepted = frozenset(p for p in inspect.signature(fn).parameters if p in RESUME_ARGUMENTS)
        factory = _FactoryWithSteps(fn, accepted)
    else:
        build = _FunctionBuilder(name, fn)
    parameters, var_keyword, usage = _parameters(fn, skip=0 if kind == "schedule" else 1)
    if isinstance(build, _FunctionBuilder) and var_keyword:  # a multiplier taking **params gets the step counts too
        usage = {arg: OPTIONAL if value == UNUSED else value for arg, value in usage.items()}
    return ScheduleEntry(
        name,
        doc,
        build_schedule=build,
        factory=factory,
        warmup=usage["num_warmup_steps"],
        training=usage["num_training_steps"],
        parameters=parameters,
        var_keyword=var_keyword,
        source=source,
    )


@overload
def register_schedule(
    name: str, fn: None = None, *, description: str | None = None, overwrite: bool = False, kind: str = "auto"
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


@overload
def register_schedule(
    name: str, fn: Callable[..., Any], *, description: str | None = None, overwrite: bool = False, kind: str = "auto"
) -> Callable[..., Any]: ...


def register_schedule(
    name: str,
    fn: Callable[..., Any] | None = None,
    *,
    description: str | None = None,
    overwrite: bool = False,
    kind: str = "auto",
) -> Any:
    """Register a schedule name for :func:`get_scheduler`, as a decorator or a call.

    ``fn`` is either a multiplier function ``f(step, *, num_warmup_steps, num_training_steps, **params) -> float``
    (it may leave out the arguments it does not use; its parameters arrive through ``scheduler_specific_kwargs``),
    or a full factory ``f(optimizer, ...) -> LRScheduler`` (recognised by its first parameter being named
    ``optimizer``), or, with ``kind="schedule"``, a builder ``f(num_warmup_steps, num_training_steps, **params) ->
    Schedule`` that returns a closed-form schedule (a composite of :func:`~hf_lr.warmup`, :func:`~hf_lr.join`, ...),
    which keeps its vectorized form and nested configuration. A multiplier function gets everything hf_lr schedules
    have: resumption, a state that records its parameters, per-group learning rates. Use module-level functions so
    that schedulers stay picklable.

    Args:
        name (`str`):
            The new name.
        fn (`Callable`, *optional*):
            The function; leave it out to use ``register_schedule`` as a decorator.
        description (`str`, *optional*):
            One line for :func:`list_schedules` and the CLI (defaults to the first line of the docstring).
        overwrite (`bool`, *optional*, defaults to `False`):
            Replace an existing name instead of raising ``ValueError``.
        kind (`str`, *optional*, defaults to `"auto"`):
            ``"multiplier"``, ``"factory"``, ``"schedule"`` (a builder returning a Schedule), or ``"auto"``: a factory
            if the first parameter is named ``optimizer``, else a multiplier.

    Example:
        >>> import torch
        >>> from hf_lr import get_scheduler, register_schedule
        >>> @register_schedule("halving_example", overwrite=True)
        ... def halving(step, *, num_warmup_steps, period=10):
        ...     "Linear warmup, then halve every `period` updates."
        ...     if step < num_warmup_steps:
        ...         return step / num_warmup_steps
        ...     return 0.5 ** ((step - num_warmup_steps) // period)
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> scheduler = get_scheduler("halving_example", optimizer, num_warmup_steps=2,
        ...                           scheduler_specific_kwargs={"period": 3})
        >>> lrs = []
        >>> for _ in range(8):
        ...     lrs.append(scheduler.get_last_lr()[0])
        ...     optimizer.step()
        ...     scheduler.step()
        >>> lrs
        [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    """

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        _add(_make_entry(name, function, description, "user", kind), overwrite)
        return function

    if fn is None:
        if not isinstance(name, str):
            raise TypeError(f"register_schedule needs a name first, got {name!r}; use @register_schedule('my_name')")
        return decorate
    return decorate(fn)


def _load_entry_points(only: str | None = None) -> None:
    """Register names from the ``hf_lr.schedules`` entry-point group (each at most once)."""
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in _ENTRY_POINTS_LOADED or (only is not None and entry_point.name != only):
            continue
        _ENTRY_POINTS_LOADED.add(entry_point.name)
        if entry_point.name in _REGISTRY:
            warnings.warn(
                f"entry point {entry_point.value!r} of group {ENTRY_POINT_GROUP!r} would redefine the schedule "
                f"{entry_point.name!r}; it is ignored",
                UserWarning,
                stacklevel=3,
            )
            continue
        try:
            loaded = entry_point.load()
        except Exception as error:
            raise ImportError(
                f"could not load schedule {entry_point.name!r} from entry point {entry_point.value!r} "
                f"({ENTRY_POINT_GROUP}): {error}"
            ) from error
        _add(_make_entry(entry_point.name, loaded, None, entry_point.value), overwrite=False)


def _plain_numbers(value: Any) -> Any:
    """Numpy scalars, arrays and tensors (also inside lists and dicts) as Python numbers and lists; the rest as is."""
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        return value.tolist()  # a 0-dim array, a one-element tensor or a numpy scalar gives a Python scalar
    if isinstance(value, (list, tuple)):
        items = [_plain_numbers(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    return value


def _plain_value(value: Any) -> Any:
    """A value as ``torch.load(weights_only=True)`` reads it: callables by qualified name, tuples as lists, numpy
    scalars, arrays and tensors as Python numbers and lists."""
    value = _plain_numbers(value)
    if isinstance(value, (list, tuple)):
        return [_plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain_value(v) for k, v in value.items()}
    if value is None or type(value) in (int, float, str, bool):
        return value
    if callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', type(value).__qualname__)}"
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return short_repr(value)


def _name_of(name: Any) -> str:
    if isinstance(name, enum.Enum):  # transformers.SchedulerType and similar string enums
        name = name.value
    if not isinstance(name, str):
        raise TypeError(
            f"`name` must be a schedule name (str) or a SchedulerType, got {name!r} ({type(name).__name__})"
        )
    return name


def get_schedule_entry(name: str | enum.Enum) -> ScheduleEntry:
    """The :class:`ScheduleEntry` of a name; unknown names raise ``ValueError`` with close matches.

    Example:
        >>> from hf_lr import get_schedule_entry
        >>> get_schedule_entry("cosine").signature()
        'num_warmup_steps, num_training_steps, num_cycles=0.5, hold_end=False, warmup_start_factor=0.0'
    """
    key = _name_of(name)
    if key not in _REGISTRY:
        _load_entry_points(only=key)
    if key not in _REGISTRY:
        known = list_schedules()
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown schedule name {key!r}.{hint} Known names: {', '.join(known)}")
    return _REGISTRY[key]


def list_schedules() -> list[str]:
    """All registered names, sorted (built-in, user-registered and entry-point names).

    Example:
        >>> from hf_lr import list_schedules
        >>> {"linear", "cosine", "noam"} <= set(list_schedules())
        True
    """
    _load_entry_points()
    return sorted(_REGISTRY)


def build_schedule(
    name: str | enum.Enum,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    **schedule_kwargs: Any,
) -> Schedule:
    """The closed-form :class:`Schedule` of a name, without an optimizer (for curves and plots).

    Example:
        >>> from hf_lr import build_schedule
        >>> build_schedule("linear", num_warmup_steps=0, num_training_steps=4).values(range(5)).tolist()
        [1.0, 0.75, 0.5, 0.25, 0.0]
    """
    entry = get_schedule_entry(name)
    if entry.build_schedule is None:
        raise ValueError(f"schedule {entry.name!r} is not a closed-form function of the step, it has no curve")
    kwargs = entry._arguments(num_warmup_steps, num_training_steps, schedule_kwargs)
    lists = sorted(key for key in entry.per_group if isinstance(kwargs.get(key), (list, tuple)))
    if lists:
        raise TypeError(
            f"schedule {entry.name!r}: a list of per-group values for {', '.join(map(repr, lists))} needs the optimizer's "
            "parameter groups; use get_scheduler, or build the schedule of one group with its own value"
        )
    return entry.build_schedule(**kwargs)


def _build_per_group(entry: ScheduleEntry, kwargs: dict[str, Any], optimizer: Optimizer) -> Schedule | list[Schedule]:
    """One schedule, or one per parameter group where a ``per_group`` parameter is a list (torch's convention)."""
    lists = {key: kwargs[key] for key in sorted(entry.per_group) if isinstance(kwargs.get(key), (list, tuple))}
    assert entry.build_schedule is not None
    if not lists:
        return entry.build_schedule(**kwargs)
    count = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else None
    for key, values in lists.items():
        if count is not None and len(values) != count:
            raise ValueError(
                f"schedule {entry.name!r}: `{key}` must have one value per parameter group: expected {count}, got "
                f"{len(values)} ({list(values)!r})"
            )
    schedules = []
    for index in range(count or 0):
        try:
            schedules.append(
                entry.build_schedule(**{**kwargs, **{key: values[index] for key, values in lists.items()}})
            )
        except (TypeError, ValueError) as error:
            raise type(error)(f"schedule {entry.name!r}, parameter group {index}: {error}") from None
    return schedules


def get_scheduler(
    name: str | enum.Enum,
    optimizer: Optimizer,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
    *,
    last_epoch: int = -1,
    completed_steps: int | None = None,
    clock: str = "calls",
) -> LRScheduler | ReduceLROnPlateau:
    """Any registered schedule by name, with Transformers' ``get_scheduler`` signature.

    Accepts every Transformers name (and ``transformers.SchedulerType`` members), ``noam``, ``lambda``,
    user-registered names and entry-point names. Closed-form names return a :class:`~hf_lr.ScheduleLR`.

    Args:
        name (`str` or `SchedulerType`):
            The schedule name (see :func:`list_schedules`).
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rate is scheduled.
        num_warmup_steps (`int`, *optional*):
            The number of warmup updates, for names that use it (an error if a name requires it and it is missing).
        num_training_steps (`int`, *optional*):
            The total number of updates, for names that use it.
        scheduler_specific_kwargs (`dict`, *optional*):
            The name's own parameters (``num_cycles``, ``lr_end``, ``d_model``, ...); unknown keys raise ``TypeError``.
        last_epoch (`int`, *optional*, defaults to -1):
            torch's index of the last update when resuming.
        completed_steps (`int`, *optional*):
            The number of updates already done, instead of `last_epoch`.
        clock (`str`, *optional*, defaults to `"calls"`):
            What a step of the schedule is: ``"calls"`` (torch's: each ``scheduler.step()``) or ``"updates"`` (each
            real optimizer update, counted by an optimizer step hook: extra ``step()`` calls are no-ops and skipped
            updates do not count, so the schedule is sized in optimizer updates whoever steps it — Accelerate's
            default ``prepare()`` on any number of processes, per-micro-batch stepping, ``GradScaler`` skips).

    Example:
        >>> import torch
        >>> from hf_lr import get_scheduler
        >>> optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
        >>> scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=10, num_training_steps=100)
        >>> type(scheduler).__name__, scheduler.get_last_lr()
        ('ScheduleLR', [0.0])
    """
    entry = get_schedule_entry(name)
    kwargs = entry._arguments(num_warmup_steps, num_training_steps, scheduler_specific_kwargs)
    if entry.build_schedule is not None:
        schedule = _build_per_group(entry, kwargs, optimizer)
        scheduler = ScheduleLR(optimizer, schedule, last_epoch, completed_steps=completed_steps, clock=clock)
        scheduler.source = {  # plain values only: the state must load with torch.load(weights_only=True)
            "name": entry.name,
            "num_warmup_steps": check_optional_int("num_warmup_steps", num_warmup_steps),
            "num_training_steps": check_optional_int("num_training_steps", num_training_steps),
            "scheduler_specific_kwargs": {k: _plain_value(v) for k, v in (scheduler_specific_kwargs or {}).items()},
        }
        return scheduler
    assert entry.factory is not None
    if clock != "calls":
        raise ValueError(
            f"schedule {entry.name!r} is stepped with a metric, not by update count: `clock` does not apply, got "
            f"clock={clock!r}"
        )
    resume = {"last_epoch": last_epoch, "completed_steps": completed_steps}
    requested = {key: value for key, value in resume.items() if value not in (None, -1)}
    accepted = getattr(entry.factory, "accepted", frozenset())
    for key, value in requested.items():
        if key not in accepted:
            raise ValueError(f"schedule {entry.name!r} does not support `{key}` (got {key}={value})")
        kwargs[key] = value
    return entry.factory(optimizer, **kwargs)
