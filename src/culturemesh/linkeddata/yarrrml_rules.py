"""Reading a YARRRML mapping's rules: its subject, graphs and ``po`` entries become term maps and rules,
and referencing objects (``mapping: other``) become parent references with their join conditions.

Templates, prefixes, term types, datatypes and language tags are checked here, so that every
problem is a :class:`~culturemesh.linkeddata.yarrrml_model.MappingError` naming file, mapping and rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping as AnyMapping
from typing import Any

from culturemesh.linkeddata.terms import (
    DATATYPES,
    LANGUAGE_TAG,
    RDF_TYPE,
    XSD,
    Template,
    TemplateSyntaxError,
    parse_template,
)
from culturemesh.linkeddata.yarrrml_model import JoinCondition, MappingError, ParentRef, Rule, TermMap, TermType

_PREFIXED = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)?:(?!//)")
_IRI_SCHEMES = frozenset({"http", "https", "urn", "mailto", "ftp", "tag", "file", "data"})


class RuleReader:
    """Turns subjects, graphs and ``po`` entries into term maps and rules; knows the file and prefixes for messages."""

    def __init__(self, file: str, prefixes: dict[str, str]) -> None:
        self.file, self.prefixes = file, prefixes
        self.where: tuple[str | None, str | None] = (None, None)

    def fail(self, message: str) -> MappingError:
        return MappingError(message, file=self.file, mapping=self.where[0], rule=self.where[1])

    # -- terms ----------------------------------------------------------------------------------
    def subject(self, raw: Any) -> TermMap:
        if isinstance(raw, list) and len(raw) == 1:
            raw = raw[0]
        if not isinstance(raw, str):
            raise self.fail("expected one subject template 's', e.g. s: ex:deelname/$(id)")
        text, term_type = _split_type(raw)
        if term_type == "literal":
            raise self.fail(f"subject {raw!r} cannot be a literal")
        return TermMap(self.iri_template(text) if term_type != "blanknode" else self.template(text), term_type or "iri")

    def graphs(self, raw: Any, path: str) -> tuple[TermMap, ...]:
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        if not all(isinstance(item, str) for item in items):
            raise self.fail(f"{path}: expected graph template(s) such as ex:graph/$(id)")
        return tuple(TermMap(self.iri_template(_split_type(item)[0]), "iri") for item in items)

    def template(self, text: str) -> Template:
        try:
            return parse_template(text)
        except TemplateSyntaxError as exc:
            raise self.fail(f"bad template: {exc}") from None

    def iri_template(self, text: str) -> Template:
        """A template for IRIs: a leading ``prefix:`` is expanded, and must be declared."""
        template = self.template(text)
        head = template.leading_text()
        match = _PREFIXED.match(head)
        if match is None:
            if head or not template.is_single_reference:
                raise self.fail(f"{text!r} is not an IRI: expected prefix:name or an absolute IRI such as https://…")
            return template
        prefix = match.group(1) or ""
        if prefix in self.prefixes:
            return Template((self.prefixes[prefix] + head[match.end() :], *template.parts[1:]))
        if prefix.lower() in _IRI_SCHEMES:
            return template
        raise self.fail(
            f"prefix {prefix!r} in {text!r} is not declared; add it under 'prefixes:' or write the full IRI"
        )

    def expand_constant(self, text: str) -> str | None:
        """A constant that is a declared ``prefix:name`` or an absolute http(s) IRI, expanded; else None."""
        match = _PREFIXED.match(text)
        if match and (match.group(1) or "") in self.prefixes:
            return self.prefixes[match.group(1) or ""] + text[match.end() :]
        return text if text.startswith(("http://", "https://", "ftp://")) else None

    # -- predicate-object rules ------------------------------------------------------------------
    def rule(self, entry: Any, path: str) -> Rule:
        self.where = (self.where[0], path)
        if isinstance(entry, list) and len(entry) in (2, 3):
            predicates = self.predicates(entry[0])
            extra = str(entry[2]) if len(entry) == 3 else None
            return Rule(path, predicates, self.objects(entry[1], is_type_predicate(predicates), extra, {}), ())
        if isinstance(entry, dict):
            unknown = set(entry) - {"p", "predicates", "predicate", "o", "objects", "object", "type", "datatype",
                                    "language", "graph", "graphs", "g"}  # fmt: skip
            if unknown:
                raise self.fail(f"unsupported key(s) {sorted(unknown)}; expected p, o, datatype, language, type, graph")
            predicates = self.predicates(first(entry, "p", "predicates", "predicate"))
            defaults = {k: entry[k] for k in ("type", "datatype", "language") if k in entry}
            raw_objects = first(entry, "o", "objects", "object")
            objects = self.objects(raw_objects, is_type_predicate(predicates), None, defaults)
            return Rule(path, predicates, objects, self.graphs(first(entry, "graph", "graphs", "g"), path))
        raise self.fail("expected [predicate, object], [predicate, object, datatype-or-lang] or {p: …, o: …}")

    def predicates(self, raw: Any) -> tuple[TermMap, ...]:
        items = raw if isinstance(raw, list) else [raw]
        if not items or not all(isinstance(item, str) for item in items):
            raise self.fail(
                f"predicate {raw!r} not understood; expected a prefixed name such as cp:Deelname.activiteit"
            )
        return tuple(
            TermMap(Template((RDF_TYPE,)), "iri") if item == "a" else TermMap(self.iri_template(item), "iri")
            for item in items
        )

    def objects(
        self, raw: Any, typed: bool, extra: str | None, defaults: dict[str, Any]
    ) -> tuple[TermMap | ParentRef, ...]:
        if raw is None:
            raise self.fail("has no object 'o'")
        items = raw if isinstance(raw, list) else [raw]
        return tuple(self.obj(item, typed, extra, defaults) for item in items)

    def obj(self, raw: Any, typed: bool, extra: str | None, defaults: dict[str, Any]) -> TermMap | ParentRef:
        options = dict(defaults)
        if isinstance(raw, list) and len(raw) == 2:
            raw, extra = raw[0], str(raw[1])
        if isinstance(raw, dict):
            if any(key in raw for key in ("mapping", "mappings", "m")):
                return self.parent_ref(raw)
            options.update({k: raw[k] for k in ("type", "datatype", "language") if k in raw})
            raw = first(raw, "value", "v")
        if extra is not None:
            options["language" if extra.endswith("~lang") else "datatype"] = extra.removesuffix("~lang")
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise self.fail(f"object {raw!r} not understood; expected a template such as $(naam) or ex:$(id)~iri")
        return self.object_term(str(raw), typed, options)

    def object_term(self, text: str, typed: bool, options: dict[str, Any]) -> TermMap:
        text, suffix = _split_type(text)
        term_type = suffix or options.get("type")
        language, datatype = options.get("language"), options.get("datatype")
        if term_type is None:
            term_type = self.default_term_type(text, typed or not (language or datatype))
        if term_type not in ("iri", "literal", "blanknode"):
            raise self.fail(f"term type {term_type!r} is not one of iri, literal, blanknode")
        if term_type != "literal" and (language or datatype):
            raise self.fail(f"{text!r}: a language or datatype needs a literal, not an {term_type}")
        if term_type == "iri":
            return TermMap(self.iri_template(text), "iri")
        if term_type == "blanknode":
            return TermMap(self.template(text), "blanknode")
        if language and datatype:
            raise self.fail(f"{text!r}: a literal has a language or a datatype, not both")
        lang = check_language(str(language), self.fail) if language else None
        return TermMap(self.template(text), "literal", self.datatype(datatype) if datatype else None, lang)

    def default_term_type(self, text: str, may_be_iri: bool) -> TermType:
        """RML's default for an object: a lone reference is a literal, a template an IRI, a constant
        an IRI when it is a prefixed name or http(s) IRI (as morph-kgc reads YARRRML)."""
        template = self.template(text)
        if not may_be_iri or template.is_single_reference:
            return "literal"
        if template.is_constant:
            return "iri" if self.expand_constant(text) is not None else "literal"
        return "iri"

    def datatype(self, raw: Any) -> str:
        text = str(raw)
        expanded = self.expand_constant(text)
        if expanded is None:
            if _PREFIXED.match(text):
                raise self.fail(f"prefix of datatype {text!r} is not declared; add it under 'prefixes:'")
            raise self.fail(f"datatype {text!r} is not an IRI; expected e.g. xsd:decimal")
        return check_datatype(expanded, self.fail)

    def parent_ref(self, raw: dict[str, Any]) -> ParentRef:
        name = first(raw, "mapping", "mappings", "m")
        if not isinstance(name, str):
            raise self.fail(f"'mapping: {name!r}' must name another mapping")
        conditions = first(raw, "condition", "conditions")
        items = [] if conditions is None else conditions if isinstance(conditions, list) else [conditions]
        return ParentRef(name, tuple(self.join_condition(item) for item in items))

    def join_condition(self, raw: Any) -> JoinCondition:
        function = raw.get("function", raw.get("fn")) if isinstance(raw, dict) else None
        parameters = raw.get("parameters", raw.get("pms")) if isinstance(raw, dict) else None
        if not (isinstance(function, str) and function.split(":")[-1].split("#")[-1] == "equal"):
            raise self.fail(f"join condition function {function!r} is not supported; expected function: equal")
        if not (isinstance(parameters, list) and len(parameters) == 2):
            raise self.fail("function: equal needs two parameters: [[str1, $(child), s], [str2, $(parent), o]]")
        sides = dict(self.join_parameter(p, default) for p, default in zip(parameters, ("s", "o"), strict=True))
        if set(sides) != {"s", "o"}:
            raise self.fail("a join condition needs one parameter from the subject (s) and one from the object (o)")
        return JoinCondition(child=sides["s"], parent=sides["o"])

    def join_parameter(self, raw: Any, default_side: str) -> tuple[str, str]:
        if isinstance(raw, dict):
            raw = [raw.get("parameter", raw.get("pm")), raw.get("value", raw.get("v")), raw.get("from", default_side)]
        if not (isinstance(raw, list) and len(raw) in (2, 3) and isinstance(raw[1], str)):
            raise self.fail(f"join parameter {raw!r} not understood; expected [str1, $(column), s]")
        template = self.template(raw[1])
        if not template.is_single_reference:
            raise self.fail(f"join parameter value {raw[1]!r} must be one reference such as $(activiteit_id)")
        side = str(raw[2]) if len(raw) == 3 else default_side
        if side not in ("s", "o"):
            raise self.fail(f"join parameter side {side!r} must be s (this mapping) or o (the referenced mapping)")
        return side, template.references[0]


def first(body: AnyMapping[str, Any], *keys: str) -> Any:
    return next((body[k] for k in keys if k in body), None)


def _split_type(text: str) -> tuple[str, TermType | None]:
    for suffix in ("iri", "literal", "blanknode"):
        if text.endswith(f"~{suffix}"):
            return text[: -len(suffix) - 1], suffix
    return text, None


def check_datatype(iri: str, fail: Any) -> str:
    if iri.startswith(XSD) and iri not in DATATYPES:
        known = ", ".join(sorted("xsd:" + d.removeprefix(XSD) for d in DATATYPES))
        raise fail(f"unknown datatype {iri!r}; known XSD datatypes: {known}")
    return iri


def check_language(tag: str, fail: Any) -> str:
    if not LANGUAGE_TAG.match(tag):
        raise fail(f"language tag {tag!r} is not a BCP 47 tag such as nl, en or nl-BE")
    return tag


def is_type_predicate(predicates: Iterable[TermMap]) -> bool:
    return any(p.template.is_constant and p.template.constant == RDF_TYPE for p in predicates)
