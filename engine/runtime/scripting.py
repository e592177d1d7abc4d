"""A restricted evaluator for the Python that BPMN designers write into their diagrams.

SpiffWorkflow runs script tasks, gateway conditions, timer expressions, Spiff pre/post scripts,
message payloads and loop conditions through `PythonScriptEngine`, whose default environment
calls `eval`/`exec` with full builtins (`import os` works). Here every source text is parsed
with `ast`, checked against an allow-list (no imports, loops, functions, classes, `_` names or
attributes; only a few safe builtins and string/dict/list methods), rewritten so arithmetic,
f-strings and `str.join` go through size-checked helpers, compiled once (bounded LRU) and run
with `SAFE_BUILTINS` only. `RESTRICTED_ENGINE` is the engine every `BpmnWorkflow` uses;
`check_spec` finds refused expressions at deploy time.

Refusals raise `ScriptRefused`, a SpiffWorkflow `WorkflowException`, so the library wraps it
like any script error and `Workflow._run` reports it as an `EngineFailure`.

Not bounded: wall-clock time. Without loops a script runs each statement once, but a single
operation on data at the size limits (sorting or comparing 100 000 long strings) can still
take seconds.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import CodeType
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    MultiInstanceTask,
    StandardLoopTask,
)
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.specs.MultiChoice import MultiChoice

MAX_SOURCE_CHARS = 10_000
MAX_NODES = 5_000
MAX_DEPTH = 100
MAX_ITEMS = 100_000  # characters of a string, items of a list/tuple/set/dict made by one step
MAX_INT_BITS = 4_096
MAX_DATA_UNITS = 10_000_000  # JSON-like size of task data after a script (shared parts counted
# each time they occur, as a serializer writes them); above the API's 8 MB request limit
MAX_ROUND_DIGITS = 64
CACHE_SIZE = 1_024

SAFE_METHODS = frozenset(
    {
        "get",
        "keys",
        "values",
        "items",
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "split",
        "join",
        "title",
        "capitalize",
        "isdigit",
        "isalpha",
        "count",
        "index",
        "copy",
        "append",
        "pop",
        "update",
    }
)
# Methods that change the object they belong to: scripts may call them, expressions may not
# (a condition or timer expression must not change task data behind the scripts' checks).
MUTATING_METHODS = frozenset({"append", "pop", "update"})


class ScriptRefused(WorkflowException):
    """A script or expression that the restricted evaluator will not run."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"{reason} (line {line})" if line else reason)
        self.reason = reason
        self.line = line
        self.line_number: int | None = line
        self.error_line = ""

    def __str__(self) -> str:  # the library's adds ". " even without notes
        return ". ".join([str(self.args[0]), *self.notes])


# --- run-time helpers -------------------------------------------------------------------------


def _refuse_too_long(what: str, size: int, limit: int = MAX_ITEMS) -> None:
    if size > limit:
        raise ScriptRefused(f"{what} would be too large ({size} > {limit})")


def _checked(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ScriptRefused(f"integer result too large (more than {MAX_INT_BITS} bits)")
    if isinstance(value, (str, bytes, list, tuple, set, frozenset, dict)):
        _refuse_too_long("result", len(value))
    return value


_SEQUENCES = (str, bytes, list, tuple)
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "&": operator.and_,
    "|": operator.or_,
    "^": operator.xor,
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
}


def _binop(op: str, left: Any, right: Any) -> Any:
    """`left op right` with the sizes checked before anything large is built."""
    kind = op.rstrip("=") or op
    if kind == "%" and isinstance(left, (str, bytes)):
        raise ScriptRefused("string formatting with % is not allowed")
    if kind == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, _SEQUENCES) and isinstance(count, int):
                _refuse_too_long("repeated sequence", len(seq) * count)
        if isinstance(left, int) and isinstance(right, int):
            bits = left.bit_length() + right.bit_length()
            if bits > MAX_INT_BITS + 1:
                raise ScriptRefused(f"integer result too large (more than {MAX_INT_BITS} bits)")
    if kind == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _refuse_too_long("joined sequence", len(left) + len(right))
    return _checked(_OPERATORS[op](left, right))


_CONTAINERS = (dict, list, tuple, set, frozenset)


def _atom_size(item: Any) -> int:
    if isinstance(item, (str, bytes)):
        return len(item) + 2
    if isinstance(item, int):
        return item.bit_length() // 3 + 1
    return 24


def _size_of(value: Any, limit: int, what: str = "value") -> int:
    """The JSON-like size of `value` (shared parts counted each time they occur, as a
    serializer or `str()` writes them); `ScriptRefused` once it exceeds `limit` or when the
    value contains itself.

    Each distinct container is visited once, so the cost follows what is in memory, not the
    (possibly exponential) size of the text it would become.
    """
    if not isinstance(value, _CONTAINERS):
        _refuse_too_long(what, _atom_size(value), limit)
        return _atom_size(value)
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()
    # (container, None) to visit; (container, (own size, container children)) to total up
    stack: list[tuple[Any, tuple[int, list[Any]] | None]] = [(value, None)]
    while stack:
        item, pending = stack.pop()
        key = id(item)
        if pending is not None:
            size = pending[0] + sum(sizes[id(child)] for child in pending[1])
            _refuse_too_long(what, size, limit)
            sizes[key] = size
            open_ids.discard(key)
            continue
        if key in sizes:
            continue
        if key in open_ids:
            raise ScriptRefused(f"{what} that contains itself is not allowed")
        own, inner = 2, []
        for child in (*item.keys(), *item.values()) if isinstance(item, dict) else item:
            kind = type(child)
            if kind is str:
                own += len(child) + 4
            elif kind is int or kind is bool or kind is float or child is None:
                own += 10 if kind is not int else child.bit_length() // 3 + 3
            elif isinstance(child, _CONTAINERS):
                own += 2
                inner.append(child)
            else:
                own += _atom_size(child) + 2
        _refuse_too_long(what, own, limit)
        open_ids.add(key)
        stack.append((item, (own, inner)))
        stack.extend((child, None) for child in inner if id(child) not in sizes)
    return sizes[id(value)]


def _as_text(value: Any, conversion: int = -1) -> str:
    if not isinstance(value, str):
        _size_of(value, MAX_ITEMS)
    if conversion == ord("r"):
        text = repr(value)
    elif conversion == ord("a"):
        text = ascii(value)
    elif conversion == ord("s"):
        text = str(value)
    else:
        text = format(value, "")
    return str(_checked(text))


def _concat(*parts: str) -> str:
    _refuse_too_long("f-string", sum(len(p) for p in parts))
    return "".join(parts)


def _join(separator: str, iterable: Iterable[Any]) -> str:
    items = iterable if isinstance(iterable, (list, tuple)) else list(iterable)
    _refuse_too_long("joined list", len(items))
    size = len(separator) * max(len(items) - 1, 0)
    size += sum(len(item) for item in items if isinstance(item, str))
    _refuse_too_long("joined string", size)
    return separator.join(items)


def _attribute(obj: Any, name: str) -> Any:
    if name not in SAFE_METHODS:
        raise ScriptRefused(f"attribute '.{name}' is not allowed")
    if name == "join" and isinstance(obj, str):
        return functools.partial(_join, obj)
    return getattr(obj, name)


def _safe_str(value: Any = "") -> str:
    return value if isinstance(value, str) else _as_text(value, ord("s"))


def _safe_int(value: Any = 0, base: int | None = None) -> int:
    return int(_checked(int(value) if base is None else int(value, base)))


def _safe_round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is None:
        return round(number)
    if not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS:
        raise ScriptRefused(f"round() takes at most {MAX_ROUND_DIGITS} digits")
    return round(number, ndigits)


def _safe_sum(iterable: Iterable[Any], start: Any = 0) -> Any:
    """`sum` of numbers only (adding lists one by one would take quadratic time)."""
    if not isinstance(start, (int, float)):
        raise ScriptRefused("sum() adds numbers only")
    total = start
    for item in iterable:
        if not isinstance(item, (int, float)):
            raise ScriptRefused("sum() adds numbers only")
        total = _checked(total + item)
    return total


SAFE_BUILTINS: dict[str, Any] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": _safe_round,
    "int": _safe_int,
    "float": float,
    "str": _safe_str,
    "bool": bool,
    "sorted": sorted,
    "sum": _safe_sum,
    "any": any,
    "all": all,
    "dict": dict,
    "list": list,
    "set": set,
    "tuple": tuple,
}

_BINOP = "_lapor_binop"
_ATTR = "_lapor_attr"
_FORMAT = "_lapor_format"
_CONCAT = "_lapor_concat"
_HELPERS: dict[str, Any] = {
    _BINOP: _binop,
    _ATTR: _attribute,
    _FORMAT: _as_text,
    _CONCAT: _concat,
}


# --- validation -------------------------------------------------------------------------------

_OPERATOR_SYMBOLS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}
_REFUSED_OPERATORS: dict[type, str] = {
    ast.Pow: "the power operator (**)",
    ast.LShift: "shift operators (<<)",
    ast.RShift: "shift operators (>>)",
    ast.MatMult: "the @ operator",
}
_ALLOWED_NODES: tuple[type, ...] = (
    ast.Module,
    ast.Expression,
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.If,
    ast.Pass,
    ast.Delete,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.IfExp,
    ast.Compare,
    ast.Call,
    ast.keyword,
    ast.Constant,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.Name,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.expr_context,
    ast.boolop,
    ast.cmpop,
    ast.unaryop,
    *_OPERATOR_SYMBOLS,
)
_REFUSED_NODES: dict[type, str] = {
    ast.Import: "imports",
    ast.ImportFrom: "imports",
    ast.For: "loops",
    ast.AsyncFor: "loops",
    ast.While: "loops",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.Lambda: "lambda functions",
    ast.FunctionDef: "function definitions",
    ast.AsyncFunctionDef: "function definitions",
    ast.ClassDef: "class definitions",
    ast.With: "with statements",
    ast.AsyncWith: "with statements",
    ast.Try: "try statements",
    ast.Raise: "raise statements",
    ast.Assert: "assert statements",
    ast.Global: "global declarations",
    ast.Nonlocal: "nonlocal declarations",
    ast.Await: "await expressions",
    ast.Yield: "yield expressions",
    ast.YieldFrom: "yield expressions",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.Starred: "star unpacking (*)",
    ast.AnnAssign: "annotated assignments",
    ast.Match: "match statements",
    ast.TryStar: "try statements",
}
_CONSTANT_TYPES = (str, int, float, bool, type(None))


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _refusal(node: ast.AST, expression: bool) -> str | None:
    """Why `node` is not allowed, or None."""
    kind = type(node)
    if kind in _REFUSED_NODES:
        return f"{_REFUSED_NODES[kind]} are not allowed"
    if kind in _REFUSED_OPERATORS:
        return f"{_REFUSED_OPERATORS[kind]} is not allowed"
    if not isinstance(node, _ALLOWED_NODES):
        return f"{kind.__name__} is not allowed"
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        return f"names starting with '_' are not allowed ('{node.id}')"
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            return f"attributes starting with '_' are not allowed ('.{node.attr}')"
        if not isinstance(node.ctx, ast.Load):
            return "assigning to or deleting attributes is not allowed"
        if node.attr not in SAFE_METHODS:
            return f"attribute '.{node.attr}' is not allowed"
        if expression and node.attr in MUTATING_METHODS:
            return f"method '.{node.attr}' changes data and is not allowed in an expression"
    elif isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id not in SAFE_BUILTINS:
            return f"calling '{func.id}' is not allowed"
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return "only allowed functions and methods can be called"
    elif isinstance(node, ast.keyword):
        if node.arg is None:
            return "'**' unpacking is not allowed"
        elif node.arg.startswith("_"):
            return f"names starting with '_' are not allowed ('{node.arg}')"
    elif isinstance(node, ast.Dict) and any(key is None for key in node.keys):
        return "'**' unpacking is not allowed"
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, _CONSTANT_TYPES):
            return f"{type(node.value).__name__} constants are not allowed"
        if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
            return f"integer constants larger than {MAX_INT_BITS} bits are not allowed"
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_text(node.left):
        return "string formatting with % is not allowed"
    elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        return "format specifications in f-strings are not allowed"
    elif isinstance(node, ast.AugAssign) and not isinstance(node.target, ast.Name):
        return "augmented assignment (+= ...) is only allowed to a plain name"
    return None


Position = tuple[int, int]


def _position(node: ast.AST, inherited: Position) -> Position:
    """Where `node`'s offending text starts (an attribute: its name after the dot)."""
    if isinstance(node, ast.Attribute) and node.end_lineno and node.end_col_offset is not None:
        return node.end_lineno, node.end_col_offset - len(node.attr)
    line, column = getattr(node, "lineno", None), getattr(node, "col_offset", None)
    return (line, column) if isinstance(line, int) and isinstance(column, int) else inherited


def _walk(tree: ast.AST, line_offset: int, expression: bool) -> None:
    """Refuse the first disallowed construct in reading order (or a too large tree)."""
    count = 0
    first: tuple[Position, int, str] | None = None
    stack: list[tuple[ast.AST, int, Position]] = [(tree, 0, (1, 0))]
    while stack:
        node, depth, inherited = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ScriptRefused(f"too long: more than {MAX_NODES} syntax elements")
        position = _position(node, inherited)
        if depth > MAX_DEPTH:
            raise ScriptRefused(f"nested more than {MAX_DEPTH} levels deep", position[0])
        reason = _refusal(node, expression)
        if reason is not None:
            where, rank = position, 0
            if isinstance(node, ast.Call):  # reported where its callee is: a named callee as
                # "calling 'x'", any other after what the callee itself refuses (a lambda...)
                where = _position(node.func, position)
                rank = -1 if isinstance(node.func, ast.Name) else 1
            if first is None or (where, rank) < first[:2]:
                first = (where, rank, reason)
        stack.extend((child, depth + 1, position) for child in ast.iter_child_nodes(node))
    if first is not None:
        raise ScriptRefused(first[2], first[0][0] + line_offset)


def _helper_call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])
    return ast.copy_location(call, like)


class _Rewrite(ast.NodeTransformer):
    """Route arithmetic, attribute access and f-strings through the checked helpers."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        symbol = ast.Constant(_OPERATOR_SYMBOLS[type(node.op)])
        return _helper_call(_BINOP, [symbol, node.left, node.right], node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        assert isinstance(node.target, ast.Name)  # refused otherwise by the validator
        name = node.target.id
        symbol = ast.Constant(_OPERATOR_SYMBOLS[type(node.op)] + "=")
        value = _helper_call(_BINOP, [symbol, ast.Name(name, ast.Load()), node.value], node)
        return ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], value), node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return _helper_call(_ATTR, [node.value, ast.Constant(node.attr)], node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                inner = self.visit(value.value)
                parts.append(_helper_call(_FORMAT, [inner, ast.Constant(value.conversion)], value))
            else:
                parts.append(value)
        return _helper_call(_CONCAT, parts, node)


def _parse(source: str, mode: str) -> tuple[ast.AST, int]:
    if not isinstance(source, str):
        raise ScriptRefused(f"expected Python source text, got {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise ScriptRefused(f"too long: more than {MAX_SOURCE_CHARS} characters")
    offset = 0
    if mode == "eval":  # tolerate the whitespace and line breaks of pretty-printed XML
        stripped = source.strip()
        offset = source[: len(source) - len(source.lstrip())].count("\n")
        source = stripped
    try:
        return ast.parse(source, mode=mode), offset
    except SyntaxError as exc:
        line = exc.lineno + offset if exc.lineno else None
        raise ScriptRefused(f"syntax error: {exc.msg}", line) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ScriptRefused(f"cannot parse: {exc.__class__.__name__}") from None


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile(source: str, mode: str) -> CodeType:
    tree, offset = _parse(source, mode)
    _walk(tree, offset, expression=mode == "eval")
    tree = ast.fix_missing_locations(_Rewrite().visit(tree))
    try:
        return compile(tree, "<string>", mode)
    except (SyntaxError, ValueError, RecursionError) as exc:
        raise ScriptRefused(f"cannot compile: {exc}") from None


def compile_expression(source: str) -> CodeType:
    """Validate and compile an expression (condition, timer, payload); `ScriptRefused` if not
    allowed. Cached by source text."""
    return _compile(source, "eval")


def compile_script(source: str) -> CodeType:
    """Validate and compile a script (script task, pre/post script); cached by source text."""
    return _compile(source, "exec")


def check_source(source: str, *, expression: bool) -> ScriptRefused | None:
    """The refusal for `source`, or None when it may run."""
    try:
        compile_expression(source) if expression else compile_script(source)
    except ScriptRefused as exc:
        return exc
    return None


# --- the SpiffWorkflow environment and engine ---------------------------------------------------


def _visible(key: Any) -> bool:
    return isinstance(key, str) and not key.startswith("_")


class RestrictedEnvironment(TaskDataEnvironment):
    """`TaskDataEnvironment` semantics (what a script leaves in task data) with validated code
    and `SAFE_BUILTINS` only.

    A script runs on a copy of the task data; on success, changed and new variables are written
    back, variables it deleted are deleted, and functions or external-context names are not
    kept (as the library's `_remove_globals_and_functions_from_context` does). Keys starting
    with `_` are neither visible to nor touched by scripts.
    """

    def _globals(self, external_context: dict[str, Any] | None) -> dict[str, Any]:
        names = {k: v for k, v in (external_context or {}).items() if _visible(k)}
        names.update(_HELPERS)
        names["__builtins__"] = SAFE_BUILTINS
        return names

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        code = compile_expression(expression)
        local = {k: v for k, v in context.items() if _visible(k)}
        result = eval(code, self._globals(external_context), local)  # noqa: S307 - validated
        _size_of(result, MAX_DATA_UNITS, "result")
        return result

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> bool:
        external = external_context or {}
        self.check_for_overwrite(context, external)
        code = compile_script(script)
        before = [k for k in context if _visible(k)]
        local = {k: context[k] for k in before}
        exec(code, self._globals(external), local)  # noqa: S102 - validated
        kept = {k: v for k, v in local.items() if not callable(v) and k not in external}
        _size_of(kept, MAX_DATA_UNITS, "task data")
        for key in before:
            if key not in kept:
                del context[key]
        context.update(kept)
        return True


class RestrictedScriptEngine(PythonScriptEngine):
    """The library's engine on `RestrictedEnvironment`, with refusals reported by line."""

    def __init__(self) -> None:
        super().__init__(environment=RestrictedEnvironment())

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        if not isinstance(err, ScriptRefused):
            return super().create_task_exec_exception(task, script, err)
        line = err.line
        if line is None:  # refused while running: the line of the script's frame
            line, _content = self.get_error_line_number_and_content(script, err)
        lines = script.splitlines()
        err.task_spec = task.task_spec
        if line and line <= len(lines):
            err.line_number = line
            err.error_line = lines[line - 1]
            if err.line is None:
                err.add_note(f"Python script refused on line {line}: '{err.error_line}'")
        return err

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Service tasks have no connectors here: they fail into an incident, cleanly (the
        library's own refusal raises a NameError of its own instead)."""
        operation = kwargs.get("operation_name", "")
        raise WorkflowException(
            f"service task operation '{operation}' is not available: LAPOR Flow has no "
            "service connectors; use a script task"
        )


RESTRICTED_ENGINE = RestrictedScriptEngine()


# --- deploy-time check ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptProblem:
    element_id: str
    message: str
    line: int | None


def _event_expressions(event_definition: Any) -> Iterator[tuple[str, str]]:
    """(label, expression) of everything an event definition evaluates."""
    if event_definition is None:
        return
    for inner in getattr(event_definition, "event_definitions", None) or []:  # Multiple
        yield from _event_expressions(inner)
    expression = getattr(event_definition, "expression", None)
    if isinstance(expression, str):
        if isinstance(event_definition, TimerEventDefinition):
            kind = "timer"
        else:
            kind = type(event_definition).__name__.removesuffix("EventDefinition").lower()
        yield f"{kind} expression", expression
    if isinstance(event_definition, MessageEventDefinition):
        properties = [
            *event_definition.correlation_properties,
            *(getattr(event_definition, "process_correlations", None) or []),
        ]
        for prop in properties:
            if isinstance(prop.retrieval_expression, str):
                yield f"correlation '{prop.name}'", prop.retrieval_expression


def _task_sources(task_spec: Any) -> Iterator[tuple[str, str, bool]]:
    """(label, source, is_expression) of everything the engine evaluates for one task spec."""
    if isinstance(task_spec, ScriptTask) and isinstance(task_spec.script, str):
        yield "script", task_spec.script, False
    for attr in ("prescript", "postscript"):
        source = getattr(task_spec, attr, None)
        if isinstance(source, str):
            yield attr, source, False
    if isinstance(task_spec, MultiChoice):
        for condition, target in task_spec.cond_task_specs:
            args = getattr(condition, "args", None)
            if args and isinstance(args[0], str):
                yield f"condition of the flow to '{target}'", args[0], True
    if isinstance(task_spec, (StandardLoopTask, MultiInstanceTask)):
        for attr in ("condition", "cardinality"):
            source = getattr(task_spec, attr, None)
            if isinstance(source, str):
                yield f"loop {attr}", source, True
    params = getattr(task_spec, "operation_params", None)
    if isinstance(params, dict):
        for name, param in params.items():
            if isinstance(param, dict) and isinstance(param.get("value"), str):
                yield f"parameter '{name}'", param["value"], True
    for label, source in _event_expressions(getattr(task_spec, "event_definition", None)):
        yield label, source, True


def check_spec(spec: Any, subprocess_specs: dict[str, Any]) -> list[ScriptProblem]:
    """Every script and expression of the process and its subprocesses that the restricted
    evaluator would refuse, as problems (element id, message, line within the source)."""
    problems: list[ScriptProblem] = []
    for process in (spec, *subprocess_specs.values()):
        completion = getattr(process, "completion_condition", None)
        if isinstance(completion, str):
            refused = check_source(completion, expression=True)
            if refused is not None:
                message = f"completion condition: {refused.reason}"
                problems.append(ScriptProblem(process.name, message, refused.line))
        for task_spec in process.task_specs.values():
            element_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
            for label, source, expression in _task_sources(task_spec):
                refused = check_source(source, expression=expression)
                if refused is not None:
                    message = f"{label}: {refused.reason}"
                    problems.append(ScriptProblem(element_id, message, refused.line))
    return problems
