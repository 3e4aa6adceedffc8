"""Safe multiplier expressions: custom lambdas that travel through JSON and the command line.

``Expression("min(1, step / warmup) * decay ** (step // period)", {"warmup": 100, "decay": 0.5, "period": 1000})``
is a closed-form :class:`~hf_lr.Schedule` whose configuration is the text and its parameters, so a scheduler built
from it pickles, resumes and records itself like any other. The text is parsed with Python's ``ast`` and checked
against a small grammar before anything runs; it is then evaluated by walking that checked tree (never ``eval``):

- numbers, ``step``, the declared parameters, ``pi`` and ``e``;
- ``+ - * / // % **``, unary ``-``/``+``, comparisons (chains too), ``and``/``or``/``not``, ``a if cond else b``;
- calls of ``min``, ``max``, ``abs``, ``exp``, ``log``, ``log2``, ``log10``, ``sqrt``, ``cos``, ``sin``, ``tan``,
  ``tanh``, ``floor``, ``ceil``, ``round``, ``clip(x, low, high)``.

Anything else — attribute access, subscripts, strings, lambdas, comprehensions, other calls, keyword arguments — is
rejected with a ``ValueError`` naming it, as are texts over 1000 characters, over 200 syntax nodes or over 32 levels
deep, and literal exponents above 1024.

Values are real float64 numbers, computed with numpy's operations whether one step is evaluated (the scheduler) or
many at once (:func:`~hf_lr.lr_curve`), so both give the same numbers. An operation that yields no finite real number
(an overflow, a division by zero, ``x ** 0.5`` of a negative ``x``, ``log(0)``) fails that step with a ``ValueError``
naming the expression, the step and the sub-expression, even when a later ``min``, ``max`` or comparison would hide it;
the scheduler and ``lr_curve`` refuse at the same step with the same message. Only the branch a conditional takes
counts: ``1 / (step - 3) if step != 3 else 0`` is fine at step 3. A negative value is refused the same way (it cannot
be a learning-rate multiplier).
"""

from __future__ import annotations

import ast
import dataclasses
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hf_lr._validation import check_bool, check_float, short_repr
from hf_lr.schedules import LambdaSchedule, Schedule, _set

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "MAX_LITERAL_EXPONENT", "MAX_NODES", "Expression", "parse_expression"]

MAX_LENGTH = 1000
MAX_NODES = 200
MAX_DEPTH = 32
MAX_LITERAL_EXPONENT = 1024.0
CONSTANTS = {"pi": math.pi, "e": math.e}
RESERVED = frozenset({"step"} | set(CONSTANTS))


def _reduce(function: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        result = values[0]
        for value in values[1:]:
            result = function(result, value)
        return result

    return apply


# numpy ufuncs only, for one step and for many: the same float64 operations give the same numbers (Python's `**` and
# math.pow round differently from numpy's vector power, and a `%` after it turns one ulp into any value).
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # name: (function, min args, max args)
    "min": (_reduce(np.minimum), 2, 8),
    "max": (_reduce(np.maximum), 2, 8),
    "abs": (np.abs, 1, 1),
    "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1),
    "log2": (np.log2, 1, 1),
    "log10": (np.log10, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "cos": (np.cos, 1, 1),
    "sin": (np.sin, 1, 1),
    "tan": (np.tan, 1, 1),
    "tanh": (np.tanh, 1, 1),
    "floor": (np.floor, 1, 1),
    "ceil": (np.ceil, 1, 1),
    "round": (np.round, 1, 1),
    "clip": (np.clip, 3, 3),
}
SCALAR_FUNCTIONS = FUNCTIONS  # the grammar's function names (kept for callers of the earlier name)
# The functions that can turn finite arguments into a value that is not a finite real number.
UNSAFE_FUNCTIONS = frozenset({"exp", "log", "log2", "log10", "sqrt"})

BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide,
    ast.Mod: np.remainder,
    ast.Pow: np.power,
}
COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Name, ast.Constant,
    ast.Load, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, *BINARY, *COMPARE,
)  # fmt: skip


def _reject(source: str, what: str) -> ValueError:
    return ValueError(f"expression {source[:80]!r}: {what}")


def _depth(node: ast.AST) -> int:
    children = list(ast.iter_child_nodes(node))
    return 1 + max((_depth(child) for child in children), default=0)


def parse_expression(source: str, names: frozenset[str] = frozenset()) -> ast.Expression:
    """Parse and check ``source`` against the grammar; ``names`` are the declared parameters.

    Example:
        >>> from hf_lr.expression import parse_expression
        >>> type(parse_expression("min(1, step / 10)")).__name__
        'Expression'
        >>> parse_expression("step.__class__")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: expression 'step.__class__': Attribute is not allowed (only arithmetic, comparisons, ...)
    """
    if not isinstance(source, str):
        raise TypeError(f"an expression must be a string, got {source!r} ({type(source).__name__})")
    if len(source) > MAX_LENGTH:
        raise _reject(source, f"longer than {MAX_LENGTH} characters ({len(source)})")
    if not source.strip():
        raise _reject(source, "empty")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        raise _reject(source, f"not valid syntax ({error.msg})") from None
    except (RecursionError, MemoryError, ValueError):
        raise _reject(source, "too deeply nested") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise _reject(source, f"more than {MAX_NODES} syntax nodes ({len(nodes)})")
    try:
        depth = _depth(tree)
    except RecursionError:
        depth = MAX_DEPTH + 1
    if depth > MAX_DEPTH:
        raise _reject(source, f"nested more than {MAX_DEPTH} levels deep")
    for node in nodes:
        if not isinstance(node, ALLOWED):
            raise _reject(
                source,
                f"{type(node).__name__} is not allowed (only arithmetic, comparisons, conditionals and the "
                f"functions {', '.join(SCALAR_FUNCTIONS)})",
            )
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, (int, float))
        ):
            raise _reject(source, f"only numbers are allowed as constants, got {node.value!r}")
        if isinstance(node, ast.Constant) and not _finite_constant(node.value):  # type: ignore[arg-type]
            raise _reject(source, f"constants must be finite float64 numbers, got {short_repr(node.value)}")
        if (
            isinstance(node, ast.Name)
            and node.id not in RESERVED
            and node.id not in names
            and node.id not in SCALAR_FUNCTIONS
        ):
            declared = ", ".join(sorted(RESERVED | names))
            raise _reject(source, f"unknown name {node.id!r} (known: {declared})")
        if isinstance(node, ast.Name) and node.id in SCALAR_FUNCTIONS and not _is_called(node, nodes):
            raise _reject(source, f"function {node.id!r} must be called")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in SCALAR_FUNCTIONS:
                raise _reject(source, f"only the functions {', '.join(SCALAR_FUNCTIONS)} can be called")
            if node.keywords:
                raise _reject(source, "keyword arguments are not allowed")
            _, low, high = SCALAR_FUNCTIONS[node.func.id]
            if not low <= len(node.args) <= high:
                raise _reject(source, f"{node.func.id}() takes {low} to {high} arguments, got {len(node.args)}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = node.right
            if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.operand, ast.Constant):
                exponent = exponent.operand
            if (
                isinstance(exponent, ast.Constant)
                and type(exponent.value) in (int, float)
                and not (
                    _finite_constant(exponent.value) and abs(float(exponent.value)) <= MAX_LITERAL_EXPONENT  # type: ignore[arg-type]
                )
            ):
                raise _reject(
                    source, f"exponent {short_repr(exponent.value)} is too large (at most {MAX_LITERAL_EXPONENT:g})"
                )
    return tree


def _finite_constant(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer literal beyond float64's range
        return False


def _is_called(name: ast.Name, nodes: list[ast.AST]) -> bool:
    return any(isinstance(node, ast.Call) and node.func is name for node in nodes)


class _NotReal(Exception):
    """Raised in single-step evaluation by the first operation whose value is not a finite real number."""

    def __init__(self, node: ast.AST, value: Any) -> None:
        super().__init__()
        self.node, self.value = node, value


Bad = Any  # a boolean array (or numpy bool) of the steps where the value is not a finite real number, or None


def _either(*bads: Bad) -> Bad:
    present = [bad for bad in bads if bad is not None]
    return _reduce(np.logical_or)(*present) if present else None


def _real(node: ast.AST, value: Any, bad: Bad, single: bool) -> tuple[Any, Bad]:
    """``value`` with the steps where this operation made it non-finite (NaN stands for complex) marked bad."""
    finite = np.isfinite(value)
    if finite.all():
        return value, bad
    if single:
        raise _NotReal(node, value)
    return value, _either(bad, ~finite)


def _evaluate(node: ast.AST, env: Mapping[str, Any], single: bool) -> tuple[Any, Bad]:
    """Walk a checked tree with numpy float64 operations: ``(values, bad steps)``.

    ``single``: one step (a 1-element array), conditionals take one branch and the first operation that gives no
    finite real number raises :class:`_NotReal`; else element-wise conditionals, and the failing steps are returned.
    Both run the same operations on the same float64 values.
    """
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env, single)
    if isinstance(node, ast.Constant):
        return np.float64(node.value), None  # type: ignore[arg-type]
    if isinstance(node, ast.Name):
        return env[node.id], None
    if isinstance(node, ast.BinOp):
        (left, left_bad), (right, right_bad) = _evaluate(node.left, env, single), _evaluate(node.right, env, single)
        return _real(node, BINARY[type(node.op)](left, right), _either(left_bad, right_bad), single)
    if isinstance(node, ast.UnaryOp):
        operand, bad = _evaluate(node.operand, env, single)
        if isinstance(node.op, ast.Not):
            return np.logical_not(operand).astype(np.float64), bad
        return (np.negative(operand) if isinstance(node.op, ast.USub) else operand), bad
    if isinstance(node, ast.BoolOp):
        values, bads = zip(*(_evaluate(value, env, single) for value in node.values))
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return _reduce(combine)(*values).astype(np.float64), _either(*bads)
    if isinstance(node, ast.Compare):
        left, bad = _evaluate(node.left, env, single)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators):
            right, right_bad = _evaluate(right_node, env, single)
            result, bad = np.logical_and(result, COMPARE[type(op)](left, right)), _either(bad, right_bad)
            left = right
        return np.asarray(result).astype(np.float64), bad
    if isinstance(node, ast.IfExp):
        test, test_bad = _evaluate(node.test, env, single)
        if single:  # only the branch taken is evaluated (and can fail)
            return _evaluate(node.body if np.ravel(test)[0] != 0 else node.orelse, env, single)
        (body, body_bad), (orelse, orelse_bad) = _evaluate(node.body, env, single), _evaluate(node.orelse, env, single)
        taken = test != 0
        branch_bad = (
            None
            if body_bad is None and orelse_bad is None
            else np.where(taken, body_bad is not None and body_bad, orelse_bad is not None and orelse_bad)
        )
        return np.where(taken, body, orelse), _either(test_bad, branch_bad)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args, bads = zip(*(_evaluate(arg, env, single) for arg in node.args))
        value = FUNCTIONS[node.func.id][0](*args)
        if node.func.id in UNSAFE_FUNCTIONS:
            return _real(node, value, _either(*bads), single)
        return value, _either(*bads)
    raise AssertionError(f"unchecked node {type(node).__name__}")  # pragma: no cover - parse_expression rejects it


@dataclasses.dataclass(frozen=True, eq=False)
class Expression(Schedule):
    """A multiplier written as a safe expression of ``step`` and declared parameters (see the module docstring).

    Args:
        expression (`str`):
            The formula, e.g. ``"min(1, step / warmup) * 0.5 ** (step // 1000)"``.
        params (`dict[str, float]`, *optional*):
            Values of the other names it uses.

    Example:
        >>> from hf_lr.expression import Expression
        >>> s = Expression("min(1, step / warmup) * decay ** (step // 4)", {"warmup": 2, "decay": 0.5})
        >>> s.values(range(9)).tolist()
        [0.0, 0.5, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
        >>> s.config()  # doctest: +NORMALIZE_WHITESPACE
        {'type': 'Expression', 'expression': 'min(1, step / warmup) * decay ** (step // 4)',
         'params': {'decay': 0.5, 'warmup': 2.0}}
    """

    expression: str
    params: dict[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.params, Mapping):
            raise TypeError(f"`params` must be a dict of names to numbers, got {self.params!r}")
        params = {}
        for name, value in sorted(self.params.items()):
            if not isinstance(name, str) or not name.isidentifier() or name in RESERVED or name in SCALAR_FUNCTIONS:
                raise ValueError(
                    f"`params` names must be identifiers other than {sorted(RESERVED)} and function names, got {name!r}"
                )
            params[name] = check_float(f"params[{name!r}]", value)
        object.__setattr__(self, "_tree", parse_expression(self.expression, frozenset(params)))
        _set(self, expression=str(self.expression), params=params)  # a numpy string as a plain one (loadable states)
        object.__setattr__(self, "_env", self._constants())

    def _constants(self) -> dict[str, Any]:
        return {name: np.float64(value) for name, value in {**CONSTANTS, **self.params}.items()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and (other.expression, other.params) == (self.expression, self.params)

    def __hash__(self) -> int:
        return hash((Expression, self.expression, tuple(self.params.items())))

    def __getstate__(self) -> dict[str, Any]:
        return {"expression": self.expression, "params": self.params}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "expression", state["expression"])
        object.__setattr__(self, "params", state["params"])
        object.__setattr__(self, "_tree", parse_expression(self.expression, frozenset(self.params)))
        object.__setattr__(self, "_env", self._constants())

    def __call__(self, step: int) -> float:
        # One step as a 1-element array: exactly the operations `values` runs on many (see the module docstring).
        env = {**self._env, "step": np.array([step], dtype=np.float64)}  # type: ignore[attr-defined]
        try:
            with np.errstate(all="ignore"):
                value, _ = _evaluate(self._tree, env, single=True)  # type: ignore[attr-defined]
        except _NotReal as failure:
            source = self.expression.strip()
            part = ast.get_source_segment(source, failure.node) or source
            raise ValueError(
                f"expression {self.expression[:80]!r} failed at step {step}: {part[:80]} is {np.ravel(failure.value)[0]}, "
                "not a finite real number (overflow, division by zero, or outside the domain, e.g. x ** 0.5 of x < 0)"
            ) from None
        value = float(np.ravel(value)[0])
        if value < 0.0:
            raise ValueError(
                f"expression {self.expression[:80]!r} gives {value} at step {step}; a learning-rate multiplier must be >= 0"
            )
        return value

    def _values(self, steps: np.ndarray) -> np.ndarray:
        env = {**self._env, "step": steps.astype(np.float64)}  # type: ignore[attr-defined]
        with np.errstate(all="ignore"):
            value, bad = _evaluate(self._tree, env, single=False)  # type: ignore[attr-defined]
        values = np.array(np.broadcast_to(value, steps.shape), dtype=np.float64)
        bad = values < 0.0 if bad is None else np.broadcast_to(bad, steps.shape) | (values < 0.0)
        if bad.any():  # the first failing step, named (and explained) by the single-step form
            self(int(steps.ravel()[np.argmax(bad.ravel())]))
            raise AssertionError("the single-step and vectorized forms disagree")  # pragma: no cover
        return values


# The translator of the registered name `lambda` (see `hf_lr.names`): a function or an expression string.
def _lambda(
    lr_lambda: Callable[[int], float] | str,
    params: dict[str, float] | None = None,
    vectorized: bool = False,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
) -> Schedule:
    vectorized = check_bool("vectorized", vectorized)
    if params is not None and not isinstance(params, Mapping):
        raise TypeError(
            f"`params` must be a dict of names to numbers, got {short_repr(params)} ({type(params).__name__})"
        )
    if isinstance(lr_lambda, str):  # a safe expression: fits JSON and the command line, pickles, resumes
        names = dict(params or {})
        for key, value in (("num_warmup_steps", num_warmup_steps), ("num_training_steps", num_training_steps)):
            if value is not None and key in lr_lambda:
                names[key] = value
        try:
            return Expression(lr_lambda, names)  # always vectorized
        except (TypeError, ValueError) as error:
            raise type(error)(f"`lr_lambda`: {error}") from None
    if params:
        raise TypeError("`params` go with an expression string in `lr_lambda`, not with a function")
    if num_warmup_steps:
        warnings.warn(
            f"schedule 'lambda' with a function has no warmup: num_warmup_steps={num_warmup_steps} is ignored "
            "(use it inside an expression, or write it into your function)",
            UserWarning,
            stacklevel=4,
        )
    return LambdaSchedule(lr_lambda, vectorized=vectorized)
