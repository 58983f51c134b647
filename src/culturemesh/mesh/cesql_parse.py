"""CESQL v1 syntax: a hand-written tokenizer and precedence-climbing parser from text to a syntax tree.

Nothing here evaluates anything; :mod:`culturemesh.mesh.cesql` compiles the tree once into closures.

Precedence, highest first (CESQL v1 section 3.6): function calls and atoms; unary ``NOT`` and ``-``;
``LIKE`` and ``IN`` (with their ``NOT`` forms); ``* / %``; ``+ -``; comparisons; ``AND OR XOR``.
Binary operators of equal precedence group left to right, as section 3.6 requires ("evaluated left to
right when the precedence is equal"), so ``a OR b AND c`` is ``(a OR b) AND c``: write parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal as Kind

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MAX_NESTING = 64  # parentheses, calls and unary operators inside each other
MAX_DEPTH = 200  # syntax tree depth; keeps compiling and evaluating far from Python's recursion limit

KEYWORDS = frozenset({"AND", "OR", "XOR", "NOT", "LIKE", "IN", "EXISTS", "TRUE", "FALSE"})
_PRECEDENCE = {"*": 5, "/": 5, "%": 5, "+": 4, "-": 4, "AND": 1, "OR": 1, "XOR": 1}
_PRECEDENCE.update(dict.fromkeys(("=", "!=", "<>", "<", "<=", ">", ">="), 3))
_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\n]+)
      | (?P<word>[A-Za-z0-9_]+)
      | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
      | (?P<op><>|!=|<=|>=|[-+*/%=<>(),])""",
    re.VERBOSE | re.DOTALL,
)
_IDENTIFIER = re.compile(r"[A-Za-z0-9]+")
_FUNCTION_NAME = re.compile(r"[A-Za-z][A-Za-z_]*")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


class CesqlSyntaxError(Exception):
    """Where the text stops being CESQL, what was expected there and what was found."""

    def __init__(self, position: int, expected: str, found: str) -> None:
        self.position, self.expected, self.found = position, expected, found
        super().__init__(f"at offset {position}: expected {expected}, found {found}")


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind["int", "string", "word", "keyword", "op", "end"]
    text: str
    pos: int

    def describe(self) -> str:
        return "end of expression" if self.kind == "end" else repr(self.text)


@dataclass(frozen=True, slots=True)
class Literal:
    value: bool | int | str
    pos: int


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str  # lowercased: attribute names are case-insensitive in expressions, lowercase in events
    pos: int


@dataclass(frozen=True, slots=True)
class Exists:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: Kind["NOT", "-"]
    operand: Syntax
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "AND", "OR", "XOR", "=", "!=" (also for "<>"), "<", "<=", ">", ">=", "+", "-", "*", "/", "%"
    left: Syntax
    right: Syntax
    pos: int


@dataclass(frozen=True, slots=True)
class Like:
    operand: Syntax
    pattern: str
    negated: bool
    pos: int


@dataclass(frozen=True, slots=True)
class In:
    operand: Syntax
    elements: tuple[Syntax, ...]
    negated: bool
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # uppercased: function names are case-insensitive
    args: tuple[Syntax, ...]
    pos: int


Syntax = Literal | Attribute | Exists | Unary | Binary | Like | In | Call


def children(node: Syntax) -> tuple[Syntax, ...]:
    match node:
        case Unary(operand=operand) | Like(operand=operand):
            return (operand,)
        case Binary(left=left, right=right):
            return (left, right)
        case In(operand=operand, elements=elements):
            return (operand, *elements)
        case Call(args=args):
            return args
        case _:
            return ()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "'\"":
                raise CesqlSyntaxError(pos, f"a string literal closed by {text[pos]}", "end of expression")
            raise CesqlSyntaxError(pos, "an operator, literal, name or parenthesis", repr(text[pos]))
        kind, lexeme = match.lastgroup, match.group()
        if kind == "word":
            tokens.append(_word(lexeme, pos))
        elif kind == "string":
            tokens.append(Token("string", lexeme, pos))
        elif kind == "op":
            tokens.append(Token("op", lexeme, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _word(lexeme: str, pos: int) -> Token:
    if lexeme.isdigit():
        return Token("int", lexeme, pos)
    if lexeme.upper() in KEYWORDS:
        return Token("keyword", lexeme.upper(), pos)
    return Token("word", lexeme, pos)


def string_value(token: Token) -> str:
    """A string literal's value: ``\\'`` (or ``\\"``) stands for the quote; other backslashes stay as written."""
    quote = token.text[0]
    return _ESCAPE.sub(lambda m: m.group(1) if m.group(1) == quote else m.group(0), token.text[1:-1])


def parse(text: str) -> Syntax:
    """The syntax tree of ``text``; raises :class:`CesqlSyntaxError` naming the offset and what was expected."""
    parser = _Parser(tokenize(text))
    tree = parser.expression()
    parser.expect_end()
    depth = _depth(tree)
    if depth > MAX_DEPTH:
        raise CesqlSyntaxError(0, f"an expression at most {MAX_DEPTH} operators deep", f"{depth} levels")
    return tree


def _depth(root: Syntax) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children(node))
    return deepest


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens, self.index, self.nesting = tokens, 0, 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def is_(self, kind: str, *texts: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == kind and (not texts or token.text in texts)

    def expect(self, kind: str, text: str, expected: str) -> Token:
        if not self.is_(kind, text):
            raise CesqlSyntaxError(self.peek().pos, expected, self.peek().describe())
        return self.advance()

    def expect_end(self) -> None:
        if not self.is_("end"):
            raise CesqlSyntaxError(self.peek().pos, "an operator or the end of the expression", self.peek().describe())

    def nest(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise CesqlSyntaxError(self.peek().pos, f"at most {MAX_NESTING} nested levels", "deeper nesting")

    def expression(self) -> Syntax:
        self.nest()
        tree = self.binary(1)
        self.nesting -= 1
        return tree

    def binary(self, min_precedence: int) -> Syntax:
        left = self.postfix()
        while self.peek().kind in ("op", "keyword") and _PRECEDENCE.get(self.peek().text, 0) >= min_precedence:
            op = self.advance()
            right = self.binary(_PRECEDENCE[op.text] + 1)
            left = Binary("!=" if op.text == "<>" else op.text, left, right, op.pos)
        return left

    def postfix(self) -> Syntax:
        operand = self.unary()
        while True:
            negated = self.is_("keyword", "NOT")
            if negated and not self.is_("keyword", "LIKE", "IN", ahead=1):
                raise CesqlSyntaxError(self.peek(1).pos, "LIKE or IN after NOT", self.peek(1).describe())
            if not self.is_("keyword", "LIKE", "IN", ahead=int(negated)):
                return operand
            self.index += int(negated)
            keyword = self.advance()
            if keyword.text == "LIKE":
                if not self.is_("string"):
                    raise CesqlSyntaxError(
                        self.peek().pos, "a string literal pattern after LIKE", self.peek().describe()
                    )
                operand = Like(operand, string_value(self.advance()), negated, keyword.pos)
            else:
                operand = In(operand, self.set_elements(), negated, keyword.pos)

    def set_elements(self) -> tuple[Syntax, ...]:
        self.expect("op", "(", "'(' opening the set after IN")
        elements = [self.expression()]
        while self.is_("op", ","):
            self.advance()
            elements.append(self.expression())
        self.expect("op", ")", "',' or ')' closing the set after IN")
        return tuple(elements)

    def unary(self) -> Syntax:
        token = self.peek()
        if self.is_("op", "-", "+") and self.is_("int", ahead=1):  # a signed integer literal
            self.index += 2
            sign = -1 if token.text == "-" else 1
            return Literal(self.integer(sign * int(self.peek(-1).text), token.pos), token.pos)
        if self.is_("op", "+"):
            raise CesqlSyntaxError(self.peek(1).pos, "an integer literal after '+'", self.peek(1).describe())
        if self.is_("keyword", "NOT") or self.is_("op", "-"):
            self.advance()
            self.nest()
            operand = self.unary()
            self.nesting -= 1
            return Unary("NOT" if token.text == "NOT" else "-", operand, token.pos)
        return self.primary()

    def integer(self, value: int, pos: int) -> int:
        if not INT_MIN <= value <= INT_MAX:
            raise CesqlSyntaxError(pos, f"an integer literal from {INT_MIN} to {INT_MAX}", str(value))
        return value

    def primary(self) -> Syntax:
        token = self.advance()
        if token.kind == "int":
            return Literal(self.integer(int(token.text), token.pos), token.pos)
        if token.kind == "string":
            return Literal(string_value(token), token.pos)
        if token.kind == "keyword" and token.text in ("TRUE", "FALSE"):
            return Literal(token.text == "TRUE", token.pos)
        if token.kind == "keyword" and token.text == "EXISTS":
            name = self.advance()
            if name.kind != "word" or not _IDENTIFIER.fullmatch(name.text):
                raise CesqlSyntaxError(name.pos, "an attribute name ([a-z0-9]+) after EXISTS", name.describe())
            return Exists(name.text.lower(), token.pos)
        if token.kind == "word":
            return self.call(token) if self.is_("op", "(") else self.attribute(token)
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect("op", ")", f"')' closing the parenthesis opened at offset {token.pos}")
            return inner
        expected = "an expression (literal, attribute, function call, EXISTS, NOT, '-' or '(')"
        raise CesqlSyntaxError(token.pos, expected, token.describe())

    def attribute(self, token: Token) -> Attribute:
        if not _IDENTIFIER.fullmatch(token.text):
            raise CesqlSyntaxError(token.pos, "an attribute name of letters and digits only", repr(token.text))
        return Attribute(token.text.lower(), token.pos)

    def call(self, name: Token) -> Call:
        if not _FUNCTION_NAME.fullmatch(name.text):
            raise CesqlSyntaxError(name.pos, "a function name of letters and '_' only", repr(name.text))
        self.advance()  # "("
        args: list[Syntax] = []
        if not self.is_("op", ")"):
            args.append(self.expression())
            while self.is_("op", ","):
                self.advance()
                args.append(self.expression())
        self.expect("op", ")", f"',' or ')' closing the arguments of {name.text}")
        return Call(name.text.upper(), tuple(args), name.pos)
