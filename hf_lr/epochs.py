"""Schedules whose lengths count epochs, driven once per optimizer update.

torch's ``StepLR`` (``step_size``), ``MultiStepLR`` (``milestones``), ``CosineAnnealingLR`` (``T_max``),
``CosineAnnealingWarmRestarts`` (``T_0``) and timm's schedulers with ``t_in_epochs=True`` (``t_initial``, ``warmup_t``)
are often given in epochs and stepped once per epoch. hf_lr schedules are stepped once per optimizer update; with
:class:`Epochs` their lengths stay in epochs and ``steps_per_epoch`` converts them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hf_lr._forms import Forms
from hf_lr._validation import check_int
from hf_lr.compose import _Wraps
from hf_lr.schedules import Schedule, _set, check_flag

__all__ = ["Epochs", "in_epochs"]


def _lengths_in_updates(schedule: Schedule, steps_per_epoch: int) -> Schedule:
    """``schedule`` with every length it counts in epochs (its ``epoch_fields``) multiplied by ``steps_per_epoch``."""
    changes = {}
    for name in schedule.epoch_fields:
        value = getattr(schedule, name)
        changes[name] = (
            [v * steps_per_epoch for v in value] if isinstance(value, (list, tuple)) else value * steps_per_epoch
        )
    return dataclasses.replace(schedule, **changes)  # type: ignore[type-var]


@dataclasses.dataclass(frozen=True)
class Epochs(_Wraps):
    """A schedule whose lengths are given in epochs, evaluated at every optimizer update.

    ``schedule``'s lengths (``step_size``, ``milestones``, ``T_max``, ``T_0``, timm's ``t_initial`` and ``warmup_t``)
    count epochs of ``steps_per_epoch`` updates: a length of ``E`` epochs lasts ``E * steps_per_epoch`` updates. Two
    ways to spend an epoch:

    - ``staircase=False`` (default, smooth): the lengths are converted to updates and the schedule moves at every
      update (a cosine decays a little each update). At each epoch boundary, step ``e * steps_per_epoch``, the value
      is the one torch's (or timm's) scheduler has at epoch ``e`` when stepped once per epoch (equal up to rounding:
      ``cos(pi * e N / (T N))`` against ``cos(pi * e / T)``); in between it interpolates, where the scheduler stepped
      per epoch stays flat. This is torch's per-iteration recipe for ``CosineAnnealingWarmRestarts``
      (``scheduler.step(epoch + i / iters)``) for every epoch-counting name.
    - ``staircase=True``: ``schedule(step // steps_per_epoch)``: the value changes only at epoch boundaries and equals,
      at every update, that of the original scheduler stepped once per epoch.

    Step decays (``step``, ``multistep``) are staircases by definition: both ways give the same values.

    Args:
        schedule (`Schedule`):
            The schedule, with its lengths in epochs (a schedule class that declares ``epoch_fields``).
        steps_per_epoch (`int`):
            The number of optimizer updates per epoch (>= 1).
        staircase (`bool`, *optional*, defaults to `False`):
            Change the value only at epoch boundaries, as a scheduler stepped once per epoch.

    Example:
        >>> from hf_lr.epochs import Epochs
        >>> from hf_lr.equivalents import CosineAnnealing
        >>> smooth = Epochs(CosineAnnealing(T_max=2), steps_per_epoch=2)
        >>> [round(float(v), 4) for v in smooth.values(range(5))]
        [1.0, 0.8536, 0.5, 0.1464, 0.0]
        >>> stairs = Epochs(CosineAnnealing(T_max=2), steps_per_epoch=2, staircase=True)
        >>> [round(float(v), 4) for v in stairs.values(range(5))]
        [1.0, 1.0, 0.5, 0.5, 0.0]
    """

    schedule: Schedule
    steps_per_epoch: int
    staircase: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.schedule, Schedule):
            raise TypeError(
                f"`schedule` must be a hf_lr Schedule, got {self.schedule!r} ({type(self.schedule).__name__})"
            )
        if not self.schedule.epoch_fields:
            raise TypeError(
                f"{type(self.schedule).__name__} has no lengths counted in epochs; `steps_per_epoch` applies to "
                "StepDecay, MultiStepDecay, CosineAnnealing, CosineAnnealingWarmRestarts and TimmCosine"
            )
        _set(
            self,
            steps_per_epoch=check_int("steps_per_epoch", self.steps_per_epoch, minimum=1),
            staircase=check_flag("staircase", self.staircase),
        )
        # The per-update form, built once (not a field: the configuration records the lengths in epochs).
        _set(self, _per_update=_lengths_in_updates(self.schedule, self.steps_per_epoch))

    def _formula(self, step: Any, xp: Forms) -> Any:
        if self.staircase:
            return xp.of(self.schedule, step // self.steps_per_epoch)
        return xp.of(self._per_update, step)  # type: ignore[attr-defined]

    def boundaries(self) -> tuple[int, ...]:
        if self.staircase:
            return tuple(b * self.steps_per_epoch for b in self.schedule.boundaries())
        return self._per_update.boundaries()  # type: ignore[attr-defined, no-any-return]

    def horizon(self) -> int | None:
        if self.staircase:
            inner = self.schedule.horizon()
            return None if inner is None else inner * self.steps_per_epoch
        return self._per_update.horizon()  # type: ignore[attr-defined, no-any-return]


def in_epochs(schedule: Schedule, steps_per_epoch: Any = None, staircase: Any = False) -> Schedule:
    """``Epochs(schedule, steps_per_epoch, staircase)``, or ``schedule`` itself when ``steps_per_epoch`` is ``None``.

    Example:
        >>> from hf_lr.equivalents import StepDecay
        >>> from hf_lr.epochs import in_epochs
        >>> in_epochs(StepDecay(step_size=1, gamma=0.5), steps_per_epoch=3).values(range(7)).tolist()
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    """
    if steps_per_epoch is None:
        if check_flag("staircase", staircase):
            raise ValueError("`staircase=True` needs `steps_per_epoch` (the number of updates per epoch), got none")
        return schedule
    return Epochs(schedule, steps_per_epoch, staircase)
