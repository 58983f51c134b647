"""Evaluate the small part of HCL expressions that the culturemesh Terraform modules compute with.

There is no terraform binary here, so the tests evaluate the modules' own expressions (``locals``,
a resource's ``policy``, a policy condition's ``values``) over the parse tree python-hcl2 gives,
with variables taken from real tfvars. Supported: literals, strings with interpolations, tuples,
objects, attribute and index access, ``for`` expressions (with ``if`` and ``...`` expansion in
arguments), conditionals, comparison and logical operators, and the functions in ``FUNCTIONS``.
Anything else raises :class:`Unsupported` instead of guessing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import hcl2
from lark import Token, Tree

Node = Tree[Token]


class Unsupported(Exception):
    """An expression uses HCL this evaluator does not implement (say which, so it can be added)."""


def _flatten(values: list[Any]) -> list[Any]:
    return [leaf for value in values for leaf in (_flatten(value) if isinstance(value, list) else [value])]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "alltrue": lambda values: all(values),
    "compact": lambda values: [v for v in values if v not in ("", None)],
    "concat": lambda *lists: [item for items in lists for item in items],
    "contains": lambda collection, value: value in collection,
    "distinct": lambda values: list(dict.fromkeys(values)),
    "flatten": _flatten,
    "join": lambda separator, values: separator.join(values),
    "jsonencode": lambda value: json.dumps(value),
    "keys": lambda mapping: sorted(mapping),
    "length": len,
    "lookup": lambda mapping, key, default: mapping.get(key, default),
    "merge": lambda *mappings: {k: v for mapping in mappings for k, v in mapping.items()},
    "replace": lambda text, old, new: text.replace(old, new),
    "sort": lambda values: sorted(values),
    "substr": lambda text, offset, length: text[offset : offset + length if length >= 0 else None],
    "trimsuffix": lambda text, suffix: text[: -len(suffix)] if suffix and text.endswith(suffix) else text,
    "values": lambda mapping: [mapping[key] for key in sorted(mapping)],
}

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}
_ESCAPES = {'\\"': '"', "\\\\": "\\", "\\n": "\n", "\\t": "\t"}


def _trees(node: Node) -> list[Node]:
    """The children that carry meaning: subtrees other than newlines and comments."""
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _tokens(node: Node) -> list[str]:
    return [str(c) for c in node.children if isinstance(c, Token)]


def _name(node: Node) -> str:
    """The name in an ``identifier`` (possibly wrapped in an ``expr_term``)."""
    while node.data in ("expr_term", "object_elem_key"):
        (node,) = _trees(node)
    if node.data not in ("identifier", "keyword"):  # a keyword: an attribute named for_each, in, ...
        raise Unsupported(f"expected a name, found {node.data}")
    return str(node.children[0])


class Locals(Mapping[str, Any]):
    """``local.*``: every local of a module, evaluated when first used."""

    def __init__(self, expressions: Mapping[str, Node], scope: dict[str, Any]) -> None:
        self._expressions = expressions
        self._scope = scope
        self._values: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            self._values[name] = evaluate(self._expressions[name], self._scope)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._expressions)

    def __len__(self) -> int:
        return len(self._expressions)


def evaluate(node: Node, scope: Mapping[str, Any]) -> Any:
    """The value of an expression tree, with names looked up in ``scope`` (``var``, ``local``, ...)."""
    kind = str(node.data)
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise Unsupported(f"HCL construct {kind!r}")
    return handler(node, scope)


def _identifier(node: Node, scope: Mapping[str, Any]) -> Any:
    name = str(node.children[0])
    if name not in scope:
        raise Unsupported(f"unknown name {name!r} (in scope: {sorted(scope)})")
    return scope[name]


def _literal(node: Node, scope: Mapping[str, Any]) -> Any:
    return {"true": True, "false": False, "null": None}[str(node.children[0])]


def _string(node: Node, scope: Mapping[str, Any]) -> str:
    text = []
    for part in node.children:
        if isinstance(part, Token):
            continue  # the quotes
        (piece,) = part.children
        if isinstance(piece, Tree):
            if piece.data != "interpolation":
                raise Unsupported(f"template directive {piece.data}")
            value = evaluate(_trees(piece)[0], scope)
            text.append(json.dumps(value) if isinstance(value, bool) else str(value))
        elif piece.type == "ESCAPED_INTERPOLATION":
            text.append(str(piece)[1:])
        else:
            raw = str(piece)
            for escaped, plain in _ESCAPES.items():
                raw = raw.replace(escaped, plain)
            text.append(raw)
    return "".join(text)


def _object(node: Node, scope: Mapping[str, Any]) -> dict[str, Any]:
    result = {}
    for element in _trees(node):
        key_node, value_node = _trees(element)
        (key,) = _trees(key_node)
        bare = key.data == "expr_term" and _trees(key)[0].data == "identifier"
        result[_name(key) if bare else evaluate(key, scope)] = evaluate(value_node, scope)
    return result


def _function_call(node: Node, scope: Mapping[str, Any]) -> Any:
    trees = _trees(node)
    name = _name(trees[0])
    if name not in FUNCTIONS:
        raise Unsupported(f"function {name}()")
    args: list[Any] = []
    if len(trees) > 1:
        arguments = trees[1]
        args = [evaluate(arg, scope) for arg in _trees(arguments)]
        if "..." in _tokens(arguments):
            args = [*args[:-1], *args[-1]]
    return FUNCTIONS[name](*args)


def _get_attr(node: Node, scope: Mapping[str, Any]) -> Any:
    target, attribute = _trees(node)
    return evaluate(target, scope)[_name(_trees(attribute)[0])]


def _index(node: Node, scope: Mapping[str, Any]) -> Any:
    target, index = _trees(node)
    if index.data == "short_index":
        return evaluate(target, scope)[int(_tokens(index)[-1])]
    return evaluate(target, scope)[evaluate(_trees(index)[0], scope)]


def _iterations(intro: Node, scope: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The scopes of a ``for`` intro's iterations: maps in key order, lists in index order."""
    *names, collection_node = _trees(intro)
    collection = evaluate(collection_node, scope)
    pairs = sorted(collection.items()) if isinstance(collection, Mapping) else enumerate(collection)
    for key, value in pairs:
        bound = {_name(names[0]): value} if len(names) == 1 else {_name(names[0]): key, _name(names[1]): value}
        yield {**scope, **bound}


def _for_tuple(node: Node, scope: Mapping[str, Any]) -> list[Any]:
    intro, body, *condition = _trees(node)
    return [
        evaluate(body, inner)
        for inner in _iterations(intro, scope)
        if not condition or evaluate(_trees(condition[0])[0], inner)
    ]


def _for_object(node: Node, scope: Mapping[str, Any]) -> dict[str, Any]:
    if "..." in _tokens(node):
        raise Unsupported("grouping for expression ({... => ...})")
    intro, key, value, *condition = _trees(node)
    return {
        evaluate(key, inner): evaluate(value, inner)
        for inner in _iterations(intro, scope)
        if not condition or evaluate(_trees(condition[0])[0], inner)
    }


def _conditional(node: Node, scope: Mapping[str, Any]) -> Any:
    test, then, otherwise = _trees(node)
    return evaluate(then if evaluate(test, scope) else otherwise, scope)


def _binary_op(node: Node, scope: Mapping[str, Any]) -> Any:
    left, term = _trees(node)
    operator_node, right = _trees(term)
    operator = _tokens(operator_node)[0]
    if operator == "&&":
        return evaluate(left, scope) and evaluate(right, scope)
    if operator == "||":
        return evaluate(left, scope) or evaluate(right, scope)
    if operator not in _BINARY:
        raise Unsupported(f"operator {operator}")
    return _BINARY[operator](evaluate(left, scope), evaluate(right, scope))


def _unary_op(node: Node, scope: Mapping[str, Any]) -> Any:
    operator = _tokens(node)[0]
    value = evaluate(_trees(node)[0], scope)
    return (not value) if operator == "!" else -value


_HANDLERS: dict[str, Callable[[Node, Mapping[str, Any]], Any]] = {
    "expr_term": lambda node, scope: evaluate(_trees(node)[0], scope),
    "identifier": _identifier,
    "literal_value": _literal,
    "int_lit": lambda node, scope: int(str(node.children[0])),
    "string": _string,
    "tuple": lambda node, scope: [evaluate(item, scope) for item in _trees(node)],
    "object": _object,
    "function_call": _function_call,
    "get_attr_expr_term": _get_attr,
    "index_expr_term": _index,
    "for_tuple_expr": _for_tuple,
    "for_object_expr": _for_object,
    "conditional": _conditional,
    "binary_op": _binary_op,
    "unary_op": _unary_op,
}


# ---------------------------------------------------------------------------------------------
# Finding expressions in a file


def parse(path: Path) -> Node:
    return hcl2.parses_to_tree(path.read_text())


def _attributes(body: Node) -> dict[str, Node]:
    """Each attribute of a body: its name and its expression (the first and the last subtree)."""
    return {_name(_trees(a)[0]): _trees(a)[-1] for a in _trees(body) if a.data == "attribute"}


def _blocks(body: Node) -> Iterator[tuple[list[str], Node]]:
    """Each block of a body with its type and labels (``["resource", "aws_kms_key", "this"]``)."""
    for block in _trees(body):
        if block.data != "block":
            continue
        *head, inner = _trees(block)
        yield [_name(h) if h.data == "identifier" else _string(h, {}) for h in head], inner


def locals_of(path: Path) -> dict[str, Node]:
    """Every local defined in the file, as its expression tree."""
    (body,) = _trees(parse(path))
    found: dict[str, Node] = {}
    for labels, inner in _blocks(body):
        if labels == ["locals"]:
            found.update(_attributes(inner))
    return found


def block_of(path: Path, *labels: str) -> Node:
    """The body of the block with exactly these type and labels, e.g. ``("resource", "aws_kms_key", "this")``."""
    (body,) = _trees(parse(path))
    for found, inner in _blocks(body):
        if found == list(labels):
            return inner
    raise KeyError(f"{path}: no block {' '.join(labels)}")


def attribute(body: Node, *path: str) -> Node:
    """The expression of an attribute in a block body, through nested blocks: ``attribute(b, "condition", "values")``
    takes the first nested block of that type at each step."""
    *nested, name = path
    for block_type in nested:
        body = next(inner for labels, inner in _blocks(body) if labels[0] == block_type)
    return _attributes(body)[name]


def nested_blocks(body: Node, block_type: str) -> list[Node]:
    return [inner for labels, inner in _blocks(body) if labels[0] == block_type]


def module_scope(module: Path, variables: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A scope for a module's expressions: ``var`` (given values over the declared defaults), its
    ``local`` values (lazily), and whatever else is given (``data``, ``each``)."""
    defaults = {}
    for labels, inner in _blocks(_trees(parse(module / "variables.tf"))[0]):
        declared = _attributes(inner)
        if labels[0] == "variable" and "default" in declared:
            defaults[labels[1]] = evaluate(declared["default"], {})
    scope: dict[str, Any] = {"var": {**defaults, **variables}, **extra}
    expressions: dict[str, Node] = {}
    for tf in sorted(module.glob("*.tf")):
        expressions.update(locals_of(tf))
    scope["local"] = Locals(expressions, scope)
    return scope


# ---------------------------------------------------------------------------------------------
# Type constraints


def type_constraint(node: Node) -> Any:
    """A variable's ``type`` as data: ``"string"``, ``("list", T)``, ``("map", T)``, ``("object", {name: T})``."""
    while node.data == "expr_term":
        (node,) = _trees(node)
    if node.data == "identifier":
        return _name(node)
    if node.data != "function_call":
        raise Unsupported(f"type constraint {node.data}")
    name, arguments = _name(_trees(node)[0]), _trees(_trees(node)[1])
    if name in ("list", "set", "map"):
        return (name, type_constraint(arguments[0]))
    if name == "object":
        (fields,) = [_trees(arg)[0] for arg in arguments]
        return ("object", {_name(_trees(f)[0]): type_constraint(_trees(f)[1]) for f in _trees(fields)})
    raise Unsupported(f"type constraint {name}(...)")


_PRIMITIVES: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "bool": (bool,)}


def type_problems(value: Any, constraint: Any, where: str = "") -> list[str]:
    """Where ``value`` (parsed JSON) does not have the type ``constraint``; empty when it does."""
    if constraint == "any":
        return []
    if isinstance(constraint, str):
        ok = isinstance(value, _PRIMITIVES[constraint]) and not (constraint == "number" and isinstance(value, bool))
        return [] if ok else [f"{where or '.'}: expected {constraint}, found {type(value).__name__}"]
    kind, inner = constraint
    if kind in ("list", "set"):
        if not isinstance(value, list):
            return [f"{where or '.'}: expected {kind}, found {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in type_problems(item, inner, f"{where}[{i}]")]
    if not isinstance(value, dict):
        return [f"{where or '.'}: expected {kind}, found {type(value).__name__}"]
    if kind == "map":
        return [p for key, item in value.items() for p in type_problems(item, inner, f"{where}[{key!r}]")]
    missing = [f"{where}.{name}: missing" for name in inner if name not in value]
    extra = [f"{where}.{name}: not declared" for name in value if name not in inner]
    nested = [
        p for name, item in value.items() if name in inner for p in type_problems(item, inner[name], f"{where}.{name}")
    ]
    return missing + extra + nested
