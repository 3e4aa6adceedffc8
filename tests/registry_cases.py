"""One table of test parameters per registered schedule name, shared by every registry-parametrized suite.

A new name gets tested everywhere by adding one entry here; ``test_registry.py`` fails while a registered name has no
entry. Each case knows:

- ``examples``: concrete ``(num_warmup_steps, num_training_steps, kwargs)`` for resume, state and pickle tests;
- ``strategy``: a hypothesis strategy of such triples for the property tests;
- ``shape(w, t, kwargs)``: the promise the schedule makes, ``(peak, end)`` meaning non-decreasing on steps
  ``[0, peak]`` and non-increasing on ``[peak, end]``, or ``None`` when it promises no monotonicity there;
- ``jumps_only_to_one``: its documented discontinuities are restarts, which jump up to the peak.
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
    shape: Callable[[int, int, dict[str, Any]], tuple[int, int] | None] = lambda w, t, kw: None
    jumps_only_to_one: bool = False
    closed_form: bool = True


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


def _warmup_lr_rate_shape(w: int, t: int, kw: dict[str, Any]) -> tuple[int, int] | None:
    return (max(w - 1, 0), t - 1) if kw.get("num_cycles", 0.5) <= 0.5 else None


def _wsd_shape(w: int, t: int, kw: dict[str, Any]) -> tuple[int, int] | None:
    if kw.get("num_cycles", 0.5) > 0.5:
        return None
    return (w, t) if t > w else (max(w - 1, 0), t)  # no stable or decay phase: straight to the floor at step w


cycles = st.floats(0.05, 3.0, allow_nan=False)
rates = st.floats(0.0, 1.0, allow_nan=False)

CASES: dict[str, Case] = {
    "constant": Case(((None, None, {}),), st.just((None, None, {})), lambda w, t, kw: (0, 10_000)),
    "constant_with_warmup": Case(
        ((0, None, {}), (5, None, {})),
        st.integers(0, 400).map(lambda w: (w, None, {})),
        lambda w, t, kw: (w, 10_000),
    ),
    "linear": Case(((0, 20, {}), (5, 20, {}), (20, 20, {})), _with(st.just({})), _warmup_then_decay),
    "cosine": Case(
        ((0, 20, {}), (5, 20, {"num_cycles": 1.5}), (3, 3, {})),
        _with(st.fixed_dictionaries({"num_cycles": cycles})),
        _cosine_shape,
    ),
    "cosine_with_restarts": Case(
        ((0, 20, {}), (4, 24, {"num_cycles": 3}), (2, 12, {"num_cycles": 1.5})),
        _with(st.fixed_dictionaries({"num_cycles": cycles})),
        lambda w, t, kw: (w, t) if kw.get("num_cycles", 1) <= 1 else None,
        jumps_only_to_one=True,
    ),
    "polynomial": Case(
        ((0, 20, {}), (5, 20, {"lr_end": 1e-3, "power": 2.0}), (20, 20, {})),
        _with(st.fixed_dictionaries({"lr_end": st.floats(0.0, 0.09), "power": st.floats(0.1, 4.0)})),
        _warmup_then_decay,
    ),
    "inverse_sqrt": Case(
        ((0, None, {}), (5, None, {"timescale": 3}), (5, None, {})),
        st.tuples(st.integers(0, 400), st.one_of(st.none(), st.integers(1, 1000))).map(
            lambda p: (p[0], None, {} if p[1] is None else {"timescale": p[1]})
        ),
        lambda w, t, kw: (w, 10_000),
    ),
    "cosine_with_min_lr": Case(
        ((0, 20, {"min_lr_rate": 0.1}), (5, 20, {"min_lr": 1e-3}), (4, 4, {"min_lr_rate": 0.0})),
        _with(
            st.one_of(
                st.fixed_dictionaries({"min_lr_rate": rates, "num_cycles": cycles}),
                st.fixed_dictionaries({"min_lr": st.floats(0.0, 0.1)}),
            )
        ),
        _cosine_shape,
    ),
    "cosine_warmup_with_min_lr": Case(
        ((0, 20, {"min_lr_rate": 0.1}), (5, 20, {"min_lr": 1e-3, "warmup_lr_rate": 0.2}), (4, 4, {"min_lr_rate": 0.5})),
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
        ((None, None, {"lr_lambda": halving_every_ten}),),
        st.just((None, None, {"lr_lambda": halving_every_ten})),
        lambda w, t, kw: (0, 10_000),
    ),
    "greedy": Case(((None, None, {"patience": 1, "min_lr": 1e-4}),), st.just((None, None, {})), closed_form=False),
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
