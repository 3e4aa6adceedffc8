"""Safe expressions for custom lambdas: the grammar, the limits, and fuzzing with malicious and random input."""

from __future__ import annotations

import builtins
import math
import pickle
import re
from typing import Any

import numpy as np
import pytest
from conftest import make_optimizer, trajectory
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import hf_lr
from hf_lr.expression import MAX_DEPTH, MAX_LENGTH, Expression, parse_expression


@pytest.mark.parametrize(
    ("text", "params", "expected"),
    [
        ("min(1, step / 100) * 0.5 ** (step // 1000)", {}, lambda k: min(1, k / 100) * 0.5 ** (k // 1000)),
        (
            "1 if step < w else exp(-(step - w) / tau)",
            {"w": 10, "tau": 50},
            lambda k: 1.0 if k < 10 else math.exp(-(k - 10) / 50),
        ),
        ("clip(1 - step / 300, 0.1, 1)", {}, lambda k: min(max(1 - k / 300, 0.1), 1)),
        (
            "0.5 * (1 + cos(pi * step / 400)) if 0 <= step <= 400 else 0",
            {},
            lambda k: 0.5 * (1 + math.cos(math.pi * k / 400)) if k <= 400 else 0.0,
        ),
        (
            "max(0.1, 1 - sqrt(step / 500)) if not step > 500 else 0.1",
            {},
            lambda k: max(0.1, 1 - math.sqrt(k / 500)) if k <= 500 else 0.1,
        ),
        (
            "(step % 100) / 100 + floor(step / 100) * 0 + abs(-1) - 1 + ceil(0.2) - round(0.4) - log(e) + 1",
            {},
            lambda k: (k % 100) / 100 + 1,
        ),
        ("step > 10 and step < 20 or step == 50", {}, lambda k: float(10 < k < 20 or k == 50)),
    ],
)
def test_expressions_evaluate_like_python(text: str, params: dict[str, float], expected: Any) -> None:
    schedule = Expression(text, params)
    steps = list(range(0, 1200, 7)) + [10, 50, 400, 500, 501]
    assert [schedule(k) for k in steps] == pytest.approx([expected(k) for k in steps], rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(schedule.values(steps), [schedule(k) for k in steps], rtol=1e-12, atol=1e-15)


def test_through_get_scheduler_json_ready_and_resumable() -> None:
    kwargs = {
        "lr_lambda": "min(1, (step + 1) / num_warmup_steps) * decay ** (step // period)",
        "params": {"decay": 0.5, "period": 10},
    }
    make = lambda o, **r: hf_lr.get_scheduler(
        "lambda", o, num_warmup_steps=4, scheduler_specific_kwargs=dict(kwargs), **r
    )
    lrs = [row[0] for row in trajectory(make, 30, (1.0,), train=False)]
    assert lrs == pytest.approx([min(1, (k + 1) / 4) * 0.5 ** (k // 10) for k in range(30)], rel=1e-15)
    scheduler = make(make_optimizer((1.0,)), completed_steps=17)
    assert scheduler.get_last_lr()[0] == lrs[17]
    config = scheduler.state_dict()["hf_lr"]["schedules"][0]
    assert config == {
        "type": "Expression",
        "expression": kwargs["lr_lambda"],
        "params": {"decay": 0.5, "num_warmup_steps": 4.0, "period": 10.0},
    }
    copy = pickle.loads(pickle.dumps(scheduler))
    assert copy.get_last_lr() == scheduler.get_last_lr() and copy.schedules[0] == scheduler.schedules[0]


MALICIOUS = [
    "__import__('os').system('echo pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd').read()",
    "step.real",
    "step.__class__",
    "[step] * 10",
    "{'a': 1}",
    "(lambda: 1)()",
    "[x for x in (1, 2)]",
    "f'{step}'",
    "'a' * 10",
    "b'x'",
    "eval('1')",
    "exec('x=1')",
    "globals()",
    "min(*[1, 2])",
    "min(1, key=abs)",
    "x := 1",
    "step if step else __builtins__",
    "os",
    "sqrt",
    "1j",
    "True + 1",
    "None",
    "...",
    "step[0]",
    "9 ** 999999",
    "2 ** " + "1" * 400,  # an exponent beyond float64: OverflowError on main
    "1" * 400 + " * step",
    "2 ** 'a'",
    "2 ** -5000",
    "1e999",
    "-" * 40 + "1",
    "(" * 490 + "1" + ")" * 490,
    "1 + " * 300 + "1",
    "x" * (MAX_LENGTH + 1),
    "",
    "   ",
    "1 +",
    "import os",
    "step; 1",
]


@pytest.mark.parametrize("text", MALICIOUS)
def test_malicious_or_invalid_input_is_rejected_with_a_clear_error(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("eval/exec must never be called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    with pytest.raises(ValueError, match="expression"):
        Expression(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("step.__class__", "Attribute is not allowed"),
        ("open('x')", "only the functions min, max, .* can be called"),
        ("step + 'x'", "only numbers are allowed as constants, got 'x'"),
        ("step * foo", r"unknown name 'foo' \(known: e, pi, step\)"),
        ("9 ** 9999", "exponent 9999 is too large"),
        ("x" * (MAX_LENGTH + 1), f"longer than {MAX_LENGTH} characters"),
        ("-" * 40 + "1", f"nested more than {MAX_DEPTH} levels deep"),
        ("min(1)", r"min\(\) takes 2 to 8 arguments, got 1"),
    ],
)
def test_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_expression(text)


@pytest.mark.parametrize(
    ("text", "step"), [("1 / (step - 3)", 3), ("exp(step)", 1000), ("log(step - 5)", 2), ("2 ** (10 ** 100)", 0)]
)
def test_runtime_failures_raise_a_value_error_naming_the_step(text: str, step: int) -> None:
    schedule = Expression(text)
    with pytest.raises(ValueError, match=rf"failed at step {step}"):
        schedule(step)
    with pytest.raises(ValueError, match=rf"failed at step {step}"):
        schedule.values([step])


def test_a_negative_expression_value_never_reaches_the_optimizer() -> None:
    optimizer = make_optimizer()
    scheduler = hf_lr.get_scheduler("lambda", optimizer, scheduler_specific_kwargs={"lr_lambda": "1 - step / 2"})
    optimizer.step()
    scheduler.step()
    optimizer.step()
    scheduler.step()
    optimizer.step()
    with pytest.raises(ValueError, match="-0.5 at step 3"):
        scheduler.step()


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match=r"`params` names must be identifiers"):
        Expression("step * x", {"step": 1})
    with pytest.raises(ValueError, match=r"params\['x'\]` must be finite"):
        Expression("step * x", {"x": math.nan})
    with pytest.raises(TypeError, match="`params` go with an expression string"):
        hf_lr.get_scheduler(
            "lambda", make_optimizer(), scheduler_specific_kwargs={"lr_lambda": abs, "params": {"x": 1}}
        )


TOKENS = [
    "step", "x", "1", "2.5", "0", "pi", "e", "+", "-", "*", "/", "//", "%", "**", "(", ")", ",", "<", "<=", "==", "!=",
    "and", "or", "not", "if", "else", "min", "max", "exp", "log", "sqrt", "cos", "clip", "floor", " ", "__class__", ".",
    "[", "]", "'", "lambda", ":", "import", "os", "__import__", "1e308", "9" * 20,
]  # fmt: skip


def _check(text: str) -> None:
    try:
        schedule = Expression(text, {"x": 3.0})
    except (ValueError, TypeError):
        return
    for step in (0, 1, 7, 10**6):
        try:
            value = schedule(step)
        except ValueError:
            continue
        assert isinstance(value, float)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_fuzz_token_soup_only_raises_the_documented_errors(text: str) -> None:
    _check(text)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_fuzz_random_text_only_raises_the_documented_errors(text: str) -> None:
    _check(text)


@settings(max_examples=150, deadline=2000)
@example(
    ["step"] * 5, ["+", "**", "%", "+", "+"]
)  # "step + step ** step % step + step": once flaky (differed at step 17)
@given(
    st.lists(st.sampled_from(["step", "x", "1", "2", "0.5"]), min_size=1, max_size=6),
    st.lists(st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]), min_size=5, max_size=5),
)
def test_fuzz_valid_arithmetic_scalar_and_vector_forms_agree(operands: list[str], operators: list[str]) -> None:
    """One step at a time (the scheduler) and all at once (``lr_curve``) give the same numbers, bit for bit, and refuse
    at the same first step with the same message (``step ** step % step`` turns a one-ulp difference into any value)."""
    text = operands[0] + "".join(f" {op} {operand}" for op, operand in zip(operators, operands[1:]))
    schedule = Expression(text, {"x": 3.0})
    scalars, refusal = [], None
    for step in range(60):
        try:
            scalars.append(schedule(step))
        except ValueError as error:
            refusal = str(error)
            assert f" at step {step}" in refusal
            break
    if refusal is None:
        assert schedule.values(np.arange(60)).tolist() == scalars
    else:
        with pytest.raises(ValueError) as error:
            schedule.values(np.arange(60))
        assert str(error.value) == refusal
        assert schedule.values(np.arange(len(scalars))).tolist() == scalars


@pytest.mark.parametrize(
    ("text", "params", "step", "part"),
    [
        ("abs((step - 3) ** 0.5)", {}, 0, "(step - 3) ** 0.5 is nan"),  # complex maths: Python would give 1.732
        ("(step - 5) ** 0.5", {}, 0, "(step - 5) ** 0.5 is nan"),  # Python: a complex number, then a bare TypeError
        ("min(1, x * 10 - x * 10)", {"x": 1e308}, 0, "x * 10 is inf"),  # min(1, nan) hides the NaN in Python
        ("max(0, log(step - 2))", {}, 0, "log(step - 2) is nan"),
        ("1 if step < 5 else exp(step)", {}, 710, "exp(step) is inf"),
    ],
)
def test_no_complex_nan_or_overflow_is_hidden_and_both_forms_refuse_alike(
    text: str, params: dict[str, float], step: int, part: str
) -> None:
    schedule = Expression(text, params)
    message = rf"expression .* failed at step {step}: {re.escape(part)}, not a finite real number"
    with pytest.raises(ValueError, match=message):
        schedule(step)
    with pytest.raises(ValueError, match=message):
        schedule.values(range(step + 3))
    with pytest.raises(ValueError, match=message):
        hf_lr.lr_curve("lambda", step + 3, lr_lambda=text, params=params)
    with pytest.raises(ValueError, match=message):  # the scheduler, at construction (step 0) or when it gets there
        optimizer = make_optimizer()
        scheduler = hf_lr.get_scheduler(
            "lambda", optimizer, scheduler_specific_kwargs={"lr_lambda": text, "params": params}
        )
        for _ in range(step):
            optimizer.step()
            scheduler.step()


def test_only_the_branch_taken_counts() -> None:
    schedule = Expression("1 / (step - 3) if step != 3 else 0.5")
    expected = [1 / (k - 3) if k != 3 else 0.5 for k in range(4, 8)]
    assert [schedule(k) for k in range(3, 8)] == [0.5, *expected]
    assert schedule.values(range(3, 8)).tolist() == [0.5, *expected]
