"""Schedule names: ``get_scheduler`` with Transformers' signature, ``register_schedule``, ``list_schedules``.

The mechanism only: each :class:`ScheduleEntry` declares what its name needs (whether it uses ``num_warmup_steps`` /
``num_training_steps``, which parameters it takes through ``scheduler_specific_kwargs``), so :func:`get_scheduler` has
no per-name branches and takes Trainer-style arguments for every name. The built-in names are one table in
:mod:`hf_lr.names`; users add theirs with :func:`register_schedule`, and third-party packages through the entry-point
group ``hf_lr.schedules``, loaded the first time a name is not found.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import inspect
import numbers
import warnings
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any, overload

import numpy as np
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from hf_lr._validation import ABSENT, check_optional_int, renamed_argument, short_repr
from hf_lr.scheduler import ScheduleLR
from hf_lr.schedules import FunctionSchedule, Schedule

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
        renamed (`dict[str, str]`): former parameter names and their current ones; the former still work, with a
            ``FutureWarning``.
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
    renamed: Mapping[str, str] = dataclasses.field(default_factory=dict)

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
        unknown = sorted(set(kwargs) - set(self.parameters) - set(self.renamed))
        if unknown and not self.var_keyword:
            raise TypeError(
                f"schedule {self.name!r} got unknown argument(s) {', '.join(map(repr, unknown))} in "
                f"`scheduler_specific_kwargs`; it accepts: {', '.join(self.parameters) or 'none'}"
            )
        given = {self.renamed.get(name, name) for name in kwargs}
        missing = [
            name
            for name, default in self.parameters.items()
            if default is inspect.Parameter.empty and name not in given
        ]
        if missing:
            raise TypeError(
                f"schedule {self.name!r} requires {', '.join(map(repr, missing))} in `scheduler_specific_kwargs` "
                f"(its parameters: {self.signature()})"
            )

    def current_names(self, kwargs: Mapping[str, Any], *, warn: bool = False) -> dict[str, Any]:
        """``kwargs`` with former parameter names replaced by the current ones (see ``renamed``)."""
        out = dict(kwargs)
        for old, new in self.renamed.items():
            value = renamed_argument(
                out, old, new, out.get(new, ABSENT), ABSENT, f"schedule {self.name!r}", warn=warn, stacklevel=5
            )
            if value is not ABSENT:
                out[new] = value
        return out

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
        kwargs = self.current_names(kwargs, warn=True)
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


def closed_form_entry(
    name: str,
    build: Callable[..., Schedule],
    description: str,
    *,
    warmup: str = REQUIRED,
    training: str = REQUIRED,
    per_group: tuple[str, ...] = (),
    renamed: Mapping[str, str] | None = None,
) -> ScheduleEntry:
    """The entry of a closed-form name: ``build(**kwargs)`` returns its :class:`Schedule`.

    The name's own parameters are ``build``'s, read from its signature (or from its ``parameters()`` method, for a
    builder object), less the step counts and what a schedule fills in itself when bound to a group.
    """
    if hasattr(build, "parameters"):
        parameters, var_keyword = dict(build.parameters()), False
    else:
        parameters, var_keyword, _ = _parameters(build, skip=0, exclude=BOUND_FIELDS)
    for arg in STEP_ARGUMENTS:
        parameters.pop(arg, None)
    return ScheduleEntry(
        name,
        description,
        build_schedule=build,
        warmup=warmup,
        training=training,
        parameters=parameters,
        var_keyword=var_keyword,
        per_group=frozenset(per_group),
        renamed=dict(renamed or {}),
    )


def metric_entry(
    name: str,
    factory: Callable[..., LRScheduler | ReduceLROnPlateau],
    description: str,
    *,
    parameters: Mapping[str, Any],
    warmup: str = UNUSED,
    renamed: Mapping[str, str] | None = None,
) -> ScheduleEntry:
    """The entry of a metric-driven name: ``factory(optimizer, **kwargs)`` returns a scheduler stepped with a metric;
    ``parameters`` are the ones it takes through ``scheduler_specific_kwargs``, with their defaults."""
    return ScheduleEntry(
        name,
        description,
        factory=factory,
        warmup=warmup,
        training=UNUSED,
        parameters=dict(parameters),
        metric_driven=True,
        renamed=dict(renamed or {}),
    )


def register_builtin(entries: tuple[ScheduleEntry, ...]) -> None:
    """Add the built-in names (``hf_lr.names`` calls this once, at import)."""
    for entry in entries:
        _add(entry, overwrite=False)


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
            "scheduler_specific_kwargs": {
                k: _plain_value(v) for k, v in entry.current_names(scheduler_specific_kwargs or {}).items()
            },
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
    accepted: frozenset[str] = getattr(entry.factory, "accepted", frozenset())
    for key, value in requested.items():
        if key not in accepted:
            raise ValueError(f"schedule {entry.name!r} does not support `{key}` (got {key}={value})")
        kwargs[key] = value
    return entry.factory(optimizer, **kwargs)
