"""The LR range test (Smith, "Cyclical Learning Rates for Training Neural Networks", 2017, section 3.3).

Train for a short while with a learning rate that grows from ``start_lr`` to ``end_lr`` (exponentially by default),
record the loss, and pick a learning rate where the loss falls fastest. :func:`find_lr` restores the model and the
optimizer exactly afterwards (parameters, buffers, optimizer state and learning rates, training mode, RNG state), so
the run leaves no trace (the gradients the parameters held are put back too).

The suggestion accounts for the known traps: it smooths the losses with a centred window (the running average used
to detect divergence lags and would push the suggestion to larger learning rates); the slope is a least-squares
slope against ``log(lr)`` at the actual learning rates (not the index), so uneven spacing and single spikes do not
decide it; the first ``skip_start`` points (early spikes) and everything after the minimum (divergence) are left out.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from hf_lr._validation import check_choice, check_float, check_int

__all__ = ["LRFinderResult", "find_lr", "suggest_lr"]


@dataclasses.dataclass
class LRFinderResult:
    """What :func:`find_lr` measured.

    Attributes:
        lrs (`list[float]`): the learning rate of the first parameter group at each recorded update.
        losses (`list[float]`): the raw loss of each update.
        smoothed (`list[float]`): the smoothed loss.
        suggestion (`float` or `None`): the suggested learning rate (``None`` if too few points).
        stopped_early (`bool`): whether the loss diverged (or became non-finite) before ``num_steps``.
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float | None
    stopped_early: bool

    def plot(self, ax: Any = None, log: bool = True, show_suggestion: bool = True) -> Any:
        """Draw the smoothed (and raw) loss against the learning rate on a matplotlib axis; returns the axis."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        ax.plot(self.lrs, self.losses, color="0.75", linewidth=0.8, label="loss")
        if self.smoothed:  # keep the divergence spike from flattening the interesting part
            low, start = min(self.smoothed), self.smoothed[0]
            ax.set_ylim(min(low, *self.losses) - 0.05 * abs(start), max(start, low) + 0.5 * abs(start - low) + 1e-12)
        ax.plot(self.lrs, self.smoothed, color="C0", linewidth=1.8, label="smoothed loss")
        if show_suggestion and self.suggestion is not None:
            ax.axvline(self.suggestion, color="C3", linestyle="--", label=f"suggestion {self.suggestion:.2e}")
        if log:
            ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.set_title("LR range test")
        ax.legend()
        return ax


def _centered_average(values: np.ndarray, window: int) -> np.ndarray:
    """A moving average centred on each point (shrinking at the ends): no lag, unlike the running average."""
    half = window // 2
    cumulative = np.concatenate(([0.0], np.cumsum(values)))
    index = np.arange(values.size)
    low, high = np.maximum(index - half, 0), np.minimum(index + half + 1, values.size)
    return (cumulative[high] - cumulative[low]) / (high - low)


def _windowed_slopes(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """The least-squares slope of y against x over a window centred on each point (uses the real x spacing)."""
    half = window // 2
    slopes = np.empty(x.size)
    for i in range(x.size):
        low, high = max(0, i - half), min(x.size, i + half + 1)
        xs, ys = x[low:high], y[low:high]
        spread = xs - xs.mean()
        denominator = float(spread @ spread)
        slopes[i] = float(spread @ (ys - ys.mean())) / denominator if denominator > 0 else 0.0
    return slopes


def suggest_lr(lrs: Iterable[float], losses: Iterable[float], skip_start: int = 5) -> float | None:
    """The learning rate where the loss falls fastest against ``log(lr)``, before its minimum.

    The losses are averaged over a centred window (a tenth of the points, at least 3) and the slope at each point is
    the least-squares slope against ``log(lr)`` over the same window, so noise, single spikes and uneven spacing do
    not decide the answer; the first ``skip_start`` points and everything after the minimum are left out.

    Example:
        >>> import numpy as np
        >>> from hf_lr.lr_finder import suggest_lr
        >>> lrs = np.logspace(-6, 0, 61)
        >>> loss = 1 / (1 + np.exp(4 * (np.log10(lrs) + 3)))  # falls fastest at 1e-3
        >>> f"{suggest_lr(lrs, loss):.0e}"
        '1e-03'
    """
    x, y = np.log(np.asarray(list(lrs), dtype=np.float64)), np.asarray(list(losses), dtype=np.float64)
    if x.size != y.size:
        raise ValueError(f"`lrs` and `losses` must have the same length, got {x.size} and {y.size}")
    finite = np.isfinite(y)
    x, y = x[finite], y[finite]
    window = max(3, x.size // 10) | 1
    if x.size < max(3, skip_start + 3):
        return None
    centred = _centered_average(y, window)
    end = int(np.argmin(centred)) + 1
    # Averages within half a window of the skipped points still carry them (an early spike): skip those too.
    start = min(skip_start + window // 2 if skip_start else 0, max(0, end - 3))
    if end - start < 3:
        return None
    slopes = _windowed_slopes(x[start:end], centred[start:end], window)
    return float(np.asarray(list(lrs), dtype=np.float64)[finite][start + int(np.argmin(slopes))])  # a tested lr


def _loss_of(model: nn.Module, batch: Any, loss_fn: Callable[[nn.Module, Any], Tensor] | None) -> Tensor:
    if loss_fn is not None:
        return loss_fn(model, batch)
    output = model(**batch) if isinstance(batch, Mapping) else model(batch)
    loss = getattr(output, "loss", None)
    if loss is None and isinstance(output, Mapping):
        loss = output.get("loss")
    if loss is None:
        raise TypeError(
            "the model's output has no `loss`: pass batches with labels to a Transformers model, or `loss_fn=lambda "
            "model, batch: ...` that returns the loss"
        )
    return loss


def _batches(dataloader: Iterable[Any]) -> Generator[Any, None, None]:
    """Batches forever (re-iterating the loader); leaving mid-epoch ends the loader's iteration properly."""
    while True:
        iterator = iter(dataloader)
        finished, empty = False, True
        try:
            for batch in iterator:
                empty = False
                yield batch
            finished = True
        finally:
            if not finished:
                close = getattr(iterator, "close", None)
                if callable(close):
                    close()
                # Accelerate's loaders register with the gradient state on entry and only leave it at the epoch's
                # end: leave it here, or a later accumulate()/gather_for_metrics() believes a loader is running.
                end = getattr(dataloader, "end", None)
                if callable(end) and getattr(getattr(dataloader, "gradient_state", None), "in_dataloader", False):
                    end()
        if empty:
            raise ValueError("`dataloader` yielded no batch")


def find_lr(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    dataloader: Iterable[Any],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exponential",
    smoothing: float = 0.98,
    diverge_threshold: float = 4.0,
    gradient_accumulation_steps: int = 1,
    skip_start: int = 5,
    loss_fn: Callable[[nn.Module, Any], Tensor] | None = None,
    accelerator: Any = None,
    restore: bool = True,
) -> LRFinderResult:
    """Run the LR range test and restore the model and optimizer afterwards.

    Each update ``i`` uses learning rate ``start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))`` (``mode=
    "exponential"``) or a linear ramp; with several parameter groups their ratios are kept (the first group follows
    the ramp). The test stops when the smoothed loss exceeds ``diverge_threshold`` times its minimum, or the loss is not
    finite.

    Args:
        model (`torch.nn.Module`):
            The model; Transformers models return ``.loss`` when the batches carry labels.
        optimizer (`torch.optim.Optimizer`):
            Its optimizer (Accelerate-prepared ones work).
        dataloader (`Iterable`):
            Batches (dicts for Transformers models); re-iterated if shorter than the test.
        start_lr (`float`, *optional*, defaults to 1e-7):
            The first learning rate.
        end_lr (`float`, *optional*, defaults to 10.0):
            The last learning rate.
        num_steps (`int`, *optional*, defaults to 100):
            Optimizer updates of the test (>= 2).
        mode (`str`, *optional*, defaults to `"exponential"`):
            ``"exponential"`` or ``"linear"``.
        smoothing (`float`, *optional*, defaults to 0.98):
            The moving average's weight of the past, in [0, 1).
        diverge_threshold (`float`, *optional*, defaults to 4.0):
            Stop when the smoothed loss exceeds this times its minimum (> 1).
        gradient_accumulation_steps (`int`, *optional*, defaults to 1):
            Batches per update.
        skip_start (`int`, *optional*, defaults to 5):
            Points left out at the start when suggesting.
        loss_fn (`Callable[[model, batch], Tensor]`, *optional*):
            Computes the loss of a batch (default: ``model(**batch).loss``).
        accelerator (`accelerate.Accelerator`, *optional*):
            Use its ``backward`` and average the loss over processes.
        restore (`bool`, *optional*, defaults to `True`):
            Put the model and optimizer back as they were.

    Example:
        >>> import torch
        >>> from hf_lr import find_lr
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> x = torch.randn(256, 4); y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0])
        >>> model = torch.nn.Linear(4, 1)
        >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        >>> batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 256, 32)]
        >>> result = find_lr(model, optimizer, batches, num_steps=60, start_lr=1e-5, end_lr=10,
        ...                  loss_fn=lambda m, b: torch.nn.functional.mse_loss(m(b[0]).squeeze(-1), b[1]))
        >>> 1e-3 < result.suggestion < 1.0
        True
    """
    start_lr = check_float("start_lr", start_lr, minimum=0.0, exclusive_minimum=True)
    end_lr = check_float("end_lr", end_lr, minimum=start_lr, exclusive_minimum=True)
    num_steps = check_int("num_steps", num_steps, minimum=2)
    mode = check_choice("mode", mode, ("exponential", "linear"))
    smoothing = check_float("smoothing", smoothing, minimum=0.0, maximum=1.0, exclusive_maximum=True)
    diverge_threshold = check_float("diverge_threshold", diverge_threshold, minimum=1.0, exclusive_minimum=True)
    accumulation = check_int("gradient_accumulation_steps", gradient_accumulation_steps, minimum=1)
    skip_start = check_int("skip_start", skip_start)

    if accelerator is not None and getattr(accelerator, "gradient_accumulation_steps", 1) != 1:
        raise ValueError(
            "find_lr accumulates gradients itself: build the Accelerator with gradient_accumulation_steps=1 and pass "
            f"gradient_accumulation_steps to find_lr (got an Accelerator with "
            f"gradient_accumulation_steps={accelerator.gradient_accumulation_steps}; its backward would divide the "
            "loss a second time)"
        )
    saved = _snapshot(model, optimizer) if restore else None
    base = [float(group["lr"]) for group in optimizer.param_groups]
    ratios = [lr / base[0] if base[0] > 0 else 1.0 for lr in base]
    if mode == "exponential":
        schedule = [start_lr * (end_lr / start_lr) ** (i / (num_steps - 1)) for i in range(num_steps)]
    else:
        schedule = [start_lr + (end_lr - start_lr) * i / (num_steps - 1) for i in range(num_steps)]

    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    average, best, stopped = 0.0, math.inf, False
    batches = _batches(dataloader)
    model.train()
    try:
        for index, lr in enumerate(schedule):
            for group, ratio in zip(optimizer.param_groups, ratios):
                if isinstance(group["lr"], Tensor):
                    group["lr"].fill_(lr * ratio)
                else:
                    group["lr"] = lr * ratio
            optimizer.zero_grad()
            total = 0.0
            for _ in range(accumulation):
                loss = _loss_of(model, next(batches), loss_fn) / accumulation
                if accelerator is not None:
                    accelerator.backward(loss)
                    total += float(accelerator.reduce(loss.detach(), reduction="mean"))
                else:
                    loss.backward()
                    total += float(loss.detach())
            optimizer.step()
            lrs.append(lr)
            losses.append(total)
            if not math.isfinite(total):
                stopped = True
                break
            average = smoothing * average + (1 - smoothing) * total
            smoothed.append(average / (1 - smoothing ** (index + 1)))
            best = min(best, smoothed[-1])
            if index > skip_start and smoothed[-1] > diverge_threshold * best:
                stopped = True
                break
    finally:
        batches.close()  # ends the data loader's iteration (Accelerate tracks loaders that are mid-epoch)
        if saved is not None:
            _restore(model, optimizer, saved)
    if len(smoothed) < len(lrs):  # the last loss was not finite: it has no smoothed value
        lrs, losses = lrs[: len(smoothed)], losses[: len(smoothed)]
    return LRFinderResult(lrs, losses, smoothed, suggest_lr(lrs, losses, skip_start), stopped)


def _snapshot(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    return {
        "model": copy.deepcopy(model.state_dict()),
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "lrs": [
            group["lr"].clone() if isinstance(group["lr"], Tensor) else group["lr"] for group in optimizer.param_groups
        ],
        "training": {name: module.training for name, module in model.named_modules()},
        "grads": [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()],
        "cpu_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def _restore(model: nn.Module, optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    for group, lr in zip(optimizer.param_groups, saved["lrs"]):
        if isinstance(group["lr"], Tensor):
            group["lr"].copy_(lr)
        else:
            group["lr"] = lr
    for name, module in model.named_modules():
        module.training = saved["training"].get(name, module.training)
    for param, grad in zip(model.parameters(), saved["grads"]):
        param.grad = grad
    torch.set_rng_state(saved["cpu_rng"])
    if saved["cuda_rng"] is not None:
        torch.cuda.set_rng_state_all(saved["cuda_rng"])
