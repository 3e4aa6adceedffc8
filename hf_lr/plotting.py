"""Plots of learning-rate schedules before any GPU hour is spent: :func:`plot`.

matplotlib is an optional dependency (``pip install "hf_lr[plot]"``) imported only when a plot is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hf_lr.curves import lr_curve
from hf_lr.registry import build_schedule
from hf_lr.scheduler import ScheduleLR
from hf_lr.schedules import Schedule

__all__ = ["PlotItem", "plot"]

#: What :func:`plot` draws: a name, ``(name, kwargs)``, a ``Schedule`` or a ``ScheduleLR``.
PlotItem = Any


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - matplotlib is in the dev extra
        raise ImportError('hf_lr.plot needs matplotlib: pip install "hf_lr[plot]"') from error
    return plt


def _resolve(
    item: PlotItem, num_steps: int, base_lr: float, num_warmup_steps: int | None, num_training_steps: int | None
) -> tuple[str, np.ndarray, tuple[int, ...]]:
    """(label, curve of shape (num_steps,) or (num_steps, groups), phase boundaries) of one item."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], Mapping):
        name, kwargs = item[0], dict(item[1])
    elif isinstance(item, str):
        name, kwargs = item, {}
    else:
        name, kwargs = "", {}
    if name:
        curve = lr_curve(
            name, num_steps, base_lr=base_lr, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
            scheduler_specific_kwargs=kwargs,
        )  # fmt: skip
        boundaries = build_schedule(name, num_warmup_steps, num_training_steps, **kwargs).boundaries()
        label = name + (" " + ", ".join(f"{k}={v}" for k, v in kwargs.items()) if kwargs else "")
        return label, curve, boundaries
    if isinstance(item, ScheduleLR):
        source = item.source or {}
        label = source.get("name") or type(item.schedules[0]).__name__
        return label, lr_curve(item, num_steps), item.schedules[0].boundaries()
    if isinstance(item, Schedule):
        return type(item).__name__, lr_curve(item, num_steps, base_lr=base_lr), item.boundaries()
    raise TypeError(
        f"plot() draws schedule names, (name, kwargs) pairs, Schedule objects or ScheduleLR schedulers; got {item!r}"
    )


def plot(
    *schedules: PlotItem,
    num_steps: int | None = None,
    num_training_steps: int | None = None,
    num_warmup_steps: int | None = None,
    base_lr: float = 1.0,
    ax: Any = None,
    log: bool = False,
    mark_phases: bool = True,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Any:
    """Draw one or several schedules' learning rates over ``num_steps`` optimizer updates on a matplotlib axis.

    Each item is a registered name (sized with ``num_warmup_steps`` / ``num_training_steps``), a ``(name, kwargs)``
    pair for the name's own parameters, a :class:`~hf_lr.Schedule` (times ``base_lr``), or a
    :class:`~hf_lr.ScheduleLR` (every parameter group, from its own learning rate). The curves are
    :func:`hf_lr.lr_curve`'s; phase boundaries (end of warmup, of the decay, restarts) are marked with dotted lines.

    Args:
        schedules:
            What to draw.
        num_steps (`int`, *optional*):
            The number of updates drawn (default: ``num_training_steps`` plus a tenth, or 1000).
        num_training_steps (`int`, *optional*):
            ``get_scheduler``'s argument for names.
        num_warmup_steps (`int`, *optional*):
            ``get_scheduler``'s argument for names.
        base_lr (`float`, *optional*, defaults to 1.0):
            The optimizer's learning rate for names and schedules.
        ax (`matplotlib.axes.Axes`, *optional*):
            Where to draw (a new figure if unset).
        log (`bool`, *optional*, defaults to `False`):
            A logarithmic learning-rate axis.
        mark_phases (`bool`, *optional*, defaults to `True`):
            Draw the phase boundaries.
        labels (`list[str]`, *optional*):
            Legend labels, one per item.
        title (`str`, *optional*):
            The axis title.

    Returns:
        The matplotlib axis.

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import hf_lr
        >>> ax = hf_lr.plot("linear", ("cosine_with_restarts", {"num_cycles": 3}), num_warmup_steps=100,
        ...                 num_training_steps=1000, base_lr=3e-4)
        >>> [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
        ['linear', 'cosine_with_restarts num_cycles=3']
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('optimizer update', 'learning rate')
    """
    if not schedules:
        raise ValueError("plot() needs at least one schedule to draw")
    if labels is not None and len(labels) != len(schedules):
        raise ValueError(f"`labels` must have one label per schedule: expected {len(schedules)}, got {len(labels)}")
    if num_steps is None:
        num_steps = int(num_training_steps * 1.1) + 1 if num_training_steps else 1000
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    steps = np.arange(num_steps)
    for index, item in enumerate(schedules):
        label, curve, boundaries = _resolve(item, num_steps, base_lr, num_warmup_steps, num_training_steps)
        if labels is not None:
            label = labels[index]
        color = f"C{index % 10}"
        if curve.ndim == 1:
            ax.plot(steps, curve, color=color, linewidth=1.8, label=label)
        else:
            for group in range(curve.shape[1]):
                style = "-" if group == 0 else (0, (4, 1 + group))
                ax.plot(
                    steps,
                    curve[:, group],
                    color=color,
                    linestyle=style,
                    linewidth=1.5,
                    label=f"{label} (group {group})",
                )
        if mark_phases:
            for boundary in boundaries:
                if 0 < boundary < num_steps:
                    ax.axvline(boundary, color=color, linestyle=":", linewidth=1.0, alpha=0.6)
    ax.set_xlabel("optimizer update")
    ax.set_ylabel("learning rate")
    if log:
        ax.set_yscale("log")
    ax.set_xlim(0, num_steps - 1)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax
