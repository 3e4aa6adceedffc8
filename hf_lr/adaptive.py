"""Metric-driven schedulers (not closed form): ``greedy``.

:class:`GreedyLR` is a subclass of torch's ``ReduceLROnPlateau`` so that ``transformers.Trainer`` and other loops that
check for plateau schedulers step it with the evaluation metric, as they do Transformers' own ``GreedyLR``.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence
from typing import Any

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import ReduceLROnPlateau

from hf_lr._validation import check_base_lr, check_choice, check_float, check_int
from hf_lr.compose import WARMUP_KINDS, _ramp

__all__ = ["GreedyLR", "WarmupReduceLROnPlateau", "get_greedy_schedule"]


def _per_group(name: str, value: float | Sequence[float], count: int) -> list[float]:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * count
    if len(values) != count:
        raise ValueError(f"`{name}` must have one value per parameter group: expected {count}, got {len(values)}")
    return [check_float(f"{name}[{i}]", v, minimum=0.0) for i, v in enumerate(values)]


class GreedyLR(ReduceLROnPlateau):
    """Raise the learning rate while a metric keeps improving, lower it when it stalls (Transformers' ``greedy``).

    After more than `patience` consecutive improvements every group's lr is divided by `factor` (capped at `max_lr`),
    after more than `patience` consecutive non-improvements it is multiplied by `factor` (floored at `min_lr`); a
    `warmup` (after a raise) or `cooldown` (after a cut) of that many steps ignores the metric. When every group has
    sat at `min_lr` for `reset_start` cuts, the learning rates and the tracking state return to their start. With
    `smooth`, the metric is first averaged over the last `window_size` values. Same arguments, defaults and
    learning rates as ``transformers.GreedyLR`` ("GreedyLR: A Novel Adaptive Learning Rate Scheduler",
    arXiv:2512.14527); tensor learning rates are updated in place, and ``state_dict`` holds only plain values.

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
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"`optimizer` must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        groups = optimizer.param_groups
        self.optimizer = optimizer
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.factor = check_float("factor", factor, minimum=0.0, maximum=1.0, exclusive_minimum=True, exclusive_maximum=True)
        self.patience = check_int("patience", patience)
        self.threshold = check_float("threshold", threshold, minimum=0.0)
        self.cooldown = check_int("cooldown", cooldown)
        self.warmup = check_int("warmup", warmup)
        self.min_lrs = _per_group("min_lr", min_lr, len(groups))
        self.max_lrs = _per_group("max_lr", max_lr, len(groups))
        for index, (low, high) in enumerate(zip(self.min_lrs, self.max_lrs)):
            if low > high:
                raise ValueError(f"`min_lr` must be <= `max_lr`, got min_lr={low}, max_lr={high} for param_groups[{index}]")
        self.eps = check_float("eps", eps, minimum=0.0)
        self.verbose = bool(verbose)
        self.smooth = bool(smooth)
        self.window_size = check_int("window_size", window_size, minimum=1)
        self.reset_start_original = check_int("reset_start", reset_start, minimum=1)
        self._init_lrs = [check_base_lr(g["lr"], where=f"param_groups[{i}]") for i, g in enumerate(groups)]
        self.last_epoch = 0
        self._last_lr = list(self._init_lrs)
        self._reset()

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

    def _write(self, index: int, lr: float) -> None:
        group = self.optimizer.param_groups[index]
        if isinstance(group["lr"], Tensor):
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr

    def _set_lr(self, index: int, lr: float, verb: str) -> None:
        self._write(index, lr)
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

    _STATE = (
        "mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "warmup", "min_lrs", "max_lrs", "eps",
        "verbose", "smooth", "window_size", "reset_start_original", "reset_start", "last_epoch", "best",
        "num_bad_epochs", "num_good_epochs", "cooldown_counter", "warmup_counter", "_init_lrs", "_last_lr",
    )  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        """Plain values only (loads with ``torch.load(weights_only=True)``)."""
        state = {key: getattr(self, key) for key in self._STATE}
        state["window"] = list(self._window)
        state["window_sum"] = self._window_sum
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`, and the learning rates it had."""
        missing = [key for key in self._STATE if key not in state_dict]
        if missing:
            raise ValueError(f"not a GreedyLR state: missing {', '.join(missing)}")
        for key in self._STATE:
            setattr(self, key, state_dict[key])
        self._window = collections.deque(state_dict.get("window", []))
        self._window_sum = float(state_dict.get("window_sum", 0.0))
        for index, lr in enumerate(self._last_lr):
            self._write(index, float(lr))


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


class WarmupReduceLROnPlateau(ReduceLROnPlateau):
    """Warm up over the first optimizer updates, then torch's ``ReduceLROnPlateau``.

    The warmup follows the optimizer's own updates: the scheduler registers a post-step hook on the optimizer, so
    each ``optimizer.step()`` advances it (also under Accelerate, where skipped updates do not count) and nothing
    else has to be called per update. Call ``step(metric)`` after each evaluation, as with ``ReduceLROnPlateau``;
    metrics reported during warmup are ignored. After warmup, the learning rates are exactly ``ReduceLROnPlateau``'s.
    Being a ``ReduceLROnPlateau``, it is stepped with the metric by ``transformers.Trainer``.

    Args:
        optimizer (`torch.optim.Optimizer`):
            The optimizer whose learning rates are scheduled.
        num_warmup_steps (`int`):
            Updates of warmup (0: none).
        warmup_kind (`str`, *optional*, defaults to `"linear"`):
            The warmup's shape (see :class:`~hf_lr.Warmup`).
        warmup_start_factor (`float`, *optional*, defaults to 0.0):
            The fraction of each group's learning rate at the first update.
        kwargs:
            ``ReduceLROnPlateau``'s parameters (``mode``, ``factor``, ``patience``, ``threshold``, ...).

    Example:
        >>> import torch
        >>> from hf_lr import WarmupReduceLROnPlateau
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

    def __init__(
        self,
        optimizer: Optimizer,
        num_warmup_steps: int,
        warmup_kind: str = "linear",
        warmup_start_factor: float = 0.0,
        **kwargs: Any,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"`optimizer` must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.num_warmup_steps = check_int("num_warmup_steps", num_warmup_steps)
        self.warmup_kind = check_choice("warmup_kind", warmup_kind, WARMUP_KINDS)
        self.warmup_start_factor = check_float("warmup_start_factor", warmup_start_factor, minimum=0.0, maximum=1.0)
        if self.warmup_kind == "exponential" and self.warmup_start_factor == 0.0:
            raise ValueError("an exponential warmup needs `warmup_start_factor` > 0, got 0.0")
        self.base_lrs = [check_base_lr(g["lr"], where=f"param_groups[{i}]") for i, g in enumerate(optimizer.param_groups)]
        self.updates = 0
        super().__init__(optimizer, **kwargs)
        self._hook()
        self._apply_warmup()

    def _hook(self) -> None:
        self._handle = self.optimizer.register_step_post_hook(self._after_optimizer_step)

    def _after_optimizer_step(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        self.updates += 1
        if self.updates <= self.num_warmup_steps:
            self._apply_warmup()

    @property
    def in_warmup(self) -> bool:
        """Whether the next update is still a warmup update."""
        return self.updates < self.num_warmup_steps

    def _apply_warmup(self) -> None:
        for index, base in enumerate(self.base_lrs):
            factor = _ramp(self.warmup_kind, self.updates, self.num_warmup_steps, self.warmup_start_factor, math) if self.in_warmup else 1.0
            group = self.optimizer.param_groups[index]
            if isinstance(group["lr"], Tensor):
                group["lr"].fill_(base * factor)
            else:
                group["lr"] = base * factor
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

    def state_dict(self) -> dict[str, Any]:
        """Plain values only (loads with ``torch.load(weights_only=True)``)."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_handle")}
        state["_last_lr"] = [float(lr) for lr in self._last_lr]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`, with the learning rates of its update count if in warmup."""
        missing = [key for key in ("updates", "num_warmup_steps", "base_lrs", "best", "num_bad_epochs") if key not in state_dict]
        if missing:
            raise ValueError(f"not a WarmupReduceLROnPlateau state: missing {', '.join(missing)}")
        self.__dict__.update({k: v for k, v in state_dict.items() if k not in ("optimizer", "_handle")})
        if self.in_warmup:
            self._apply_warmup()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_handle", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._hook()


def get_warmup_reduce_on_plateau_schedule(
    optimizer: Optimizer, num_warmup_steps: int, warmup_kind: str = "linear", warmup_start_factor: float = 0.0, **kwargs: Any
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
    return WarmupReduceLROnPlateau(optimizer, num_warmup_steps, warmup_kind, warmup_start_factor, **kwargs)
