"""One table of test parameters per registered schedule name, shared by every registry-parametrized suite.

A new name gets tested everywhere by adding one entry here; ``test_registry.py`` fails while a registered name has no
entry. Each case knows:

- ``examples``: concrete ``(num_warmup_steps, num_training_steps, kwargs)`` for resume, state and pickle tests;
- ``strategy``: a hypothesis strategy of such triples for the property tests;
- ``shape(w, t, kwargs)``: the promise the schedule makes, ``(peak, end)`` meaning non-decreasing on steps
  ``[0, peak]`` and non-increasing on ``[peak, end]`` (``(peak, start, end)``: falling on ``[start, end]`` only), or
  ``None`` when it promises no monotonicity there;
- ``jumps_only_to_one``: its documented discontinuities are restarts, which jump up to the peak;
- ``continuous``: ``False`` for schedules that are steps by definition (``step``, ``multistep``, ...).

The examples after each name's first one also exercise the opt-in options (``warmup_start_factor``, ``hold_end``,
``steps_per_epoch``/``staircase``); the first example of a Transformers name stays one that Transformers accepts.

``STEP_LIKE`` names the parameters that are numbers of updates (scaled together with the step counts in the
continuity test).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

Triple = tuple[int | None, int | None, dict[str, Any]]


def halving_every_ten(step: int) -> float:
    """A module-level (hence picklable) multiplier for the ``lambda`` entry."""
    return 0.5 ** (step // 10)


@dataclasses.dataclass(frozen=True)
class Case:
    examples: tuple[Triple, ...]
    strategy: Any
    shape: Callable[[int, int, dict[str, Any]], tuple[int, ...] | None] = lambda w, t, kw: None
    jumps_only_to_one: bool = False
    closed_form: bool = True
    continuous: bool = True


def _lengths(min_warmup: int = 0, max_warmup: int = 400, min_decay: int = 1, max_decay: int = 800) -> Any:
    return st.tuples(st.integers(min_warmup, max_warmup), st.integers(min_decay, max_decay)).map(
        lambda wd: (wd[0], wd[0] + wd[1])
    )


def _with(kwargs: Any, lengths: Any = None) -> Any:
    lengths = lengths if lengths is not None else _lengths()
    return st.tuples(lengths, kwargs).map(lambda pair: (pair[0][0], pair[0][1], pair[1]))


def _warmup_then_decay(w: int, t: int, kw: dict[str, Any]) -> tuple[int, int]:
    return (w, t)


def _cosine_shape(w: int, t: int, kw: dict[str, Any]) -> tuple[int, int] | None:
    return (w, t) if kw.get("num_cycles", 0.5) <= 0.5 else None


def _warmup_lr_rate_shape(w: int, t: int, kw: dict[str, Any]) -> tuple[int, int, int] | None:
    # Transformers' curve rises over the warmup steps 0..w-1 and falls over w..t-1 (the floor is reached at t-1), but
    # neither phase reaches 1: the decay's first value has progress 1/(t-w) already, so the step from w-1 to w may go
    # either way (w=1, t=2, num_cycles=0.25, warmup_lr_rate=0.1: 0.1 then 0.5). No promise across that junction.
    return (max(w - 1, 0), w, t - 1) if kw.get("num_cycles", 0.5) <= 0.5 else None


def _wsd_shape(w: int, t: int, kw: dict[str, Any]) -> tuple[int, int] | None:
    if kw.get("num_cycles", 0.5) > 0.5:
        return None
    return (w, t) if t > w else (max(w - 1, 0), t)  # no stable or decay phase: straight to the floor at step w


STEP_LIKE = frozenset(
    {
        "num_decay_steps", "num_stable_steps", "timescale", "T_max", "T_0", "total_steps", "step_size_up",
        "step_size_down", "total_iters", "t_initial", "hold_steps", "decay_steps", "step_size",
    }
)  # fmt: skip

BIG = 10_000
cycles = st.floats(0.05, 3.0, allow_nan=False)
warmups = st.one_of(st.none(), st.integers(0, 60))
gammas = st.floats(0.5, 1.0)


def _optional_warmup(kwargs: Any, training: Any = st.none()) -> Any:
    """(w, t, kwargs) for names whose warmup is optional: None, 0 or some updates."""
    return st.tuples(warmups, training, kwargs).map(lambda p: (p[0], p[1], p[2]))


def _after_warmup(w: int | None, t: int | None, kw: dict[str, Any]) -> tuple[int, int]:
    return (w or 0, BIG)


rates = st.floats(0.0, 1.0, allow_nan=False)


def _epochs(kwargs: Any, staircase: bool = True) -> Any:
    """``kwargs`` with or without lengths in epochs: ``steps_per_epoch`` (and ``staircase`` where jumps are allowed)."""
    epochs = st.one_of(
        st.just({}),
        st.fixed_dictionaries(
            {"steps_per_epoch": st.integers(1, 4), "staircase": st.booleans() if staircase else st.just(False)}
        ),
    )
    return st.tuples(kwargs, epochs).map(lambda pair: {**pair[0], **pair[1]})


def _timm_in_epochs(p: tuple[Any, ...]) -> Triple:
    """timm with t_in_epochs: ``t_initial`` in epochs, warmup (updates) a whole number of epochs."""
    w, t_initial, kwargs, steps_per_epoch, staircase = p
    return (
        (w or 0) * steps_per_epoch,
        None,
        {"t_initial": t_initial, **kwargs, "steps_per_epoch": steps_per_epoch, "staircase": staircase},
    )


_TIMM_KWARGS = st.fixed_dictionaries(
    {
        "lr_min": st.floats(0.0, 0.05),
        "cycle_mul": st.floats(1.0, 2.0),
        "cycle_decay": st.floats(0.3, 1.0),
        "cycle_limit": st.integers(1, 4),
        "k_decay": st.floats(0.5, 2.0),
        "warmup_lr_init": st.floats(0.0, 0.05),
        "warmup_prefix": st.booleans(),
    }
)

CASES: dict[str, Case] = {
    "constant": Case(((None, None, {}),), st.just((None, None, {})), lambda w, t, kw: (0, 10_000)),
    "constant_with_warmup": Case(
        ((0, None, {}), (5, None, {}), (5, None, {"warmup_start_factor": 0.3})),
        st.integers(0, 400).map(lambda w: (w, None, {})),
        lambda w, t, kw: (w, 10_000),
    ),
    "linear": Case(
        ((0, 20, {}), (5, 20, {}), (20, 20, {}), (5, 20, {"warmup_start_factor": 0.25})),
        _with(st.just({})),
        _warmup_then_decay,
    ),
    "cosine": Case(
        (
            (0, 20, {}),
            (5, 20, {"num_cycles": 1.5}),
            (3, 3, {}),
            (5, 20, {"hold_end": True, "warmup_start_factor": 0.1}),
            (2, 10, {"num_cycles": 0.75, "hold_end": True}),
        ),
        _with(st.fixed_dictionaries({"num_cycles": cycles})),
        _cosine_shape,
    ),
    "cosine_with_restarts": Case(
        (
            (0, 20, {}),
            (4, 24, {"num_cycles": 3}),
            (2, 12, {"num_cycles": 1.5}),
            (4, 24, {"num_cycles": 2, "warmup_start_factor": 0.5}),
        ),
        _with(st.fixed_dictionaries({"num_cycles": cycles})),
        lambda w, t, kw: (w, t) if kw.get("num_cycles", 1) <= 1 else None,
        jumps_only_to_one=True,
    ),
    "polynomial": Case(
        (
            (0, 20, {}),
            (5, 20, {"lr_end": 1e-3, "power": 2.0}),
            (20, 20, {}),
            (5, 20, {"lr_end": 1e-3, "warmup_start_factor": 0.2}),
        ),
        _with(st.fixed_dictionaries({"lr_end": st.floats(0.0, 0.09), "power": st.floats(0.1, 4.0)})),
        _warmup_then_decay,
    ),
    "inverse_sqrt": Case(
        ((0, None, {}), (5, None, {"timescale": 3}), (5, None, {}), (5, None, {"warmup_start_factor": 0.1})),
        st.tuples(st.integers(0, 400), st.one_of(st.none(), st.integers(1, 1000))).map(
            lambda p: (p[0], None, {} if p[1] is None else {"timescale": p[1]})
        ),
        lambda w, t, kw: (w, 10_000),
    ),
    "cosine_with_min_lr": Case(
        (
            (0, 20, {"min_lr_rate": 0.1}),
            (5, 20, {"min_lr": 1e-3}),
            (4, 4, {"min_lr_rate": 0.0}),
            (5, 20, {"min_lr": 1e-3, "hold_end": True, "warmup_start_factor": 0.2}),
        ),
        _with(
            st.one_of(
                st.fixed_dictionaries({"min_lr_rate": rates, "num_cycles": cycles}),
                st.fixed_dictionaries({"min_lr": st.floats(0.0, 0.1)}),
            )
        ),
        _cosine_shape,
    ),
    "cosine_warmup_with_min_lr": Case(
        (
            (0, 20, {"min_lr_rate": 0.1}),
            (5, 20, {"min_lr": 1e-3, "warmup_lr_rate": 0.2}),
            (4, 4, {"min_lr_rate": 0.5}),
            (4, 12, {"min_lr_rate": 0.1, "hold_end": True}),
        ),
        _with(
            st.fixed_dictionaries(
                {"min_lr_rate": rates, "num_cycles": cycles},
                optional={"warmup_lr_rate": rates},
            )
        ),
        _warmup_lr_rate_shape,
    ),
    "warmup_stable_decay": Case(
        (
            (4, 20, {"num_decay_steps": 6}),
            (0, 10, {"num_decay_steps": 10, "decay_type": "1-sqrt", "min_lr_ratio": 0.1}),
            (3, None, {"num_decay_steps": 3, "num_stable_steps": 2, "warmup_type": "cosine"}),
        ),
        st.tuples(
            st.integers(0, 300),
            st.integers(0, 300),
            st.integers(0, 300),
            st.sampled_from(["linear", "cosine", "1-sqrt"]),
            st.sampled_from(["linear", "cosine", "1-sqrt"]),
            rates,
        ).map(
            lambda p: (
                p[0],
                p[0] + p[1] + p[2] if p[0] + p[1] + p[2] > 0 else 1,
                {"num_decay_steps": p[2], "warmup_type": p[3], "decay_type": p[4], "min_lr_ratio": p[5]},
            )
        ),
        _wsd_shape,
    ),
    "noam": Case(
        ((4, None, {"d_model": 16}), (10, None, {"d_model": 512, "factor": 2.0}), (3, None, {"mode": "peak"})),
        st.tuples(st.integers(1, 400), st.integers(1, 4096), st.sampled_from(["absolute", "peak", "scale"])).map(
            lambda p: (p[0], None, {"d_model": p[1], "mode": p[2]})
        ),
        lambda w, t, kw: (w - 1, 10_000),
    ),
    "lambda": Case(
        (
            (None, None, {"lr_lambda": halving_every_ten}),
            (None, None, {"lr_lambda": halving_every_ten, "vectorized": True}),
        ),
        st.just((None, None, {"lr_lambda": halving_every_ten})),
        lambda w, t, kw: (0, 10_000),
    ),
    "greedy": Case(((None, None, {"patience": 1, "min_lr": 1e-4}),), st.just((None, None, {})), closed_form=False),
    "exponential": Case(
        ((None, None, {"gamma": 0.9}), (5, None, {"gamma": 0.95, "warmup_type": "cosine"})),
        _optional_warmup(st.fixed_dictionaries({"gamma": gammas})),
        _after_warmup,
    ),
    "step": Case(
        (
            (None, None, {"step_size": 4, "gamma": 0.5}),
            (3, None, {"step_size": 5}),
            (None, None, {"step_size": 2, "gamma": 0.5, "steps_per_epoch": 3}),
            (2, None, {"step_size": 2, "steps_per_epoch": 3, "staircase": True}),
        ),
        _optional_warmup(
            _epochs(st.fixed_dictionaries({"step_size": st.integers(1, 50), "gamma": st.floats(0.05, 1.0)}))
        ),
        _after_warmup,
        continuous=False,
    ),
    "multistep": Case(
        (
            (None, None, {"milestones": [3, 7, 7], "gamma": 0.5}),
            (2, None, {"milestones": [4, 10]}),
            (None, None, {"milestones": [1, 3], "gamma": 0.5, "steps_per_epoch": 4}),
        ),
        _optional_warmup(
            _epochs(
                st.fixed_dictionaries(
                    {"milestones": st.lists(st.integers(0, 300), max_size=5), "gamma": st.floats(0.05, 1.0)}
                )
            )
        ),
        _after_warmup,
        continuous=False,
    ),
    "cosine_annealing": Case(
        (
            (None, None, {"T_max": 10}),
            (4, None, {"T_max": 8, "eta_min": 1e-3}),
            (2, 20, {}),
            (3, None, {"T_max": 4, "eta_min": 1e-3, "steps_per_epoch": 3, "hold_end": True}),
            (None, None, {"T_max": 3, "steps_per_epoch": 4, "staircase": True}),
        ),
        _optional_warmup(
            _epochs(
                st.fixed_dictionaries(
                    {"T_max": st.integers(1, 300), "eta_min": st.floats(0.0, 0.09)},
                    optional={"hold_end": st.booleans()},
                ),
                staircase=False,
            )
        ),
        lambda w, t, kw: (w or 0, (w or 0) + kw["T_max"] * kw.get("steps_per_epoch", 1)) if "T_max" in kw else None,
    ),
    "cosine_annealing_warm_restarts": Case(
        (
            (None, None, {"T_0": 5}),
            (3, None, {"T_0": 3, "T_mult": 2, "eta_min": 1e-3}),
            (None, None, {"T_0": 2, "T_mult": 2, "steps_per_epoch": 3}),
            (2, None, {"T_0": 2, "steps_per_epoch": 3, "staircase": True}),
        ),
        _optional_warmup(
            _epochs(
                st.fixed_dictionaries(
                    {"T_0": st.integers(1, 100), "T_mult": st.integers(1, 3), "eta_min": st.floats(0.0, 0.09)}
                ),
                staircase=False,  # a staircase drops at each epoch: not the documented jumps (restarts)
            )
        ),
        jumps_only_to_one=True,
    ),
    "one_cycle": Case(
        (
            (None, 20, {"max_lr": 0.05}),
            (3, None, {"total_steps": 20, "three_phase": True, "anneal_strategy": "linear"}),
        ),
        st.tuples(
            warmups, st.integers(1, 40), st.sampled_from([0.2, 0.3, 0.5]), st.sampled_from(["cos", "linear"])
        ).map(
            lambda p: (
                p[0],
                None,
                {"total_steps": 10 * p[1], "pct_start": p[2], "anneal_strategy": p[3], "max_lr": 0.05},
            )
        ),
        lambda w, t, kw: (
            (w or 0) + int(round(kw["pct_start"] * kw["total_steps"])) - 1,
            (w or 0) + kw["total_steps"] - 1,
        ),
    ),
    "cyclic": Case(
        (
            (None, None, {"base_lr": 0.01, "max_lr": 0.05, "step_size_up": 4}),
            (
                2,
                None,
                {
                    "base_lr": 0.001,
                    "max_lr": 0.04,
                    "step_size_up": 3,
                    "step_size_down": 5,
                    "mode": "exp_range",
                    "gamma": 0.99,
                },
            ),
        ),
        _optional_warmup(
            st.fixed_dictionaries(
                {
                    "base_lr": st.floats(0.0, 0.05),
                    "max_lr": st.floats(0.05, 0.1),
                    "step_size_up": st.integers(1, 60),
                    "mode": st.sampled_from(["triangular", "triangular2", "exp_range"]),
                    "gamma": gammas,
                }
            )
        ),
    ),
    "polynomial_lr": Case(
        ((None, None, {"total_iters": 10, "power": 2.0}), (3, None, {})),
        _optional_warmup(st.fixed_dictionaries({"total_iters": st.integers(1, 300), "power": st.floats(0.1, 4.0)})),
        _after_warmup,
    ),
    "linear_lr": Case(
        ((None, None, {"start_factor": 0.25, "total_iters": 8}), (2, None, {"start_factor": 1.0, "end_factor": 0.1})),
        _optional_warmup(
            st.fixed_dictionaries(
                {
                    "start_factor": st.floats(0.01, 1.0),
                    "end_factor": st.floats(0.0, 1.0),
                    "total_iters": st.integers(1, 200),
                }
            )
        ),
        lambda w, t, kw: (w or 0, BIG) if kw.get("start_factor", 1 / 3) >= kw.get("end_factor", 1.0) else None,
    ),
    "constant_lr": Case(
        ((None, None, {"factor": 0.5, "total_iters": 4}), (2, None, {})),
        _optional_warmup(st.fixed_dictionaries({"factor": st.floats(0.0, 1.0), "total_iters": st.integers(0, 100)})),
        continuous=False,
    ),
    "timm_cosine": Case(
        (
            (None, 20, {}),
            (4, 20, {"cycle_limit": 3, "cycle_decay": 0.5, "lr_min": 1e-3, "warmup_lr_init": 1e-3}),
            (3, None, {"t_initial": 6, "cycle_mul": 1.5, "cycle_limit": 3, "k_decay": 2.0, "warmup_prefix": True}),
            (4, None, {"t_initial": 5, "lr_min": 1e-3, "warmup_lr_init": 1e-3, "steps_per_epoch": 2}),
            (
                3,
                None,
                {"t_initial": 3, "cycle_limit": 2, "warmup_prefix": True, "steps_per_epoch": 3, "staircase": True},
            ),
        ),
        st.one_of(
            st.tuples(warmups, st.integers(1, 200), _TIMM_KWARGS).map(
                lambda p: (p[0], None, {"t_initial": p[1], **p[2]})
            ),
            st.tuples(st.integers(0, 15), st.integers(1, 50), _TIMM_KWARGS, st.integers(1, 4), st.booleans()).map(
                _timm_in_epochs
            ),
        ),
        continuous=False,
    ),
    "tri_stage": Case(
        (
            (2, None, {"hold_steps": 3, "decay_steps": 5}),
            (0, 20, {"phase_ratio": [0.1, 0.4, 0.5], "init_lr_scale": 0.0}),
            (4, 20, {"hold_steps": 2, "final_lr_scale": 0.05}),
        ),
        st.tuples(
            st.integers(0, 100), st.integers(0, 100), st.integers(0, 200), st.floats(0.0, 1.0), st.floats(0.001, 1.0)
        ).map(
            lambda p: (
                p[0],
                None,
                {"hold_steps": p[1], "decay_steps": p[2], "init_lr_scale": p[3], "final_lr_scale": p[4]},
            )
        ),
        # With neither hold nor decay the schedule jumps from its warmup straight to final_lr_scale: no promise.
        lambda w, t, kw: (w, BIG) if kw["hold_steps"] or kw["decay_steps"] else None,
    ),
    "warmup_hold_decay": Case(
        (
            (2, 20, {"hold_steps": 5}),
            (0, 10, {"decay_type": "linear", "min_lr_ratio": 0.1}),
            (3, 15, {"decay_type": "polynomial", "power": 2.0, "warmup_type": "cosine"}),
        ),
        st.tuples(
            st.integers(0, 100),
            st.integers(0, 100),
            st.integers(1, 300),
            st.sampled_from(["linear", "cosine", "polynomial", "1-sqrt"]),
            rates,
        ).map(lambda p: (p[0], p[0] + p[1] + p[2], {"hold_steps": p[1], "decay_type": p[3], "min_lr_ratio": p[4]})),
        _warmup_then_decay,
    ),
    "deepspeed_warmup": Case(
        ((5, None, {}), (4, None, {"warmup_type": "linear", "warmup_min_lr": 1e-3})),
        st.tuples(st.integers(1, 300), st.sampled_from(["log", "linear"]), st.floats(0.0, 0.09)).map(
            lambda p: (p[0], None, {"warmup_type": p[1], "warmup_min_lr": p[2]})
        ),
        lambda w, t, kw: (max(w, 2), BIG),
    ),
    "deepspeed_warmup_decay": Case(
        ((5, 20, {}), (4, 12, {"warmup_type": "linear", "warmup_min_lr": 1e-3})),
        st.tuples(
            st.integers(2, 200), st.integers(0, 300), st.sampled_from(["log", "linear"]), st.floats(0.0, 0.09)
        ).map(lambda p: (p[0], p[0] + p[1], {"warmup_type": p[2], "warmup_min_lr": p[3]})),
        lambda w, t, kw: (max(w, 2), t) if t > max(w, 2) else (max(w, 2) - 1, t),
    ),
    "reduce_lr_on_plateau_with_warmup": Case(((4, None, {"patience": 1}),), st.just((4, None, {})), closed_form=False),
    "reduce_lr_on_plateau": Case(((None, None, {"patience": 1}),), st.just((None, None, {})), closed_form=False),
}


def examples(closed_form_only: bool = True) -> list[Any]:
    """``pytest.param``-ready ``(name, w, t, kwargs)`` tuples for every example of every case."""
    return [
        (name, w, t, kw)
        for name, case in CASES.items()
        if case.closed_form or not closed_form_only
        for (w, t, kw) in case.examples
    ]


def example_id(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={getattr(v, '__name__', v)}" for k, v in value.items()) or "-"
    return str(value)
