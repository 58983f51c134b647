"""Loading a descriptor: YAML with line numbers, then the JSON Schema, then the cross-references.

Each stage collects every problem as an :class:`~culturemesh.errors.Issue` naming the file, the
YAML path (``spec.outputPorts[0].type``) and the line. Structural problems (YAML, schema) are
reported together; the cross-reference checks run once the structure is sound, because they
rely on it. Any problem raises one :class:`~culturemesh.errors.DescriptorError` carrying all.

The stages live in ``_yaml`` (YAML with positions), ``_schema`` (JSON Schema), ``_spec_checks``
and ``_extension_checks`` (cross-references), all reporting into ``_issues.Report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from culturemesh.descriptor._extension_checks import check_extension
from culturemesh.descriptor._issues import Report
from culturemesh.descriptor._model import Descriptor, build_descriptor
from culturemesh.descriptor._schema import check_schema
from culturemesh.descriptor._spec_checks import check_analytical_schema, check_schedule, check_unique
from culturemesh.descriptor._yaml import parse_yaml
from culturemesh.errors import DescriptorError, Issue

DESCRIPTOR_FILENAME = "data-product.yaml"


def load_descriptor(path: Path) -> Descriptor:
    """Load ``path`` (a descriptor file, or a product folder holding ``data-product.yaml``)."""
    path = Path(path)
    if path.is_dir():
        path = path / DESCRIPTOR_FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DescriptorError([Issue(path, "", f"no such file; expected a descriptor at {path}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DescriptorError([Issue(path, "", f"cannot read the descriptor as UTF-8 text: {exc}")]) from None
    return load_descriptor_text(text, source=str(path), base_dir=path.parent, path=path)


def load_descriptor_text(
    text: str, source: str = "<string>", base_dir: Path | None = None, *, path: Path | None = None
) -> Descriptor:
    """Load a descriptor from ``text``; file references are checked only when ``base_dir`` is known."""
    report = Report(source)
    data = parse_yaml(text, report)
    if not report.issues:
        check_schema(data, report)
    if not report.issues:
        _check_references(data, report, base_dir)
    report.raise_if_any()
    return build_descriptor(data, path=path, base_dir=base_dir)


def _check_references(data: dict[str, Any], report: Report, base_dir: Path | None) -> None:
    spec = data["spec"]
    schedule = spec.get("transformer", {}).get("schedule")
    if schedule is not None:
        check_schedule(schedule, report)
    check_unique(spec.get("inputPorts", []), ("spec", "inputPorts"), "input port", report)
    check_unique(spec["outputPorts"], ("spec", "outputPorts"), "output port", report)
    for index, port in enumerate(spec["outputPorts"]):
        check_analytical_schema(port, ("spec", "outputPorts", index), report)
    if "culturemesh" in data:
        check_extension(data, report, base_dir)
