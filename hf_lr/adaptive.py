"""Metric-driven schedulers (not closed form): ``greedy``, ``reduce_lr_on_plateau`` and its warmup variant.

They subclass torch's ``ReduceLROnPlateau`` so that ``transformers.Trainer`` and other loops that check for plateau
schedulers step them with the evaluation metric. Their arguments are checked at construction, and a state is checked
before any of it is loaded, as closed-form schedulers' states are:

- a state saved by another kind of scheduler (its hf_lr record names another type) is refused;
- a key the scheduler does not save (another scheduler's, e.g. GreedyLR's ``num_good_epochs`` in a plateau state)
  raises :class:`~hf_lr.ScheduleMismatchError` (``strict=False``: a warning, and the key is ignored);
- a saved configuration that differs from the live one raises :class:`~hf_lr.ScheduleMismatchError`
  (``strict=False``: a warning, and the live configuration is kept);
- every value read is checked (type, sign, finiteness, one value per parameter group); a key the state lacks keeps
  the live value, as Transformers' ``GreedyLR`` does for its partial states.
"""

from __future__ import annotations

import collections
import math
import numbers
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import ReduceLROnPlateau

from hf_lr._forms import Scalar
from hf_lr._validation import check_base_lr, check_bool, check_choice, check_float, check_int, renamed_argument
from hf_lr.compose import WARMUP_KINDS, _ramp
from hf_lr.scheduler import STATE_FORMAT, ScheduleMismatchError, _CountsUpdates

__all__ = ["CheckedReduceLROnPlateau", "GreedyLR", "WarmupReduceLROnPlateau", "get_greedy_schedule"]

# The key of hf_lr's record in a state (as in ScheduleLR's states, whose record has no "type").
STATE_RECORD = "hf_lr"

Namer = Callable[[str], str]


def _saved(key: str) -> str:
    """How errors name a value read from a state: by the key it was saved under."""
    return f"state_dict[{key!r}]"


def _check_optimizer(optimizer: Any) -> list[float]:
    """The optimizer's learning rates, each finite and >= 0."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"`optimizer` must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    return [check_base_lr(group["lr"], where=f"param_groups[{i}]") for i, group in enumerate(optimizer.param_groups)]


def _per_group(name: str, value: Any, count: int) -> list[float]:
    """One finite value >= 0 per parameter group; a single value is repeated."""
    if not isinstance(value, (list, tuple)):
        return [check_float(name, value, minimum=0.0)] * count
    if len(value) != count:
        raise ValueError(f"`{name}` must have one value per parameter group: expected {count}, got {len(value)}")
    return [check_float(f"{name}[{i}]", v, minimum=0.0) for i, v in enumerate(value)]


# Checks of a state's progress values, each (name, value, number of parameter groups) -> the value to restore.
def _count(name: str, value: Any, groups: int) -> int:
    return check_int(name, value)


def _cuts_left(name: str, value: Any, groups: int) -> int:
    return check_int(name, value, minimum=1)


def _best(name: str, value: Any, groups: int) -> float:
    # +-inf is a fresh start (or an infinite metric torch was given); NaN never becomes the best, so it is corruption.
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"`{name}` must be a number (+-inf before any metric), got {value!r}")
    return float(value)


def _group_lrs(name: str, value: Any, groups: int) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != groups:
        raise ValueError(f"`{name}` must be a list of {groups} learning rates (one per parameter group), got {value!r}")
    return [check_base_lr(lr, where=f"{name}[{i}]") for i, lr in enumerate(value)]


def _write_lr(group: dict[str, Any], lr: float) -> None:
    if isinstance(group["lr"], Tensor):
        group["lr"].fill_(lr)  # in place: a compiled optimizer holds this tensor
    else:
        group["lr"] = lr


class _CheckedLoading:
    """``load_state_dict`` shared by the metric-driven schedulers (the checks of the module docstring).

    A subclass names its state type, its configuration keys (``_validated_config`` checks them, for the constructor's
    arguments and for a saved state alike, so the two cannot drift), its progress keys with their checks, and the
    other keys it reads (``_read_more``).
    """

    _state_type: ClassVar[str]
    _CONFIG: ClassVar[tuple[str, ...]]
    _PROGRESS: ClassVar[dict[str, Callable[[str, Any, int], Any]]]
    _MORE: ClassVar[tuple[str, ...]] = ()
    # Keys without which a state is not this scheduler's (partial states otherwise load, as in Transformers).
    _REQUIRED: ClassVar[tuple[str, ...]] = ()
    # A constructor argument's name where its state key differs (errors name what the user passed).
    _ARGUMENT_NAMES: ClassVar[dict[str, str]] = {}
    # Saved, but nothing to restore: `verbose` (GreedyLR's, older torch's plateau's) is a printing preference, and the
    # live scheduler's holds.
    _IGNORED: ClassVar[frozenset[str]] = frozenset({"verbose"})
    # A key's former name -> its name, for states saved before a rename.
    _RENAMED_KEYS: ClassVar[dict[str, str]] = {}
    optimizer: Optimizer
    _last_lr: list[Any]  # floats read from the groups (torch declares list[float | Tensor])

    def _argument(self, key: str) -> str:
        return self._ARGUMENT_NAMES.get(key, key)

    def _validated_config(self, values: Mapping[str, Any], name: Namer) -> dict[str, Any]:
        raise NotImplementedError

    def _read_more(self, state: Mapping[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
        """Check the keys of ``_MORE`` that `state` has; `saved` is the configuration the state was made with."""
        return {}

    def _record(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, "type": self._state_type}

    def _read(self, state_dict: Any, strict: bool) -> dict[str, Any]:
        """Check a state against this scheduler; return the attributes to restore (nothing is changed here)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"`state_dict` must be a dict, got {type(state_dict).__name__}")
        state_dict = {self._RENAMED_KEYS.get(key, key): value for key, value in state_dict.items()}
        kind = self._state_type
        record = state_dict.get(STATE_RECORD)
        if record is not None:
            saved_type = record.get("type", "ScheduleLR") if isinstance(record, Mapping) else repr(record)
            if saved_type != kind:
                raise ScheduleMismatchError(
                    f"this state was saved by a {saved_type}, not by a {kind}; it cannot be loaded into one"
                )
        missing = [key for key in self._REQUIRED if key not in state_dict]
        if missing:
            raise ScheduleMismatchError(
                f"not a {kind} state: missing {', '.join(missing)} (keys: {sorted(state_dict)})"
            )
        live = {key: getattr(self, key) for key in self._CONFIG}
        unknown = sorted(set(state_dict) - {*live, *self._PROGRESS, *self._MORE, *self._IGNORED, STATE_RECORD})
        if unknown:
            message = f"a {kind} state has no key {', '.join(map(repr, unknown))}: is this another scheduler's state?"
            if strict:
                raise ScheduleMismatchError(f"{message} Load with strict=False to ignore these keys.")
            warnings.warn(f"{message} These keys are ignored.", UserWarning, stacklevel=3)
        saved = self._validated_config({**live, **{key: state_dict[key] for key in live if key in state_dict}}, _saved)
        differences = [f"{key}: saved {saved[key]!r}, live {live[key]!r}" for key in live if saved[key] != live[key]]
        if differences:
            message = (
                f"the saved state was made with a different {kind} configuration than this scheduler's; resuming would "
                "silently change how the learning rate follows the metric. Differences:\n  " + "\n  ".join(differences)
            )
            if strict:
                raise ScheduleMismatchError(
                    f"{message}\nBuild the scheduler with the saved configuration, "
                    "or load with strict=False to keep the live one."
                )
            warnings.warn(f"{message}\nThe live configuration is kept.", UserWarning, stacklevel=3)
        groups = len(self.optimizer.param_groups)
        progress = {
            key: check(_saved(key), state_dict[key], groups)
            for key, check in self._PROGRESS.items()
            if key in state_dict
        }
        progress.update(self._read_more(state_dict, saved))
        return progress

    def _restore_lrs(self, saved_lrs: bool) -> None:
        if saved_lrs:
            for group, lr in zip(self.optimizer.param_groups, self._last_lr):
                _write_lr(group, lr)

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> None:
        """Restore a state saved by :meth:`state_dict` (or by the library this scheduler mirrors), and the learning
        rates it had.

        Everything is checked before anything changes; a key the state lacks keeps the live value. See the module
        :mod:`hf_lr.adaptive` for what is refused.

        Args:
            state_dict (`dict`):
                The saved state.
            strict (`bool`, *optional*, defaults to `True`):
                Raise :class:`~hf_lr.ScheduleMismatchError` when the saved configuration differs from the live one or
                the state has keys this scheduler does not save; with `False`, warn, keep the live configuration and
                ignore those keys.
        """
        self.__dict__.update(self._read(state_dict, strict))
        self._restore_lrs("_last_lr" in state_dict)


_PLATEAU_PROGRESS: dict[str, Callable[[str, Any, int], Any]] = {
    "last_epoch": _count,
    "best": _best,
    "num_bad_epochs": _count,
    "cooldown_counter": _count,
    "_last_lr": _group_lrs,
}


class GreedyLR(_CheckedLoading, ReduceLROnPlateau):
    """Raise the learning rate while a metric keeps improving, lower it when it stalls (Transformers' ``greedy``).

    After more than `patience` consecutive improvements every group's lr is divided by `factor` (capped at `max_lr`),
    after more than `patience` consecutive non-improvements it is multiplied by `factor` (floored at `min_lr`); a
    `warmup` (after a raise) or `cooldown` (after a cut) of that many steps ignores the metric. When every group has
    sat at `min_lr` for `reset_start` cuts, the learning rates and the tracking state return to their start. With
    `smooth`, the metric is first averaged over the last `window_size` values. Same arguments, defaults and
    learning rates as ``transformers.GreedyLR`` ("GreedyLR: A Novel Adaptive Learning Rate Scheduler",
    arXiv:2512.14527); tensor learning rates are updated in place.

    ``state_dict`` is Transformers' ``GreedyLR`` state (plain values) plus hf_lr's record, so a run moves between the
    two libraries either way: :meth:`load_state_dict` takes Transformers' states, full or partial (a key the state
    lacks keeps the live value, as in Transformers), smoothing window included, and Transformers' ``GreedyLR`` takes
    hf_lr's. Unlike Transformers, a saved configuration that differs from the live one raises
    :class:`~hf_lr.ScheduleMismatchError` (``strict=False``: a warning, the live one is kept), and a saved `verbose` is
    ignored (the live one holds).

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rates are adjusted.
        mode (`str`, *optional*, defaults to `"min"`):
            ``"min"``: lower metric is better; ``"max"``: higher is better.
        factor (`float`, *optional*, defaults to 0.95):
            The multiplier of a cut (and divisor of a raise), in (0, 1).
        patience (`int`, *optional*, defaults to 10):
            The number of consecutive (non-)improvements tolerated before acting.
        threshold (`float`, *optional*, defaults to 1e-6):
            The margin that counts as an improvement.
        threshold_mode (`str`, *optional*, defaults to `"abs"`):
            ``"abs"`` (margin in metric units) or ``"rel"`` (relative margin).
        cooldown (`int`, *optional*, defaults to 0):
            Steps ignored after a cut.
        warmup (`int`, *optional*, defaults to 0):
            Steps ignored after a raise.
        min_lr (`float` or `list[float]`, *optional*, defaults to 1e-3):
            The floor, for all groups or per group.
        max_lr (`float` or `list[float]`, *optional*, defaults to 1.0):
            The cap, for all groups or per group.
        eps (`float`, *optional*, defaults to 1e-8):
            Changes smaller than this are not applied.
        verbose (`bool`, *optional*, defaults to `False`):
            Print each change.
        smooth (`bool`, *optional*, defaults to `False`):
            Average the metric over a sliding window first.
        window_size (`int`, *optional*, defaults to 50):
            The window of the average.
        reset_start (`int`, *optional*, defaults to 500):
            Cuts at the floor before a reset.

    Example:
        >>> import torch
        >>> from hf_lr import GreedyLR
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> scheduler = GreedyLR(optimizer, patience=1, factor=0.5)
        >>> for loss in [3.0, 2.0, 1.0, 1.0, 1.0]:
        ...     scheduler.step(loss)
        >>> [round(lr, 4) for lr in scheduler.get_last_lr()]
        [0.1]
    """

    _state_type = "GreedyLR"
    _CONFIG = (
        "mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "warmup", "min_lrs", "max_lrs", "eps",
        "smooth", "window_size", "reset_start_original",
    )  # fmt: skip
    _PROGRESS = {
        **_PLATEAU_PROGRESS,
        "num_good_epochs": _count,
        "warmup_counter": _count,
        "reset_start": _cuts_left,
        "_init_lrs": _group_lrs,
    }
    # Transformers' smoothing window, and the one hf_lr saved before it wrote Transformers' (window, window_sum).
    _MORE = ("_streaming_avg", "window", "window_sum")
    _ARGUMENT_NAMES = {"min_lrs": "min_lr", "max_lrs": "max_lr", "reset_start_original": "reset_start"}

    mode: str
    factor: float
    patience: int
    threshold: float
    threshold_mode: str
    cooldown: int
    warmup: int
    min_lrs: list[float]
    max_lrs: list[float]
    eps: float
    smooth: bool
    window_size: int
    reset_start_original: int

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.95,
        patience: int = 10,
        threshold: float = 1e-6,
        threshold_mode: str = "abs",
        cooldown: int = 0,
        warmup: int = 0,
        min_lr: float | list[float] = 1e-3,
        max_lr: float | list[float] = 1.0,
        eps: float = 1e-8,
        verbose: bool = False,
        smooth: bool = False,
        window_size: int = 50,
        reset_start: int = 500,
    ) -> None:
        self._init_lrs = _check_optimizer(optimizer)
        self.optimizer = optimizer
        arguments = {
            "mode": mode, "factor": factor, "patience": patience, "threshold": threshold, "threshold_mode": threshold_mode,
            "cooldown": cooldown, "warmup": warmup, "min_lrs": min_lr, "max_lrs": max_lr, "eps": eps, "smooth": smooth,
            "window_size": window_size, "reset_start_original": reset_start,
        }  # fmt: skip
        self.__dict__.update(self._validated_config(arguments, self._argument))
        self.verbose = check_bool("verbose", verbose)
        self.last_epoch = 0
        self._last_lr = list(self._init_lrs)
        self._reset()

    def _validated_config(self, values: Mapping[str, Any], name: Namer) -> dict[str, Any]:
        groups = len(self.optimizer.param_groups)
        config: dict[str, Any] = {
            "mode": check_choice(name("mode"), values["mode"], ("min", "max")),
            "factor": check_float(
                name("factor"),
                values["factor"],
                minimum=0.0,
                maximum=1.0,
                exclusive_minimum=True,
                exclusive_maximum=True,
            ),
            "patience": check_int(name("patience"), values["patience"]),
            "threshold": check_float(name("threshold"), values["threshold"], minimum=0.0),
            "threshold_mode": check_choice(name("threshold_mode"), values["threshold_mode"], ("rel", "abs")),
            "cooldown": check_int(name("cooldown"), values["cooldown"]),
            "warmup": check_int(name("warmup"), values["warmup"]),
            "min_lrs": _per_group(name("min_lrs"), values["min_lrs"], groups),
            "max_lrs": _per_group(name("max_lrs"), values["max_lrs"], groups),
            "eps": check_float(name("eps"), values["eps"], minimum=0.0),
            "smooth": check_bool(name("smooth"), values["smooth"]),
            "window_size": check_int(name("window_size"), values["window_size"], minimum=1),
            "reset_start_original": check_int(name("reset_start_original"), values["reset_start_original"], minimum=1),
        }
        for index, (low, high) in enumerate(zip(config["min_lrs"], config["max_lrs"])):
            if low > high:
                low_name, high_name = name("min_lrs"), name("max_lrs")
                raise ValueError(
                    f"`{low_name}` must be <= `{high_name}`, got {low_name}={low}, {high_name}={high} for param_groups[{index}]"
                )
        return config

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.num_good_epochs = 0
        self.cooldown_counter = 0
        self.warmup_counter = 0
        self.reset_start = self.reset_start_original
        self._window: collections.deque[float] = collections.deque()
        self._window_sum = 0.0

    def _smoothed(self, value: float) -> float:
        # A running sum (add the new value, subtract the one leaving the window), as Transformers computes it.
        self._window.append(value)
        self._window_sum += value
        if len(self._window) > self.window_size:
            self._window_sum -= self._window.popleft()
        return self._window_sum / len(self._window)

    def _improves(self, current: float) -> bool:
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            return sign * current < sign * self.best * (1.0 - sign * self.threshold)
        return sign * current < sign * self.best - self.threshold

    def _set_lr(self, index: int, lr: float, verb: str) -> None:
        _write_lr(self.optimizer.param_groups[index], lr)
        if self.verbose:
            print(f"Epoch {self.last_epoch}: {verb} learning rate of group {index} to {lr:.4e}.")

    def step(self, metrics: float, epoch: int | None = None) -> None:  # type: ignore[override]
        """Take one metric value (e.g. the evaluation loss) and adjust the learning rates."""
        current = float(metrics)
        if not math.isfinite(current):
            raise ValueError(f"GreedyLR.step needs a finite metric, got metrics={current}")
        if self.smooth:
            current = self._smoothed(current)
        self.last_epoch = self.last_epoch + 1 if epoch is None else check_int("epoch", epoch)
        if self.cooldown_counter > 0 or self.warmup_counter > 0:
            if self.cooldown_counter > 0:
                self.cooldown_counter -= 1
            else:
                self.warmup_counter -= 1
            self.num_bad_epochs = self.num_good_epochs = 0
        else:
            if self._improves(current):
                self.best = current
                self.num_bad_epochs, self.num_good_epochs = 0, self.num_good_epochs + 1
            else:
                self.num_bad_epochs, self.num_good_epochs = self.num_bad_epochs + 1, 0
            if self.num_good_epochs > self.patience:
                self._raise_lrs()
                self.warmup_counter = self.warmup
                self.num_good_epochs = 0
            elif self.num_bad_epochs > self.patience:
                self._cut_lrs()
                self.cooldown_counter = self.cooldown
                self.num_bad_epochs = 0
        self._last_lr = [float(group["lr"]) for group in self.optimizer.param_groups]

    def _raise_lrs(self) -> None:
        for index, group in enumerate(self.optimizer.param_groups):
            old = float(group["lr"])
            new = min(old / self.factor, self.max_lrs[index])
            if new - old > self.eps:
                self._set_lr(index, new, "increasing")
        self.reset_start = self.reset_start_original

    def _cut_lrs(self) -> None:
        at_floor = True
        for index, group in enumerate(self.optimizer.param_groups):
            old = float(group["lr"])
            new = max(old * self.factor, self.min_lrs[index])
            if old - new > self.eps:
                self._set_lr(index, new, "reducing")
            at_floor = at_floor and float(group["lr"]) <= self.min_lrs[index]
        if at_floor:
            self.reset_start -= 1
            if self.reset_start <= 0:
                for index, lr in enumerate(self._init_lrs):
                    self._set_lr(index, lr, "resetting")
                self._reset()

    def get_last_lr(self) -> list[float]:  # type: ignore[override]
        """The learning rates after the last step, one float per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Transformers' ``GreedyLR`` state (plain values; loads with ``torch.load(weights_only=True)``) and hf_lr's
        record; Transformers' ``GreedyLR.load_state_dict`` takes it too."""
        state = {key: getattr(self, key) for key in (*self._CONFIG, "verbose", *self._PROGRESS)}
        state = {key: list(value) if isinstance(value, list) else value for key, value in state.items()}
        if self.smooth or self._window:
            state["_streaming_avg"] = {
                "window_size": self.window_size,
                "values": list(self._window),
                "sum": self._window_sum,
            }
        state[STATE_RECORD] = self._record()
        return state

    def _read_more(self, state: Mapping[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
        more: dict[str, Any] = {}
        if "reset_start" in state:
            # An int >= 1 (checked with the progress keys), at most the saved configuration's count (it only counts
            # down from it), and at most the live one's under strict=False.
            if state["reset_start"] > saved["reset_start_original"]:
                raise ValueError(
                    f"`{_saved('reset_start')}` must be <= {_saved('reset_start_original')}={saved['reset_start_original']}, "
                    f"got {state['reset_start']}"
                )
            more["reset_start"] = min(int(state["reset_start"]), self.reset_start_original)
        if "_streaming_avg" in state:
            if "window" in state or "window_sum" in state:
                raise ValueError("a GreedyLR state holds one smoothing window: `_streaming_avg` or `window`, not both")
            average, where = state["_streaming_avg"], "state_dict['_streaming_avg']"
            if not isinstance(average, Mapping) or set(average) - {"window_size", "values", "sum"}:
                raise ValueError(f"`{where}` must be a dict with keys window_size, values, sum; got {average!r}")
            # Transformers' defaults for the keys a partial window state lacks.
            size = check_int(f"{where}['window_size']", average.get("window_size", saved["window_size"]), minimum=1)
            values, total = average.get("values", []), average.get("sum", 0.0)
            if size != saved["window_size"]:
                raise ValueError(
                    f"`{where}['window_size']` must equal the state's window_size={saved['window_size']}, got {size}"
                )
        elif "window" in state or "window_sum" in state:
            if not ("window" in state and "window_sum" in state):
                raise ValueError(
                    "a GreedyLR state saved with `window` must also have `window_sum`, and the other way round"
                )
            values, total, where = state["window"], state["window_sum"], "state_dict['window']"
        else:
            return more
        if not isinstance(values, (list, tuple)) or len(values) > saved["window_size"]:
            raise ValueError(
                f"`{where}` must hold a list of at most window_size={saved['window_size']} metrics, got {values!r}"
            )
        window = [check_float(f"{where}[{i}]", value) for i, value in enumerate(values)]
        total = check_float(f"{where} sum", total)
        if len(window) > self.window_size:  # a smaller live window, kept under strict=False: its last values
            window = window[-self.window_size :]
            total = math.fsum(window)
        more["_window"], more["_window_sum"] = collections.deque(window), total
        return more


def get_greedy_schedule(optimizer: Optimizer, **kwargs: Any) -> GreedyLR:
    """A :class:`GreedyLR`: the learning rate follows the metric passed to ``step(metric)`` (Transformers' ``greedy``).

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rates are adjusted.
        kwargs:
            :class:`GreedyLR`'s parameters.

    Example:
        >>> import torch
        >>> from hf_lr import get_greedy_schedule
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> scheduler = get_greedy_schedule(optimizer, patience=0, factor=0.5, min_lr=0.01)
        >>> scheduler.step(1.0); scheduler.get_last_lr()  # an improvement: lr / factor
        [0.2]
        >>> scheduler.step(2.0); scheduler.get_last_lr()  # a stall: lr * factor
        [0.1]
    """
    return GreedyLR(optimizer, **kwargs)


class CheckedReduceLROnPlateau(_CheckedLoading, ReduceLROnPlateau):
    """torch's ``ReduceLROnPlateau`` with its arguments and loaded states checked (hf_lr's ``reduce_lr_on_plateau``).

    Same arguments, defaults and learning rates as ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (what Transformers'
    ``reduce_lr_on_plateau`` returns); `min_lr` is an absolute floor per group, as in torch. Unlike torch, an argument
    torch would take but cannot mean (``factor=-5``, ``min_lr=-1``, ``patience="10"``, a NaN learning rate) raises at
    construction, and :meth:`~hf_lr.adaptive._CheckedLoading.load_state_dict` checks the state first (see
    :mod:`hf_lr.adaptive`) and, like hf_lr's other schedulers, also sets the optimizer's learning rates to the saved
    ones. A torch ``ReduceLROnPlateau`` state loads into it and its state into torch's.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rates are reduced.
        mode (`str`, *optional*, defaults to `"min"`):
            ``"min"``: lower metric is better; ``"max"``: higher is better.
        factor (`float`, *optional*, defaults to 0.1):
            The multiplier of a reduction, in [0, 1).
        patience (`int`, *optional*, defaults to 10):
            The number of metrics without improvement tolerated before a reduction.
        threshold (`float`, *optional*, defaults to 1e-4):
            The margin that counts as an improvement (>= 0).
        threshold_mode (`str`, *optional*, defaults to `"rel"`):
            ``"rel"`` (relative margin) or ``"abs"`` (margin in metric units).
        cooldown (`int`, *optional*, defaults to 0):
            Metrics ignored after a reduction.
        min_lr (`float` or `list[float]`, *optional*, defaults to 0):
            The floor, for all groups or per group.
        eps (`float`, *optional*, defaults to 1e-8):
            Reductions smaller than this are not applied.

    Example:
        >>> import torch
        >>> from hf_lr.adaptive import CheckedReduceLROnPlateau
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> scheduler = CheckedReduceLROnPlateau(optimizer, patience=0, factor=0.5)
        >>> scheduler.step(1.0); scheduler.step(1.0); scheduler.get_last_lr()
        [0.05]
        >>> CheckedReduceLROnPlateau(optimizer, factor=-5.0)
        Traceback (most recent call last):
        ...
        ValueError: `factor` must be >= 0.0, got factor=-5.0
    """

    _state_type = "ReduceLROnPlateau"
    _CONFIG: ClassVar[tuple[str, ...]] = (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "default_min_lr",
        "min_lrs",
        "eps",
    )
    _PROGRESS = _PLATEAU_PROGRESS
    _MORE = ("mode_worse",)
    _ARGUMENT_NAMES = {"default_min_lr": "min_lr", "min_lrs": "min_lr"}

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        per_group = isinstance(min_lr, (list, tuple))
        arguments = {
            "mode": mode, "factor": factor, "patience": patience, "threshold": threshold, "threshold_mode": threshold_mode,
            "cooldown": cooldown, "default_min_lr": None if per_group else min_lr, "min_lrs": min_lr, "eps": eps,
        }  # fmt: skip
        # The plateau's own check, also in a subclass: its constructor checks its own arguments.
        config = CheckedReduceLROnPlateau._validated_config(self, arguments, self._argument)
        floor = config["min_lrs"] if per_group else config["default_min_lr"]
        super().__init__(
            optimizer, config["mode"], config["factor"], config["patience"], config["threshold"], config["threshold_mode"],
            config["cooldown"], floor, config["eps"],
        )  # fmt: skip
        if not hasattr(self, "default_min_lr"):  # torch 2.4 keeps only `min_lrs`: record the floor as later releases
            self.default_min_lr = config["default_min_lr"]

    def _validated_config(self, values: Mapping[str, Any], name: Namer) -> dict[str, Any]:
        default_min_lr = values["default_min_lr"]
        return {
            "mode": check_choice(name("mode"), values["mode"], ("min", "max")),
            "factor": check_float(name("factor"), values["factor"], minimum=0.0, maximum=1.0, exclusive_maximum=True),
            "patience": check_int(name("patience"), values["patience"]),
            "threshold": check_float(name("threshold"), values["threshold"], minimum=0.0),
            "threshold_mode": check_choice(name("threshold_mode"), values["threshold_mode"], ("rel", "abs")),
            "cooldown": check_int(name("cooldown"), values["cooldown"]),
            # torch keeps the single floor to extend `min_lrs` to groups added later, or None for a per-group list.
            "default_min_lr": None
            if default_min_lr is None
            else check_float(name("default_min_lr"), default_min_lr, minimum=0.0),
            "min_lrs": _per_group(name("min_lrs"), values["min_lrs"], len(self.optimizer.param_groups)),
            "eps": check_float(name("eps"), values["eps"], minimum=0.0),
        }

    def _read_more(self, state: Mapping[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
        # Derived from the mode (torch recomputes it on load): checked for consistency, not restored.
        worse = math.inf if saved["mode"] == "min" else -math.inf
        if "mode_worse" in state and state["mode_worse"] != worse:
            raise ValueError(
                f"`{_saved('mode_worse')}` must be {worse} in mode {saved['mode']!r}, got {state['mode_worse']!r}"
            )
        return {}

    def state_dict(self) -> dict[str, Any]:
        """torch's ``ReduceLROnPlateau`` state (plain values; loads with ``torch.load(weights_only=True)``) and hf_lr's
        record; torch's ``load_state_dict`` takes it too."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_hook_handle")}
        state["min_lrs"] = list(self.min_lrs)
        state["_last_lr"] = [float(lr) for lr in self._last_lr]
        state[STATE_RECORD] = self._record()
        return state


class WarmupReduceLROnPlateau(_CountsUpdates, CheckedReduceLROnPlateau):
    """Warm up over the first optimizer updates, then torch's ``ReduceLROnPlateau``.

    The warmup follows the optimizer's own updates: the scheduler registers a post-step hook on the optimizer, so
    each ``optimizer.step()`` advances it (also under Accelerate, where skipped updates do not count) and nothing
    else has to be called per update. Call ``step(metric)`` after each evaluation, as with ``ReduceLROnPlateau``;
    metrics reported during warmup are ignored. After warmup, the learning rates are exactly ``ReduceLROnPlateau``'s.
    Being a ``ReduceLROnPlateau``, it is stepped with the metric by ``transformers.Trainer``. Its arguments and loaded
    states are checked as :class:`~hf_lr.adaptive.CheckedReduceLROnPlateau`'s; a state saved with another warmup
    raises :class:`~hf_lr.ScheduleMismatchError`.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rates are scheduled.
        num_warmup_steps (`int`):
            Updates of warmup (0: none).
        warmup_type (`str`, *optional*, defaults to `"linear"`):
            The warmup's shape (see :class:`~hf_lr.compose.Warmup`); formerly `warmup_kind`.
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            The fraction of each group's learning rate at the first update.
        kwargs:
            ``ReduceLROnPlateau``'s parameters (``mode``, ``factor``, ``patience``, ``threshold``, ...).

    Example:
        >>> import torch
        >>> from hf_lr.adaptive import WarmupReduceLROnPlateau
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> scheduler = WarmupReduceLROnPlateau(optimizer, num_warmup_steps=4, patience=0, factor=0.5)
        >>> lrs = []
        >>> for update in range(6):
        ...     lrs.append(optimizer.param_groups[0]["lr"])
        ...     optimizer.step()
        >>> [round(lr, 4) for lr in lrs]
        [0.0, 0.025, 0.05, 0.075, 0.1, 0.1]
        >>> scheduler.step(1.0); scheduler.step(1.0); scheduler.get_last_lr()
        [0.05]
    """

    _state_type = "WarmupReduceLROnPlateau"
    _CONFIG: ClassVar[tuple[str, ...]] = (
        *CheckedReduceLROnPlateau._CONFIG,
        "num_warmup_steps",
        "warmup_type",
        "warmup_start_factor",
    )
    _RENAMED_KEYS: ClassVar[dict[str, str]] = {"warmup_kind": "warmup_type"}  # states saved before the rename
    _PROGRESS = {**_PLATEAU_PROGRESS, "updates": _count, "base_lrs": _group_lrs}
    _REQUIRED = ("updates", "num_warmup_steps", "base_lrs")
    # set from the checked arguments (or a loaded state's configuration) by `_warmup_config`
    num_warmup_steps: int
    warmup_type: str
    warmup_start_factor: float
    base_lrs: list[float]  # type: ignore[assignment]  # the groups' lrs before warmup, as floats

    def __init__(
        self,
        optimizer: Optimizer,
        num_warmup_steps: int,
        warmup_type: str = "linear",
        warmup_start_factor: float = 0.0,
        **kwargs: Any,
    ) -> None:
        warmup_type = renamed_argument(kwargs, "warmup_kind", "warmup_type", warmup_type, "linear", type(self).__name__)
        self.base_lrs = _check_optimizer(optimizer)
        arguments = {
            "num_warmup_steps": num_warmup_steps,
            "warmup_type": warmup_type,
            "warmup_start_factor": warmup_start_factor,
        }
        self.__dict__.update(_warmup_config(arguments, self._argument))
        self.updates = 0
        super().__init__(optimizer, **kwargs)
        self._hook()
        self._apply_warmup()

    def _validated_config(self, values: Mapping[str, Any], name: Namer) -> dict[str, Any]:
        return {**super()._validated_config(values, name), **_warmup_config(values, name)}

    def _after_optimizer_step(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        super()._after_optimizer_step(optimizer, args, kwargs)
        if self.updates <= self.num_warmup_steps:
            self._apply_warmup()

    @property
    def in_warmup(self) -> bool:
        """Whether the next update is still a warmup update."""
        return self.updates < self.num_warmup_steps

    def _apply_warmup(self) -> None:
        factor = (
            _ramp(self.warmup_type, self.updates, self.num_warmup_steps, self.warmup_start_factor, Scalar)
            if self.in_warmup
            else 1.0
        )
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            _write_lr(group, base * factor)
        self._last_lr = [float(group["lr"]) for group in self.optimizer.param_groups]

    def step(self, metrics: float, epoch: int | None = None) -> None:  # type: ignore[override]
        """Report a metric (after an evaluation); ignored during warmup."""
        if self.in_warmup:
            self._last_lr = [float(group["lr"]) for group in self.optimizer.param_groups]
            return
        super().step(metrics, epoch)
        self._last_lr = [float(lr) for lr in self._last_lr]

    def get_last_lr(self) -> list[float]:  # type: ignore[override]
        """The learning rates last set, one float per group."""
        return [float(lr) for lr in self._last_lr]

    def _restore_lrs(self, saved_lrs: bool) -> None:
        # During warmup the update count and the base learning rates give the learning rates.
        if self.in_warmup:
            self._apply_warmup()
        else:
            super()._restore_lrs(saved_lrs)


def _warmup_config(values: Mapping[str, Any], name: Namer) -> dict[str, Any]:
    config = {
        "num_warmup_steps": check_int(name("num_warmup_steps"), values["num_warmup_steps"]),
        "warmup_type": check_choice(name("warmup_type"), values["warmup_type"], WARMUP_KINDS),
        "warmup_start_factor": check_float(
            name("warmup_start_factor"), values["warmup_start_factor"], minimum=0.0, maximum=1.0
        ),
    }
    if config["warmup_type"] == "exponential" and config["warmup_start_factor"] == 0.0:
        raise ValueError(f"an exponential warmup needs `{name('warmup_start_factor')}` > 0, got 0.0")
    return config


def get_warmup_reduce_on_plateau_schedule(
    optimizer: Optimizer,
    num_warmup_steps: int,
    warmup_type: str = "linear",
    warmup_start_factor: float = 0.0,
    **kwargs: Any,
) -> WarmupReduceLROnPlateau:
    """A :class:`WarmupReduceLROnPlateau`: warmup over the first updates, then ``ReduceLROnPlateau``.

    Example:
        >>> import torch
        >>> from hf_lr import get_scheduler
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> scheduler = get_scheduler("reduce_lr_on_plateau_with_warmup", optimizer, num_warmup_steps=10,
        ...                           scheduler_specific_kwargs={"patience": 2})
        >>> scheduler.get_last_lr()
        [0.0]
    """
    warmup_type = renamed_argument(
        kwargs, "warmup_kind", "warmup_type", warmup_type, "linear", "get_warmup_reduce_on_plateau_schedule"
    )
    return WarmupReduceLROnPlateau(optimizer, num_warmup_steps, warmup_type, warmup_start_factor, **kwargs)
