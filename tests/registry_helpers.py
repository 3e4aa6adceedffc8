"""Helpers for the suites that drive every closed-form example of ``registry_cases.py`` through a scheduler.

The parameters themselves live in ONE table, ``tests/registry_cases.py``; this module only adds what the curve,
tensor-lr, fast-path and compile suites need on top of it: group learning rates valid for every example, and how many
updates cover every phase of an example and then some.
"""

from __future__ import annotations

from typing import Any

from registry_cases import CASES, STEP_LIKE, example_id, examples

import hf_lr

__all__ = ["EXAMPLES", "FIRST_EXAMPLES", "GROUP_LRS", "example_id", "horizon", "make_scheduler"]

# Three groups: two share a learning rate (so they share one bound schedule), one differs. The examples' absolute
# floors (min_lr, eta_min, lr_end, ...) are all below both.
GROUP_LRS = (0.1, 0.05, 0.1)

#: ``(name, num_warmup_steps, num_training_steps, kwargs)`` for every example of every closed-form name.
EXAMPLES: list[tuple[str, int | None, int | None, dict[str, Any]]] = examples()
#: the first example of each closed-form name
FIRST_EXAMPLES = [(name, *CASES[name].examples[0]) for name in dict.fromkeys(e[0] for e in EXAMPLES)]


def horizon(w: int | None, t: int | None, kwargs: dict[str, Any], past_the_end: int = 25) -> int:
    """A number of updates that covers every phase of the example and ``past_the_end`` more."""
    lengths = [w or 0, t or 0]
    epoch = kwargs.get("steps_per_epoch") or 1  # lengths in epochs (one_cycle's epochs come with total_steps unset)
    for key, value in kwargs.items():
        if key in STEP_LIKE and isinstance(value, (int, float)):
            lengths.append((w or 0) + int(value) * epoch * 3)  # cycles and restarts: a few of them
        elif key == "milestones":
            lengths.extend((w or 0) + m * epoch for m in value)
    return max(lengths) + past_the_end


def make_scheduler(name: str, optimizer: Any, w: int | None, t: int | None, kwargs: dict[str, Any]) -> hf_lr.ScheduleLR:
    scheduler = hf_lr.get_scheduler(name, optimizer, w, t, dict(kwargs))
    assert isinstance(scheduler, hf_lr.ScheduleLR), f"{name} did not build a ScheduleLR"
    return scheduler
