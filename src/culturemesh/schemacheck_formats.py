"""The vectorized keyword kernels of record schemas: each judges an Arrow array of JSON values as
jsonschema judges one value, keyword by keyword (the value *formats* a schema asks for).

A kernel takes an array and returns ``(bad, undecided)``: which values break the keyword, and which
it cannot decide (``None`` when it decides them all); those go to jsonschema row by row. What a
kernel says of nulls is ignored. Numbers compare as Python compares them (exactly, ints with
floats), ``enum``/``const`` follow jsonschema's ``equal`` (1 == 1.0, True is not 1), ``multipleOf``
follows its int/float split.

jsonschema reads ``pattern`` with Python's ``re`` (``re.search``); Arrow matches with RE2. The two
agree on regular constructs but not on everything, so a pattern is not handed to RE2 as written: it
is parsed with the parser behind ``re`` and re-spelled for RE2 from that tree, construct by
construct. A construct RE2 lacks or reads differently (backreferences, lookaround, possessive
repeats, scoped flags) gives ``None``: the keyword is then checked row by row. Where the two engines
differ only on some values (``\\d``, ``\\w``, ``\\s``, ``\\b`` and case folding outside ASCII; ``$``
before a final newline inside a pattern), those values are undecided.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from jsonschema import Draft202012Validator

# The parser behind `re` (private; ``re._parser`` since Python 3.11): its tree says which constructs
# a pattern uses. Loaded by name because typeshed describes only the deprecated ``sre_parse`` alias.
_parser: Any = importlib.import_module("re._parser")
_sre: Any = importlib.import_module("re._constants")

Kernel = Callable[[pa.Array], tuple[pa.Array, pa.Array | None]]

INT64 = (-(2**63), 2**63 - 1)
# The comparison that finds the values breaking each bound.
_BREAKS = {
    "minimum": "less",
    "maximum": "greater",
    "exclusiveMinimum": "less_equal",
    "exclusiveMaximum": "greater_equal",
    "minLength": "less",
    "maxLength": "greater",
}

# --- type, enum, const, bounds, lengths, multipleOf -------------------------------------------


def members_kernel(members: list[Any], kind: str) -> Kernel | None:
    """``enum``/``const`` as jsonschema's ``equal``: 1 == 1.0, True is not 1, -0.0 == 0.0."""
    numbers = [m for m in members if isinstance(m, int | float) and not isinstance(m, bool)]
    if kind == "string":
        allowed = pa.array([m for m in members if isinstance(m, str)], pa.string())
    elif kind == "boolean":
        allowed = pa.array([m for m in members if isinstance(m, bool)], pa.bool_())
    elif kind == "integer":
        whole = [int(m) for m in numbers if not isinstance(m, float) or m.is_integer()]
        allowed = pa.array([m for m in whole if INT64[0] <= m <= INT64[1]], pa.int64())
    elif kind == "number":
        allowed = pa.array([_exact_float(m) + 0.0 for m in numbers if _exact_float(m) == m], pa.float64())
    else:
        return None

    def kernel(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
        if kind == "number":
            values = pc.add(values, 0.0)  # Arrow's hash tells -0.0 from 0.0; Python's == does not
        return pc.invert(pc.is_in(values, value_set=allowed)), None

    return kernel


def _exact_float(number: float) -> float:
    """``number`` as a float when that is exact, else NaN (which equals nothing)."""
    try:
        as_float = float(number)
    except OverflowError:
        return math.nan
    return as_float if as_float == number else math.nan


def everything(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    return pc.is_valid(values), None


def _integral(values: pa.Array) -> pa.Array:
    return pc.and_(pc.is_finite(values), pc.equal(values, pc.trunc(values)))


def _constant(values: pa.Array, truth: bool) -> pa.Array:
    return pc.is_valid(values) if truth else pc.is_null(values)


def _compare(values: pa.Array, op: str, bound: int | float) -> pa.Array:
    """``values <op> bound`` as Python compares ints and floats: exactly, whatever the widths."""
    below_wins = op.startswith("less")
    if isinstance(bound, float) and math.isnan(bound):
        return _constant(values, False)
    if pa.types.is_integer(values.type):
        if isinstance(bound, float):
            if math.isinf(bound):
                return _constant(values, (bound > 0) == below_wins)
            bound = math.ceil(bound) if op in ("less", "greater_equal") else math.floor(bound)
        if not INT64[0] <= bound <= INT64[1]:
            return _constant(values, (bound > 0) == below_wins)
        return pc.call_function(op, [values, pa.scalar(bound, pa.int64())])
    if isinstance(bound, int):
        try:
            nearest = float(bound)
        except OverflowError:
            nearest = math.inf if bound > 0 else -math.inf
        if nearest != bound:  # between two floats: compare with the one on the right side
            if below_wins:
                return pc.less_equal(values, nearest if nearest < bound else math.nextafter(nearest, -math.inf))
            return pc.greater_equal(values, nearest if nearest > bound else math.nextafter(nearest, math.inf))
        bound = nearest
    return pc.call_function(op, [values, pa.scalar(bound, pa.float64())])


def bound_kernel(keyword: str, bound: int | float) -> Kernel:
    """``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``minLength``, ``maxLength``."""
    op = _BREAKS[keyword]
    if keyword.endswith("Length"):
        return lambda values: (_compare(pc.utf8_length(values), op, bound), None)
    return lambda values: (_compare(values, op, bound), None)


def not_integral(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """``type: integer`` on doubles: 2.0 is an integer to jsonschema, 2.5 and inf are not."""
    return pc.invert(_integral(values)), None


def multiple_kernel(divisor: int | float) -> Kernel:
    return lambda values: _not_multiple(values, divisor)


def _not_multiple(values: pa.Array, divisor: int | float) -> tuple[pa.Array, pa.Array | None]:
    """jsonschema's ``multipleOf``: ``x % d`` for an integer d, ``int(x / d) != x / d`` for a float d."""
    if pa.types.is_integer(values.type) and isinstance(divisor, int):
        return (pc.not_equal(values, 0) if divisor > INT64[1] else pc.invert(_divisible(values, divisor))), None
    floats = pc.cast(values, pa.float64(), safe=False)
    if isinstance(divisor, float):
        quotient = pc.divide(floats, divisor)
        overflow = pc.and_(pc.is_finite(floats), pc.invert(pc.is_finite(quotient)))
        return pc.invert(_integral(quotient)), overflow
    if divisor > 2**53:  # Python turns the divisor into a float first: leave it to jsonschema
        return _constant(values, False), pc.is_valid(values)
    whole = _integral(floats)
    fits = pc.and_(whole, pc.less(pc.abs(floats), 2.0**63))
    remainder_ok = _divisible(pc.cast(pc.if_else(fits, floats, 0.0), pa.int64()), divisor)
    return pc.or_(pc.invert(whole), pc.and_(fits, pc.invert(remainder_ok))), pc.and_(whole, pc.invert(fits))


def _divisible(values: pa.Array, by: int) -> pa.Array:
    return pc.equal(pc.subtract(values, pc.multiply(pc.divide(values, by), by)), 0)


# --- pattern ----------------------------------------------------------------------------------

_ALLOWED_FLAGS = _sre.SRE_FLAG_IGNORECASE | _sre.SRE_FLAG_MULTILINE | _sre.SRE_FLAG_DOTALL
_ALLOWED_FLAGS |= _sre.SRE_FLAG_UNICODE | _sre.SRE_FLAG_VERBOSE | _sre.SRE_FLAG_ASCII
_MODES = (("i", _sre.SRE_FLAG_IGNORECASE), ("m", _sre.SRE_FLAG_MULTILINE), ("s", _sre.SRE_FLAG_DOTALL))
_WORD = string.ascii_letters + string.digits + "_"
# Which ASCII characters Python's \s matches: str.isspace() (with 0x1c-0x1f) unless the ASCII flag.
_SPACE = {True: " \t\n\r\f\v", False: " \t\n\r\f\v\x1c\x1d\x1e\x1f"}


class _Unsupported(Exception):
    """A construct RE2 cannot be trusted to read as Python's ``re`` does."""


@dataclass(frozen=True)
class Re2Pattern:
    source: str  # the RE2 spelling
    unicode_sensitive: bool  # values with non-ASCII characters are left to Python's re
    newline_sensitive: bool  # values with a newline are left to Python's re


def to_re2(pattern: str, flags: int = 0) -> Re2Pattern | None:
    """The RE2 spelling of a Python pattern with the same ``search`` verdicts, or ``None``."""
    try:
        tree = _parser.parse(pattern, flags)
        flags = tree.state.flags
        if flags & ~_ALLOWED_FLAGS or (flags & _sre.SRE_FLAG_IGNORECASE and not pattern.isascii()):
            raise _Unsupported(pattern)
        writer = _Writer(flags)
        body = writer.sequence(list(tree), tail=True)
    except (_Unsupported, _sre.error):
        return None
    modes = "".join(mode for mode, flag in _MODES if flags & flag)
    source = f"(?{modes}){body}" if modes else body
    try:  # RE2 refuses some spellings Python takes (repeat counts over 1000, huge programs)
        pc.match_substring_regex(pa.array([""], pa.string()), source)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    ignorecase = bool(flags & _sre.SRE_FLAG_IGNORECASE)
    return Re2Pattern(source, writer.unicode_sensitive or ignorecase, writer.newline_sensitive)


def _char(code: int) -> str:
    char = chr(code)
    return char if char.isascii() and char.isalnum() else f"\\x{{{code:x}}}"


class _Writer:
    """Writes RE2 text for a parse tree, noting what makes some values undecidable."""

    def __init__(self, flags: int) -> None:
        self.ascii = bool(flags & _sre.SRE_FLAG_ASCII)
        self.multiline = bool(flags & _sre.SRE_FLAG_MULTILINE)
        self.unicode_sensitive = False
        self.newline_sensitive = False

    def sequence(self, nodes: list[Any], tail: bool = False) -> str:
        # A final `$` matches at the end or before a final newline: RE2 can say that exactly.
        final_end = tail and bool(nodes) and nodes[-1] == (_sre.AT, _sre.AT_END) and not self.multiline
        body = "".join(self.node(op, av) for op, av in (nodes[:-1] if final_end else nodes))
        return body + r"\n?\z" if final_end else body

    def node(self, op: Any, av: Any) -> str:
        if op is _sre.LITERAL:
            return _char(av)
        if op is _sre.NOT_LITERAL:
            return f"[^{_char(av)}]"
        if op is _sre.ANY:
            return "."
        if op is _sre.IN:
            return self.char_class(av)
        if op is _sre.CATEGORY:
            return self.char_class([(op, av)])
        if op is _sre.BRANCH:
            return "(?:" + "|".join(self.sequence(list(branch)) for branch in av[1]) + ")"
        if op is _sre.SUBPATTERN and not av[1] and not av[2]:
            return f"(?:{self.sequence(list(av[3]))})"
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            low, high, item = av
            return f"(?:{self.sequence(list(item))}){{{low},{'' if high == _sre.MAXREPEAT else high}}}"
        if op is _sre.AT:
            return self.anchor(av)
        raise _Unsupported(op)

    def anchor(self, at: Any) -> str:
        if at in (_sre.AT_BOUNDARY, _sre.AT_NON_BOUNDARY):
            self.unicode_sensitive |= not self.ascii
            return r"\b" if at is _sre.AT_BOUNDARY else r"\B"
        if at is _sre.AT_END:
            self.newline_sensitive |= not self.multiline
            return "$"
        spelled = {_sre.AT_BEGINNING: "^", _sre.AT_BEGINNING_STRING: r"\A", _sre.AT_END_STRING: r"\z"}
        if at not in spelled:
            raise _Unsupported(at)
        return spelled[at]

    def char_class(self, items: list[tuple[Any, Any]]) -> str:
        negate = bool(items) and items[0][0] is _sre.NEGATE
        pieces = []
        for op, av in items[1:] if negate else items:
            if op is _sre.LITERAL:
                pieces.append(_char(av))
            elif op is _sre.RANGE:
                pieces.append(f"{_char(av[0])}-{_char(av[1])}")
            elif op is _sre.CATEGORY:
                pieces.append(self.category(av))
            else:
                raise _Unsupported(op)
        return f"[{'^' if negate else ''}{''.join(pieces)}]"

    def category(self, category: Any) -> str:
        """A category by the ASCII characters it holds; outside ASCII the verdict is Python's."""
        self.unicode_sensitive |= not self.ascii
        name = str(category).removeprefix("CATEGORY_")
        members = {"DIGIT": string.digits, "WORD": _WORD, "SPACE": _SPACE[self.ascii]}[name.removeprefix("NOT_")]
        codes = sorted(ord(c) for c in members)
        negated = name.startswith("NOT_")
        if negated:
            codes = sorted(set(range(128)) - set(codes))
        spans: list[list[int]] = []
        for code in codes:
            if spans and spans[-1][1] + 1 == code:
                spans[-1][1] = code
            else:
                spans.append([code, code])
        if negated:  # DEL (127) is in every complement: stretch it over all of Unicode
            spans[-1][1] = 0x10FFFF
        return "".join(_char(low) if low == high else f"{_char(low)}-{_char(high)}" for low, high in spans)


def pattern_kernel(pattern: str) -> Kernel | None:
    """``pattern`` (unanchored, ``re.search``), or ``None`` when RE2 cannot be trusted with it."""
    re2 = to_re2(pattern)
    return None if re2 is None else _regex_kernel(re2)


def _regex_kernel(re2: Re2Pattern) -> Kernel:
    def kernel(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
        bad = pc.invert(pc.match_substring_regex(values, re2.source))
        undecided = None
        if re2.unicode_sensitive:
            undecided = pc.invert(pc.string_is_ascii(values))
        if re2.newline_sensitive:
            newline = pc.match_substring(values, "\n")
            undecided = newline if undecided is None else pc.or_(undecided, newline)
        return bad, undecided

    return kernel


# --- format -----------------------------------------------------------------------------------

_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # jsonschema: re.ASCII fullmatch, then date.fromisoformat
# jsonschema: rfc3339_validator on instance.upper(); `$` also matches before a final newline.
_DATE_TIME = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-[0-9]{2}[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])\n?$"
)
_MONTH_DAYS = pa.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int64())


def _number(text: pa.Array, start: int, stop: int) -> pa.Array:
    return pc.cast(pc.utf8_slice_codeunits(text, start, stop), pa.int64())


def _real_day(text: pa.Array) -> pa.Array:
    """Whether ``YYYY-MM-DD…`` names a day of the proleptic Gregorian calendar, year 1 onwards."""
    year, month, day = _number(text, 0, 4), _number(text, 5, 7), _number(text, 8, 10)
    known = pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12))
    last = pc.take(_MONTH_DAYS, pc.if_else(known, pc.subtract(month, 1), 0))
    leap = pc.or_(pc.and_(_divisible(year, 4), pc.invert(_divisible(year, 100))), _divisible(year, 400))
    last = pc.add(last, pc.cast(pc.and_(leap, pc.equal(month, 2)), pa.int64()))
    in_month = pc.and_(pc.greater_equal(day, 1), pc.less_equal(day, last))
    return pc.and_(pc.and_(known, in_month), pc.greater_equal(year, 1))


def _calendar_kernel(shape: str) -> Kernel:
    def kernel(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
        shaped = pc.fill_null(pc.match_substring_regex(values, shape), False)
        real = pc.fill_null(_real_day(pc.if_else(shaped, values, None)), False)
        return pc.invert(real), None

    return kernel


def _email(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    return pc.invert(pc.match_substring(values, "@")), None  # jsonschema: '"@" in instance'


def _uri_kernel() -> Kernel | None:
    """jsonschema checks ``uri`` with rfc3987 when installed (then row by row here), else with
    rfc3986_validator's regex, which spells for RE2 as it is."""
    if importlib.util.find_spec("rfc3987") is not None or importlib.util.find_spec("rfc3986_validator") is None:
        return None
    compiled = importlib.import_module("rfc3986_validator").URI_RE_COMP
    re2 = to_re2(compiled.pattern, compiled.flags)
    return None if re2 is None else _regex_kernel(re2)


def _format_kernels() -> dict[str, Kernel]:
    known = Draft202012Validator.FORMAT_CHECKER.checkers
    kernels: dict[str, Kernel | None] = {
        "date": _calendar_kernel(_DATE),
        "date-time": _calendar_kernel(_DATE_TIME),
        "email": _email,
        "uri": _uri_kernel(),
    }
    return {name: kernel for name, kernel in kernels.items() if kernel is not None and name in known}


FORMAT_KERNELS = _format_kernels()
