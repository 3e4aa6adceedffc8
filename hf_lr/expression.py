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
deep, and literal exponents above 1024. Arithmetic is done in floats (no unbounded integer powers); a division by
zero, an overflow or a math domain error raises ``ValueError`` naming the step.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hf_lr._validation import check_float
from hf_lr.schedules import Schedule, _set

__all__ = ["Expression", "parse_expression", "MAX_LENGTH", "MAX_NODES", "MAX_DEPTH", "MAX_LITERAL_EXPONENT"]

MAX_LENGTH = 1000
MAX_NODES = 200
MAX_DEPTH = 32
MAX_LITERAL_EXPONENT = 1024.0
CONSTANTS = {"pi": math.pi, "e": math.e}
RESERVED = frozenset({"step"} | set(CONSTANTS))


def _clip(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


SCALAR_FUNCTIONS: dict[str, tuple[Callable[..., float], int, int]] = {
    # name: (function, min args, max args)
    "min": (min, 2, 8),
    "max": (max, 2, 8),
    "abs": (abs, 1, 1),
    "exp": (math.exp, 1, 1),
    "log": (math.log, 1, 1),
    "log2": (math.log2, 1, 1),
    "log10": (math.log10, 1, 1),
    "sqrt": (math.sqrt, 1, 1),
    "cos": (math.cos, 1, 1),
    "sin": (math.sin, 1, 1),
    "tan": (math.tan, 1, 1),
    "tanh": (math.tanh, 1, 1),
    "floor": (lambda x: float(math.floor(x)), 1, 1),
    "ceil": (lambda x: float(math.ceil(x)), 1, 1),
    "round": (lambda x: float(round(x)), 1, 1),
    "clip": (_clip, 3, 3),
}


def _reduce(function: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        result = values[0]
        for value in values[1:]:
            result = function(result, value)
        return result

    return apply


VECTOR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": _reduce(np.minimum),
    "max": _reduce(np.maximum),
    "abs": np.abs,
    "exp": np.exp,
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "cos": np.cos,
    "sin": np.sin,
    "tan": np.tan,
    "tanh": np.tanh,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "clip": np.clip,
}

BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
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
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, (int, float))):
            raise _reject(source, f"only numbers are allowed as constants, got {node.value!r}")
        if isinstance(node, ast.Constant) and not math.isfinite(float(node.value)):
            raise _reject(source, f"constants must be finite, got {node.value!r}")
        if isinstance(node, ast.Name) and node.id not in RESERVED and node.id not in names and node.id not in SCALAR_FUNCTIONS:
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
            if isinstance(exponent, ast.Constant) and abs(float(exponent.value)) > MAX_LITERAL_EXPONENT:
                raise _reject(source, f"exponent {exponent.value!r} is too large (at most {MAX_LITERAL_EXPONENT:g})")
    return tree


def _is_called(name: ast.Name, nodes: list[ast.AST]) -> bool:
    return any(isinstance(node, ast.Call) and node.func is name for node in nodes)


def _evaluate(node: ast.AST, env: Mapping[str, Any], vector: bool) -> Any:
    """Walk a checked tree. ``vector``: numpy arrays, element-wise conditionals."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env, vector)
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp):
        return BINARY[type(node.op)](_evaluate(node.left, env, vector), _evaluate(node.right, env, vector))
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, env, vector)
        if isinstance(node.op, ast.Not):
            return np.logical_not(operand) if vector else float(not operand)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(value, env, vector) for value in node.values]
        if vector:
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return _reduce(combine)(*values)
        return float(all(values) if isinstance(node.op, ast.And) else any(values))
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, env, vector)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, env, vector)
            test = COMPARE[type(op)](left, right)
            result = np.logical_and(result, test) if vector else (result and test)
            left = right
        return result if vector else float(result)
    if isinstance(node, ast.IfExp):
        if vector:
            return np.where(_evaluate(node.test, env, vector), _evaluate(node.body, env, vector), _evaluate(node.orelse, env, vector))
        return _evaluate(node.body, env, vector) if _evaluate(node.test, env, vector) else _evaluate(node.orelse, env, vector)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = [_evaluate(arg, env, vector) for arg in node.args]
        if vector:
            return VECTOR_FUNCTIONS[node.func.id](*args)
        return SCALAR_FUNCTIONS[node.func.id][0](*args)
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
        >>> from hf_lr import Expression
        >>> s = Expression("min(1, step / warmup) * decay ** (step // 4)", {"warmup": 2, "decay": 0.5})
        >>> s.values(range(9)).tolist()
        [0.0, 0.5, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
        >>> s.config()
        {'type': 'Expression', 'expression': 'min(1, step / warmup) * decay ** (step // 4)', 'params': {'decay': 0.5, 'warmup': 2.0}}
    """

    expression: str
    params: dict[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.params, Mapping):
            raise TypeError(f"`params` must be a dict of names to numbers, got {self.params!r}")
        params = {}
        for name, value in sorted(self.params.items()):
            if not isinstance(name, str) or not name.isidentifier() or name in RESERVED or name in SCALAR_FUNCTIONS:
                raise ValueError(f"`params` names must be identifiers other than {sorted(RESERVED)} and function names, got {name!r}")
            params[name] = check_float(f"params[{name!r}]", value)
        _set(self, params=params)
        object.__setattr__(self, "_tree", parse_expression(self.expression, frozenset(params)))

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

    def __call__(self, step: int) -> float:
        env = {**CONSTANTS, **self.params, "step": float(step)}
        try:
            value = float(_evaluate(self._tree, env, vector=False))  # type: ignore[attr-defined]
        except (ZeroDivisionError, OverflowError, ValueError) as error:
            raise ValueError(f"expression {self.expression!r} failed at step {step}: {error}") from None
        return value

    def _values(self, steps: np.ndarray) -> np.ndarray:
        env = {**CONSTANTS, **self.params, "step": steps.astype(np.float64)}
        try:
            with np.errstate(all="ignore"):
                values = np.broadcast_to(np.asarray(_evaluate(self._tree, env, vector=True), dtype=np.float64), steps.shape)
        except (ZeroDivisionError, OverflowError, ValueError):  # Python-float arithmetic in parts without `step`
            return super()._values(steps)  # the scalar form names the failing step
        bad = ~np.isfinite(values)
        if bad.any():  # find the first failing step with the scalar form, which names the error
            for step in steps.ravel()[bad.ravel()][:1]:
                self(int(step))
        return np.array(values)
