"""SHACL validation of a linked-data port's graph against the shapes the port names (pyshacl).

Real shape files have defects. The official OSLO Cultuurparticipatie shapes, for one, contain a
property shape with two ``sh:path`` values, which pyshacl refuses to load. :func:`load_shapes`
repairs what it safely can and says so: a property shape with several paths becomes one shape per
path, each keeping every other constraint, and every parent that pointed at it points at all of
them. Each repair is a :class:`Repair` naming the file and the shape, logged once and carried in
the validation report. Anything it cannot repair is a :class:`ShapesError` naming the file.

:func:`validate` checks the union of all graphs of a quad table and returns a :class:`Report`
whose :class:`Finding` items name focus node, path, constraint component, shape and message.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from culturemesh.errors import CultureMeshError
from culturemesh.logs import get_logger

if TYPE_CHECKING:
    import pyarrow as pa
    import rdflib

log = get_logger("culturemesh.linkeddata.shacl")
SH = "http://www.w3.org/ns/shacl#"
MAX_FINDINGS = 100  # a report lists this many findings; the count says how many there were


class ShapesError(CultureMeshError):
    """A shapes file that cannot be read, or a defect that cannot be repaired."""

    exit_code = 2

    def __init__(self, file: Path | str, reason: str) -> None:
        self.file, self.reason = file, reason
        super().__init__(f"{file}: {reason}")


@dataclass(frozen=True)
class Repair:
    """A defect found in a shapes file and how it was handled."""

    file: str
    shape: str
    problem: str
    action: str

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "shape": self.shape, "problem": self.problem, "action": self.action}


@dataclass(frozen=True)
class Shapes:
    graph: rdflib.Graph
    files: tuple[str, ...]
    repairs: tuple[Repair, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One SHACL validation result."""

    focus_node: str
    path: str
    constraint: str
    shape: str
    severity: str
    message: str
    value: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "focusNode": self.focus_node,
            "path": self.path,
            "constraint": self.constraint,
            "shape": self.shape,
            "severity": self.severity,
            "message": self.message,
            "value": self.value,
        }

    def __str__(self) -> str:
        return f"{self.focus_node} {self.path or '(node)'}: {self.constraint.removeprefix(SH)}: {self.message}"


@dataclass(frozen=True)
class Report:
    conforms: bool
    triples: int
    findings: tuple[Finding, ...]
    count: int
    repairs: tuple[Repair, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "triples": self.triples,
            "violationCount": self.count,
            "violations": [finding.as_dict() for finding in self.findings],
            "shapeRepairs": [repair.as_dict() for repair in self.repairs],
        }


def load_shapes(paths: Sequence[Path]) -> Shapes:
    """The union of the shapes files at ``paths`` (Turtle), repaired where needed; cached per process."""
    return _load_shapes(tuple(Path(p).resolve() for p in paths))


@functools.cache
def _load_shapes(paths: tuple[Path, ...]) -> Shapes:
    import rdflib

    union = rdflib.Graph()
    repairs: list[Repair] = []
    for path in paths:
        graph = rdflib.Graph()
        try:
            graph.parse(path, format="turtle")
        except FileNotFoundError:
            raise ShapesError(path, "no such shapes file; fix the path in culturemesh.outputs.<port>.shapes") from None
        except (SyntaxError, ValueError, UnicodeDecodeError) as exc:  # rdflib's BadSyntax is a SyntaxError
            raise ShapesError(path, f"not valid Turtle: {exc}") from None
        repairs.extend(_split_multiple_paths(graph, path.name))
        union += graph
    for repair in repairs:
        log.warning("shapes repaired", file=repair.file, shape=repair.shape, problem=repair.problem)
    return Shapes(union, tuple(str(p) for p in paths), tuple(repairs))


def _split_multiple_paths(graph: rdflib.Graph, file: str) -> list[Repair]:
    """A property shape with n ``sh:path`` values becomes n shapes with one path each."""
    from rdflib import URIRef

    path, prop = URIRef(SH + "path"), URIRef(SH + "property")
    repairs = []
    for shape in sorted({s for s in graph.subjects(path, None) if len(set(graph.objects(s, path))) > 1}, key=str):
        paths = sorted(graph.objects(shape, path), key=str)
        others = [(p, o) for p, o in graph.predicate_objects(shape) if p != path]
        parents = list(graph.subjects(prop, shape))
        graph.remove((shape, None, None))
        for parent in parents:
            graph.remove((parent, prop, shape))
        for index, one in enumerate(paths):
            copy = URIRef(f"{shape}-path{index + 1}")
            graph.add((copy, path, one))
            for p, o in others:
                graph.add((copy, p, o))
            for parent in parents:
                graph.add((parent, prop, copy))
        repairs.append(
            Repair(
                file=file,
                shape=str(shape),
                problem=f"{len(paths)} sh:path values ({', '.join(str(p) for p in paths)}); SHACL allows one",
                action=f"split into {len(paths)} property shapes, one per path, each with the other constraints",
            )
        )
    return repairs


def to_graph(quads: pa.Table) -> rdflib.Graph:
    """The union of every graph of a quad table (columns s, p, o as N-Triples terms) as one graph."""
    import rdflib

    from culturemesh.linkeddata.quadfile import ntriples

    graph = rdflib.Graph()
    if quads.num_rows:
        graph.parse(data=ntriples(quads).decode(), format="nt")
    return graph


def validate(quads: pa.Table, shapes: Shapes) -> Report:
    """Validate the union of the quad table's graphs against ``shapes`` (SHACL Core, no inference)."""
    import pyshacl

    data = to_graph(quads)
    conforms, results, _text = pyshacl.validate(data, shacl_graph=shapes.graph, inference="none", advanced=False)
    findings = _findings(results)
    violations = [f for f in findings if f.severity == "Violation"]
    return Report(
        conforms=bool(conforms),
        triples=len(data),
        findings=tuple(sorted(violations, key=lambda f: (f.focus_node, f.path, f.constraint))[:MAX_FINDINGS]),
        count=len(violations),
        repairs=shapes.repairs,
    )


def _findings(results: rdflib.Graph) -> list[Finding]:
    from rdflib import URIRef

    def one(node: Any, name: str) -> str:
        value = results.value(node, URIRef(SH + name))
        return "" if value is None else str(value)

    found = []
    for result in results.subjects(URIRef(SH + "focusNode"), None):
        found.append(
            Finding(
                focus_node=one(result, "focusNode"),
                path=one(result, "resultPath"),
                constraint=one(result, "sourceConstraintComponent"),
                shape=one(result, "sourceShape"),
                severity=one(result, "resultSeverity").removeprefix(SH),
                message=one(result, "resultMessage"),
                value=one(result, "value")[:200],
            )
        )
    return found
