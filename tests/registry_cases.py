"""One parameter set per registered closed-form schedule name, shared by every suite that loops over the registry.

``REGISTRY_CASES[name]`` is a :class:`RegistryCase`: the ``num_warmup_steps`` and ``num_training_steps`` to pass to
``hf_lr.get_scheduler`` / ``hf_lr.build_schedule`` (``None`` where the name does not use them) and the name's own
parameters (``scheduler_specific_kwargs``). The values are chosen to reach every phase of each schedule within
:func:`horizon` steps (warmup, decay, and past the end), and to exercise the group-dependent paths (an absolute
``lr_end``/``min_lr``, Noam's absolute mode). A registered closed-form name without a case here fails
``test_every_closed_form_name_has_a_case``, so no name escapes the suites.

Group learning rates used with these cases must stay above ``MIN_GROUP_LR`` (``polynomial``'s ``lr_end`` and
``cosine_with_min_lr``'s ``min_lr`` are absolute and must be below every group's learning rate).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import hf_lr

__all__ = ["GROUP_LRS", "MIN_GROUP_LR", "REGISTRY_CASES", "RegistryCase", "closed_form_names", "halving", "horizon"]


def halving(step: int) -> float:
    """The ``lambda`` case's multiplier: a module-level function, so schedulers that use it stay picklable."""
    return 0.5 ** (step // 7)


class RegistryCase(NamedTuple):
    num_warmup_steps: int | None
    num_training_steps: int | None
    kwargs: dict[str, Any]


MIN_GROUP_LR = 1e-4
# Three groups: two share a learning rate (so they share one bound schedule), one differs.
GROUP_LRS = (1e-3, 3e-4, 1e-3)

REGISTRY_CASES: dict[str, RegistryCase] = {
    "constant": RegistryCase(None, None, {}),
    "constant_with_warmup": RegistryCase(5, None, {}),
    "linear": RegistryCase(5, 40, {}),
    "cosine": RegistryCase(5, 40, {"num_cycles": 0.5}),
    "cosine_with_restarts": RegistryCase(5, 40, {"num_cycles": 2.5}),
    "polynomial": RegistryCase(5, 40, {"lr_end": 1e-5, "power": 2.0}),
    "inverse_sqrt": RegistryCase(5, None, {"timescale": 7}),
    "cosine_with_min_lr": RegistryCase(5, 40, {"min_lr": 1e-5}),
    "cosine_warmup_with_min_lr": RegistryCase(5, 40, {"min_lr_rate": 0.1, "warmup_lr_rate": 0.05}),
    "warmup_stable_decay": RegistryCase(
        5, 40, {"num_decay_steps": 10, "decay_type": "1-sqrt", "warmup_type": "cosine", "min_lr_ratio": 0.1}
    ),
    "noam": RegistryCase(5, None, {"d_model": 64, "mode": "absolute"}),
    "lambda": RegistryCase(None, None, {"lr_lambda": halving}),
}


def closed_form_names() -> list[str]:
    """Every registered name that is a closed-form function of the step (``reduce_lr_on_plateau`` is not)."""
    return [name for name in hf_lr.list_schedules() if hf_lr.get_schedule_entry(name).closed_form]


def horizon(name: str) -> int:
    """A number of updates that covers every phase of ``name``'s case and 25 steps past its end."""
    case = REGISTRY_CASES[name]
    return max(case.num_training_steps or 0, case.num_warmup_steps or 0) + 25
