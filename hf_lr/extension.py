"""A schedule changed mid-run: extended to a new end, re-warmed, or sent into its cooldown.

:class:`Extension` is the closed form of a decision taken at update ``at``: up to ``at`` it is the original schedule,
unchanged; after it, one of three continuations, each starting from the value at ``at`` (so the learning rate does not
jump). It is what :meth:`hf_lr.ScheduleLR.extend` and :meth:`hf_lr.ScheduleLR.start_decay` install, and what the
scheduler's state records, so a resumed run follows the changed curve in O(1).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hf_lr._forms import Forms
from hf_lr._validation import check_choice, check_float, check_int, check_optional_float, check_optional_int
from hf_lr.compose import _Wraps
from hf_lr.schedules import Schedule, _fall, _Piecewise, _set

__all__ = ["EXTENSION_MODES", "EXTENSION_SHAPES", "Extension"]

EXTENSION_MODES = ("stretch", "rewarm", "decay")
EXTENSION_SHAPES = ("linear", "cosine", "1-sqrt")


@dataclasses.dataclass(frozen=True)
class Extension(_Wraps, _Piecewise):
    """``schedule`` until update ``at``, then a continuation that starts from its value there and ends at ``new_end``.

    Modes:

    - ``"stretch"``: the rest of the original curve, from ``at`` to its end ``old_end``, stretched over
      ``[at, new_end]`` (the original is sampled at its own integer updates and interpolated linearly in between), so
      the decay keeps its shape and ends where it ended, ``new_end - old_end`` updates later. Past ``new_end`` the
      original's tail follows, shifted by as much.
    - ``"rewarm"``: a linear ramp from the value at ``at`` to ``peak`` over ``num_warmup_steps`` updates, then a
      ``decay_type`` decay to ``end`` at ``new_end``; ``end`` afterwards.
    - ``"decay"``: a ``decay_type`` decay from the value at ``at`` to ``end`` at ``new_end``; ``end`` afterwards (a
      cooldown started when you decide: warmup-stable-decay with no known end).

    ``end`` defaults to the original's value at ``old_end`` (``"rewarm"``), or 0 (``"decay"``).

    Args:
        schedule (`Schedule`):
            The original schedule.
        at (`int`):
            The update at which the continuation starts (its value there is the original's).
        new_end (`int`):
            The update at which the continuation ends (> ``at``).
        mode (`str`, *optional*, defaults to `"stretch"`):
            ``"stretch"``, ``"rewarm"`` or ``"decay"``.
        old_end (`int`, *optional*):
            The original's end (its ``horizon()``); required by ``"stretch"``.
        num_warmup_steps (`int`, *optional*, defaults to 0):
            The ramp of ``"rewarm"``.
        peak (`float`, *optional*, defaults to 1.0):
            The multiplier ``"rewarm"`` ramps to (1.0: the group's learning rate).
        decay_type (`str`, *optional*, defaults to `"cosine"`):
            The decay shape of ``"rewarm"`` and ``"decay"``: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
        end (`float`, *optional*):
            The final multiplier of ``"rewarm"`` and ``"decay"``.

    Example:
        >>> from hf_lr.schedules import LinearWithWarmup
        >>> from hf_lr.extension import Extension
        >>> linear = LinearWithWarmup(num_warmup_steps=0, num_training_steps=4)
        >>> Extension(linear, at=2, new_end=6, old_end=4).values(range(8)).tolist()
        [1.0, 0.75, 0.5, 0.375, 0.25, 0.125, 0.0, 0.0]
        >>> Extension(linear, at=2, new_end=6, mode="decay", decay_type="linear").values(range(8)).tolist()
        [1.0, 0.75, 0.5, 0.375, 0.25, 0.125, 0.0, 0.0]
    """

    schedule: Schedule
    at: int
    new_end: int
    mode: str = "stretch"
    old_end: int | None = None
    num_warmup_steps: int = 0
    peak: float = 1.0
    decay_type: str = "cosine"
    end: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.schedule, Schedule):
            raise TypeError(f"`schedule` must be a hf_lr Schedule, got {self.schedule!r}")
        _set(
            self,
            at=check_int("at", self.at),
            mode=check_choice("mode", self.mode, EXTENSION_MODES),
            old_end=check_optional_int("old_end", self.old_end, minimum=1),
            num_warmup_steps=check_int("num_warmup_steps", self.num_warmup_steps),
            peak=check_float("peak", self.peak, minimum=0.0),
            decay_type=check_choice("decay_type", self.decay_type, EXTENSION_SHAPES),
            end=check_optional_float("end", self.end, minimum=0.0),
        )
        _set(self, new_end=check_int("num_training_steps", self.new_end, minimum=self.at + 1 + self.num_warmup_steps))
        if self.mode == "stretch":
            if self.old_end is None:
                raise ValueError(
                    "mode='stretch' needs the schedule's end (`old_end`): a schedule with no end (constant, "
                    "open-ended, periodic) has nothing to stretch; use mode='rewarm' or start_decay()"
                )
            if not self.at < self.old_end:
                raise ValueError(
                    f"mode='stretch' stretches what is left of the curve, and nothing is left at update {self.at} of a "
                    f"schedule that ended at {self.old_end}; use mode='rewarm' (warm up again, then decay) instead"
                )
            if not self.new_end > self.old_end:
                raise ValueError(
                    f"`num_training_steps` must be larger than the schedule's end to extend it, got "
                    f"num_training_steps={self.new_end}, end={self.old_end}"
                )
        elif self.num_warmup_steps and self.mode != "rewarm":
            raise ValueError(f"`num_warmup_steps` goes with mode='rewarm', got mode={self.mode!r}")

    def horizon(self) -> int | None:
        return self.new_end

    def boundaries(self) -> tuple[int, ...]:
        before = tuple(b for b in self.schedule.boundaries() if b < self.at)
        return (
            (*before, self.at, self.num_warmup_steps + self.at, self.new_end)
            if self.num_warmup_steps
            else (*before, self.at, self.new_end)
        )

    def _end_value(self) -> float:
        if self.end is not None:
            return self.end
        if self.mode == "rewarm" and self.old_end is not None:
            return float(self.schedule(self.old_end))
        return 0.0

    def _piece_bounds(self) -> tuple[int, ...]:
        # the original up to `at`; then "stretch": the stretched rest up to new_end, then the original's tail; or a
        # ramp over num_warmup_steps ("rewarm"), a decay up to new_end, then `end`
        at = self.at
        return (
            (at + 1, self.new_end) if self.mode == "stretch" else (at + 1, at + self.num_warmup_steps + 1, self.new_end)
        )

    def _piece(self, index: int, step: Any, xp: Forms) -> Any:
        if index == 0:
            return xp.of(self.schedule, step)
        if self.mode == "stretch":
            assert self.old_end is not None
            if index == 2:
                return xp.of(self.schedule, step - self.new_end + self.old_end)
            # Exact integer arithmetic for the position in the original: at + (step - at) * (old - at) / (new - at),
            # sampled at its integer updates and interpolated linearly in between.
            numerator = (step - self.at) * (self.old_end - self.at)
            denominator = self.new_end - self.at
            low = self.at + numerator // denominator
            fraction = (numerator % denominator) / denominator
            below = xp.of(self.schedule, low)
            above = xp.of(self.schedule, xp.minimum(low + 1, self.old_end))
            return xp.where(fraction == 0, below, below + (above - below) * fraction)
        start, end = self.schedule(self.at), self._end_value()
        if index == 1:  # the ramp of "rewarm"
            return start + (self.peak - start) * (step - self.at) / max(1, self.num_warmup_steps)
        if index == 3:
            return end
        top = self.peak if self.mode == "rewarm" else start
        length = self.new_end - self.at - self.num_warmup_steps
        return end + (top - end) * _fall(self.decay_type, (step - self.at - self.num_warmup_steps) / length, xp)
