"""How a new ClickHouse column type relates to the old one, for readers and for providers.

:func:`type_fit` answers with a :class:`Verdict`: the same values, wider (every old value fits),
narrower, another kind of value, or unknown. Integers, floats, decimals, dates, date-times,
strings and enums are ordered within their family; arrays, maps, tuples and nested columns are
compared element by element; across families only a few conversions are safe, and which depends on
the :class:`Audience` (a provider may upload any value as text, a reader of text may not get numbers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from culturemesh.coltypes import ClickHouseType
from culturemesh.compatibility_change import CANNOT_PROVE


class Audience(StrEnum):
    READERS = "readers"  # consumers of an output port
    PROVIDERS = "providers"  # uploaders to an input port


class Fit(IntEnum):
    """How a new type relates to an old one, from harmless to unknown; NARROWER and up break."""

    SAME = 0
    WIDER = 1
    NARROWER = 2
    OTHER = 3
    UNKNOWN = 4


@dataclass(frozen=True)
class Verdict:
    fit: Fit
    reason: str = ""

    @property
    def breaking(self) -> bool:
        return self.fit >= Fit.NARROWER


_SAME = Verdict(Fit.SAME, "the same values")
_INT_BITS = {f"{u}Int{bits}": (u == "", bits) for u in ("", "U") for bits in (8, 16, 32, 64, 128, 256)}
_MANTISSA = {"Float32": 24, "Float64": 53}
_DECIMAL_PRECISION = {"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}
_TEXTUAL = {"String", "FixedString", "UUID", "Enum8", "Enum16"}  # all read as Arrow strings


def _worst(verdicts: Iterable[Verdict]) -> Verdict:
    return max(verdicts, key=lambda verdict: verdict.fit, default=_SAME)


def _bare(t: ClickHouseType, top: bool = True) -> ClickHouseType:
    """``t`` without LowCardinality anywhere, and without its own (top-level) nullability."""
    args = tuple(_bare(arg, top=False) if isinstance(arg, ClickHouseType) else arg for arg in t.args)
    return dataclasses.replace(t, args=args, low_cardinality=False, nullable=t.nullable and not top)


def type_fit(old: ClickHouseType, new: ClickHouseType, audience: Audience) -> Verdict:
    """How ``new`` relates to ``old`` for ``audience``; the top-level nullability is the caller's."""
    if _bare(old) == _bare(new):
        return _SAME
    if old.name == new.name and old.name in ("Array", "Map", "Tuple", "Nested"):
        return _container_fit(old, new, audience)
    family = _family(old.name)
    if family == _family(new.name) and family in _FAMILY_FITS:
        return _FAMILY_FITS[family](old, new)
    return _cross_fit(old, new, audience)


def _family(name: str) -> str:
    if name in _INT_BITS:
        return "int"
    for prefix in ("Float", "Decimal", "DateTime", "Date", "Enum"):
        if name.startswith(prefix):
            return prefix
    return "String" if name == "FixedString" else name


def _ordered(wider: bool, old: ClickHouseType, new: ClickHouseType, narrower: str) -> Verdict:
    return Verdict(Fit.WIDER, f"every {old} value fits in {new}") if wider else Verdict(Fit.NARROWER, narrower)


def _int_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    (signed, bits), (new_signed, new_bits) = _INT_BITS[old.name], _INT_BITS[new.name]
    wider = new_bits >= bits if signed == new_signed else new_signed and new_bits > bits
    return _ordered(wider, old, new, f"not every {old} value fits in {new}")


def _float_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    return _ordered(old.name == "Float32", old, new, f"{new} loses precision of {old}")


def _decimal(t: ClickHouseType) -> tuple[int, int]:
    ints = [arg for arg in t.args if isinstance(arg, int)]
    if t.name == "Decimal":
        return ints[0], ints[1] if len(ints) > 1 else 0
    return _DECIMAL_PRECISION[t.name], ints[0]


def _decimal_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    (precision, scale), (new_precision, new_scale) = _decimal(old), _decimal(new)
    if scale != new_scale:
        fit = Fit.NARROWER if new_scale < scale else Fit.OTHER
        return Verdict(fit, f"the scale changes from {scale} to {new_scale}: values are rounded or read differently")
    if precision == new_precision:
        return _SAME
    return _ordered(
        new_precision > precision, old, new, f"precision {new_precision} holds fewer digits than {precision}"
    )


def _date_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    return _ordered(new.name == "Date32", old, new, f"{new} holds a smaller range of dates than {old}")


def _datetime_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    def parts(t: ClickHouseType) -> tuple[int, str]:
        precision = next((arg for arg in t.args if isinstance(arg, int)), 0)
        return precision, next((arg for arg in t.args if isinstance(arg, str)), "UTC")

    (precision, zone), (new_precision, new_zone) = parts(old), parts(new)
    if zone != new_zone:
        return Verdict(Fit.OTHER, f"the time zone changes from {zone} to {new_zone}: local times read differently")
    if old.name == "DateTime64" and new.name == "DateTime":
        return Verdict(Fit.NARROWER, f"DateTime holds a smaller range and no fractions of a second of {old}")
    if old.name == new.name and precision == new_precision:
        return _SAME
    return _ordered(new_precision >= precision, old, new, f"{new} drops digits of a second that {old} keeps")


def _string_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    if new.name == "String":
        return _ordered(True, old, new, "")
    if old.name == "String":
        return Verdict(Fit.NARROWER, f"not every String fits in {new}")
    lengths = [next(arg for arg in t.args if isinstance(arg, int)) for t in (old, new)]
    return _ordered(lengths[1] >= lengths[0], old, new, f"{new} is shorter than {old}")


def _enum_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    before, after = dict(old.enum_values), dict(new.enum_values)
    removed = [label for label in before if label not in after]
    if removed:
        return Verdict(Fit.NARROWER, f"labels removed: {', '.join(map(repr, removed))}")
    moved = [f"{label!r} {before[label]} -> {after[label]}" for label in before if before[label] != after[label]]
    if moved:
        return Verdict(Fit.OTHER, f"labels change their number: {', '.join(moved)}")
    added = [label for label in after if label not in before]
    return Verdict(Fit.WIDER, f"labels added: {', '.join(map(repr, added))}" if added else "the same labels")


_FAMILY_FITS = {
    "int": _int_fit,
    "Float": _float_fit,
    "Decimal": _decimal_fit,
    "Date": _date_fit,
    "DateTime": _datetime_fit,
    "String": _string_fit,
    "Enum": _enum_fit,
}


def _cross_fit(old: ClickHouseType, new: ClickHouseType, audience: Audience) -> Verdict:
    if new.name == "String" and old.name in _TEXTUAL:
        return Verdict(Fit.WIDER, f"every {old} value is a String and reads as the same text")
    if new.name == "String" and audience is Audience.PROVIDERS:
        return Verdict(Fit.WIDER, f"every value uploaded as {old} is valid String text")
    if audience is Audience.PROVIDERS and old.name in _INT_BITS and new.name in _MANTISSA:
        signed, bits = _INT_BITS[old.name]
        exact = bits - signed <= _MANTISSA[new.name]
        return _ordered(exact, old, new, f"not every {old} value is exact in {new}")
    if old.name == "String":
        return Verdict(Fit.NARROWER, f"not every String is a valid {new}")
    if old.name == new.name:
        return Verdict(Fit.UNKNOWN, f"{CANNOT_PROVE}: {old} and {new}")
    return Verdict(Fit.OTHER, f"{old} and {new} are different kinds of value")


def _container_fit(old: ClickHouseType, new: ClickHouseType, audience: Audience) -> Verdict:
    if old.field_names != new.field_names or len(old.type_args) != len(new.type_args):
        return Verdict(Fit.OTHER, f"the fields of {old.name} change: {old} -> {new}")
    labels = {"Array": ("elements",), "Map": ("keys", "values")}.get(old.name)
    names = labels or old.field_names or tuple(f"field {i}" for i in range(1, len(old.type_args) + 1))
    pairs = zip(names, old.type_args, new.type_args, strict=True)
    return _worst(_inner_fit(name, before, after, audience) for name, before, after in pairs)


def _inner_fit(what: str, old: ClickHouseType, new: ClickHouseType, audience: Audience) -> Verdict:
    nulls = _SAME
    if old.nullable != new.nullable:
        readers = audience is Audience.READERS
        if new.nullable:
            nulls = Verdict(Fit.OTHER if readers else Fit.WIDER, f"{what} may now be null")
        else:
            nulls = Verdict(Fit.WIDER if readers else Fit.NARROWER, f"{what} may no longer be null")
    inner = type_fit(old, new, audience)
    return _worst([nulls, dataclasses.replace(inner, reason=f"{what}: {inner.reason}")])
