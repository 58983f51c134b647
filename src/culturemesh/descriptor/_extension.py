"""culturemesh's own top-level ``culturemesh`` section of a descriptor: functions, inputs, outputs.

:class:`Extension` holds the product's :class:`FunctionSpec` values, an :class:`UploadInput` per
input port providers upload to (CSV options and the record :class:`Contract`), and the
:class:`OutputSettings` of each output port (format, classification, access, quality, merge and,
for ``linkeddata`` ports, :class:`LinkedDataSettings`); every default is already applied. Also
the builders that turn the checked section into those values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturemesh.descriptor._spec import (
    ColumnDefinition,
    OutputPort,
    PortType,
    build_columns,
    build_optional,
    frozen_map,
)

DEFAULT_FUNCTION = "ingest"
DEFAULT_TIMEOUT_SECONDS = 300

# The output format a port gets when culturemesh.outputs does not say, and the formats it may use.
DEFAULT_FORMATS = {
    PortType.ANALYTICALDATA: "parquet",
    PortType.GEODATA: "parquet",
    PortType.BLOBSTORE: "parquet",
    PortType.LINKEDDATA: "nquads",
}
TABULAR_FORMATS = ("parquet", "csv", "json")
RDF_FORMATS = ("nquads", "turtle", "jsonld")


@dataclass(frozen=True)
class FunctionSpec:
    """A Python function of the product: ``target`` in the file ``source`` (relative to the product)."""

    name: str
    source: str = "main.py"
    target: str = DEFAULT_FUNCTION
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str = ","
    quote_char: str = '"'
    encoding: str = "utf-8"
    header: bool = True


@dataclass(frozen=True)
class Contract:
    """The record contract an upload is checked against: columns, or a JSON Schema file.

    ``origin`` says where it came from, for messages (``columns of output port 'sales'``).
    """

    columns: tuple[ColumnDefinition, ...] | None = None
    json_schema_path: Path | None = None
    origin: str = ""


@dataclass(frozen=True)
class UploadInput:
    """culturemesh's settings for one input port; ``upload`` is true when providers upload to it."""

    port: str
    function: str = DEFAULT_FUNCTION
    upload: bool = False
    formats: tuple[str, ...] = ("csv",)
    csv: CsvOptions = field(default_factory=CsvOptions)
    contract: Contract | None = None
    invalid_rows: str = "reject"
    produces: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputSettings:
    """culturemesh's settings for one output port.

    ``classification`` maps a column to its label; ``access`` maps a principal to the labels it
    may decrypt, or to ``"all"``.
    """

    port: str
    format: str = "parquet"
    classification: Mapping[str, str] = field(default_factory=frozen_map)
    access: Mapping[str, tuple[str, ...] | str] = field(default_factory=frozen_map)
    update_every: str | None = None
    quality: tuple[Mapping[str, Any], ...] = ()  # rules a new version must pass (see culturemesh.quality)
    merge: str = "replace"  # replace | incremental
    modified_column: str | None = None
    deleted_column: str | None = None
    linked_data: LinkedDataSettings | None = None  # linkeddata ports only


@dataclass(frozen=True)
class LinkedDataSettings:
    """How a ``linkeddata`` port is made: the mapping, the shapes it must conform to, which input
    port feeds each mapping source (a new version of any of them makes a new version), the JSON-LD
    context, and an optional SPARQL Graph Store endpoint to push the graphs to."""

    mapping: Path
    shapes: tuple[Path, ...] = ()
    sources: Mapping[str, str] = field(default_factory=frozen_map)
    context: Path | None = None
    graph_store: str | None = None


@dataclass(frozen=True)
class Extension:
    """The ``culturemesh`` section with defaults applied; ``present`` says whether it was written."""

    functions: Mapping[str, FunctionSpec]
    inputs: Mapping[str, UploadInput] = field(default_factory=frozen_map)
    outputs: Mapping[str, OutputSettings] = field(default_factory=frozen_map)
    present: bool = False


# --- built from a culturemesh section that passed the schema and reference checks ---------------


def build_extension(raw: Mapping[str, Any] | None, ports: tuple[OutputPort, ...], base_dir: Path | None) -> Extension:
    if raw is None:
        return Extension(functions=frozen_map({DEFAULT_FUNCTION: FunctionSpec(DEFAULT_FUNCTION)}))
    functions = raw.get("functions") or {DEFAULT_FUNCTION: {}}
    return Extension(
        functions=frozen_map({name: _function(name, spec) for name, spec in functions.items()}),
        inputs=frozen_map({name: _input(name, spec, ports, base_dir) for name, spec in raw.get("inputs", {}).items()}),
        outputs=frozen_map(
            {name: _output(name, spec, ports, base_dir) for name, spec in raw.get("outputs", {}).items()}
        ),
        present=True,
    )


def _function(name: str, raw: Mapping[str, Any]) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        source=raw.get("source", "main.py"),
        target=raw.get("target", DEFAULT_FUNCTION),
        timeout_seconds=raw.get("timeoutSeconds", DEFAULT_TIMEOUT_SECONDS),
    )


def _input(name: str, raw: Mapping[str, Any], ports: tuple[OutputPort, ...], base_dir: Path | None) -> UploadInput:
    upload = raw.get("upload")
    csv = (upload or {}).get("csv", {})
    return UploadInput(
        port=name,
        function=raw.get("function", DEFAULT_FUNCTION),
        upload=upload is not None,
        formats=tuple((upload or {}).get("formats", ("csv",))),
        csv=CsvOptions(
            delimiter=csv.get("delimiter", ","),
            quote_char=csv.get("quoteChar", '"'),
            encoding=csv.get("encoding", "utf-8"),
            header=csv.get("header", True),
        ),
        contract=build_optional(raw, "contract", lambda c: _contract(name, c, ports, base_dir)),
        invalid_rows=raw.get("invalidRows", "reject"),
        produces=tuple(raw["produces"] if "produces" in raw else (port.name for port in ports)),
    )


def _contract(
    input_name: str, raw: Mapping[str, Any], ports: tuple[OutputPort, ...], base_dir: Path | None
) -> Contract:
    if "columnsFrom" in raw:
        port = next(port for port in ports if port.name == raw["columnsFrom"])
        return Contract(columns=port.columns, origin=f"the columns of output port {port.name!r}")
    if "columnDefinitions" in raw:
        origin = f"the columnDefinitions of culturemesh.inputs.{input_name}.contract"
        return Contract(columns=build_columns(raw["columnDefinitions"]), origin=origin)
    relative = Path(raw["jsonSchema"])
    path = base_dir / relative if base_dir is not None else relative
    return Contract(json_schema_path=path, origin=f"the JSON Schema {raw['jsonSchema']}")


def _output(name: str, raw: Mapping[str, Any], ports: tuple[OutputPort, ...], base_dir: Path | None) -> OutputSettings:
    port = next(port for port in ports if port.name == name)
    access = raw.get("access", {})
    linked = _linked_data(raw, base_dir) if "mapping" in raw else None
    return OutputSettings(
        port=name,
        format=raw.get("format", DEFAULT_FORMATS[port.type]),
        classification=frozen_map(raw.get("classification")),
        access=frozen_map({p: v if isinstance(v, str) else tuple(v) for p, v in access.items()}),
        update_every=raw.get("updateEvery"),
        quality=tuple(frozen_map(rule) for rule in raw.get("quality", [])),
        merge=raw.get("merge", {}).get("mode", "replace"),
        modified_column=raw.get("merge", {}).get("modifiedColumn"),
        deleted_column=raw.get("merge", {}).get("deletedColumn"),
        linked_data=linked,
    )


def _linked_data(raw: Mapping[str, Any], base_dir: Path | None) -> LinkedDataSettings:
    def resolve(relative: str) -> Path:
        return base_dir / relative if base_dir is not None else Path(relative)

    return LinkedDataSettings(
        mapping=resolve(raw["mapping"]),
        shapes=tuple(resolve(path) for path in raw.get("shapes", [])),
        sources=frozen_map(raw.get("sources")),
        context=resolve(raw["context"]) if "context" in raw else None,
        graph_store=raw.get("graphStore"),
    )
