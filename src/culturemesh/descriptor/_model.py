"""The values a data-product descriptor turns into.

The legacy ``spec`` (``be.ddtplatform/v1``) maps onto :class:`Descriptor`, :class:`InputPort`,
:class:`OutputPort` and friends; culturemesh's own top-level ``culturemesh`` section maps onto
:class:`Extension`, with every default already applied. All values are frozen; mappings are
read-only views.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from culturemesh.coltypes import ClickHouseType, parse_type, to_arrow

if TYPE_CHECKING:
    import pyarrow as pa

API_VERSION = "be.ddtplatform/v1"
KIND = "DataProduct"
DEFAULT_NAMESPACE = "default"
DEFAULT_FUNCTION = "ingest"
DEFAULT_TIMEOUT_SECONDS = 300
_T = TypeVar("_T")


def frozen_map(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy of ``values``."""
    return MappingProxyType(dict(values or {}))


class PortType(StrEnum):
    BLOBSTORE = "blobstore"
    LINKEDDATA = "linkeddata"
    ANALYTICALDATA = "analyticaldata"
    GEODATA = "geodata"


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
class Contact:
    name: str
    contact: str | None = None


@dataclass(frozen=True)
class TermsOfUse:
    name: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class ColumnDefinition:
    """One column; ``nullable`` is true for ``nullable: true`` or a ``Nullable(...)`` type."""

    name: str
    type: str
    nullable: bool = False
    default: Any = None
    description: str | None = None
    columns: tuple[ColumnDefinition, ...] = ()  # the sub-columns of a Nested column

    def parsed_type(self) -> ClickHouseType:
        return parse_type(self.type)

    def arrow_type(self) -> pa.DataType:
        nested = [column.arrow_field() for column in self.columns] or None
        return to_arrow(self.parsed_type(), nested_columns=nested)

    def arrow_field(self) -> pa.Field:
        import pyarrow as pa

        return pa.field(self.name, self.arrow_type(), nullable=self.nullable)


@dataclass(frozen=True)
class AnalyticalSchema:
    columns: tuple[ColumnDefinition, ...] = ()
    primary_key: tuple[str, ...] = ()
    engine: str | None = None

    def column(self, name: str) -> ColumnDefinition:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"no column {name!r}; columns are: {', '.join(c.name for c in self.columns)}")

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        return pa.schema([column.arrow_field() for column in self.columns])


@dataclass(frozen=True)
class DataFormat:
    description: str | None = None
    entity_example: Any = None
    content_description: str | None = None
    linked_data_schema_definition: str | None = None
    analytical_schema: AnalyticalSchema | None = None


@dataclass(frozen=True)
class OutputPortRef:
    """An input port that reads another product's output port."""

    data_product_domain: str
    data_product_name: str
    output_port: str

    @property
    def qualified_name(self) -> str:
        return f"{self.data_product_domain}/{self.data_product_name}"


@dataclass(frozen=True)
class InputPort:
    name: str
    environment_variables: Mapping[str, str] = field(default_factory=frozen_map)
    secret_environment_variables: Mapping[str, str] = field(default_factory=frozen_map)
    output_port_ref: OutputPortRef | None = None


@dataclass(frozen=True)
class OutputPort:
    name: str
    type: PortType
    description: str | None = None
    data_format: DataFormat | None = None

    @property
    def analytical_schema(self) -> AnalyticalSchema | None:
        return self.data_format.analytical_schema if self.data_format else None

    @property
    def columns(self) -> tuple[ColumnDefinition, ...]:
        """The port's column definitions (empty when it declares none)."""
        schema = self.analytical_schema
        return schema.columns if schema else ()


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


@dataclass(frozen=True, kw_only=True)
class Descriptor:
    """One data product: the legacy descriptor plus culturemesh's extension."""

    api_version: str = API_VERSION
    kind: str = KIND
    name: str
    namespace: str = DEFAULT_NAMESPACE
    summary: str
    domain: str
    terms_of_use: TermsOfUse | None = None
    owner: Contact
    team: Contact | None = None
    schedule: str | None = None
    input_ports: tuple[InputPort, ...] = ()
    output_ports: tuple[OutputPort, ...]
    extension: Extension
    path: Path | None = None
    base_dir: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=frozen_map, repr=False, compare=False)

    @property
    def qualified_name(self) -> str:
        return f"{self.domain}/{self.name}"

    @property
    def functions(self) -> Mapping[str, FunctionSpec]:
        return self.extension.functions

    def output_port(self, name: str) -> OutputPort:
        for port in self.output_ports:
            if port.name == name:
                return port
        known = ", ".join(port.name for port in self.output_ports)
        raise KeyError(f"data product {self.qualified_name} has no output port {name!r}; it has: {known}")

    def input_port(self, name: str) -> InputPort:
        for port in self.input_ports:
            if port.name == name:
                return port
        known = ", ".join(port.name for port in self.input_ports) or "none"
        raise KeyError(f"data product {self.qualified_name} has no input port {name!r}; it has: {known}")

    def upload_inputs(self) -> tuple[UploadInput, ...]:
        """The input ports providers upload to, in the order of ``spec.inputPorts``."""
        inputs = self.extension.inputs
        return tuple(inputs[p.name] for p in self.input_ports if p.name in inputs and inputs[p.name].upload)

    def output_settings(self, name: str) -> OutputSettings:
        """culturemesh's settings for output port ``name``; defaults when the section omits it."""
        port = self.output_port(name)
        settings = self.extension.outputs.get(name)
        return settings or OutputSettings(port=name, format=DEFAULT_FORMATS[port.type])


# --- built from a descriptor mapping that passed the schema and reference checks --------------


def build_descriptor(raw: Mapping[str, Any], *, path: Path | None, base_dir: Path | None) -> Descriptor:
    metadata, spec = raw["metadata"], raw["spec"]
    output_ports = tuple(_output_port(port) for port in spec["outputPorts"])
    return Descriptor(
        api_version=raw["apiVersion"],
        kind=raw["kind"],
        name=metadata["name"],
        namespace=metadata.get("namespace", DEFAULT_NAMESPACE),
        summary=spec["summary"],
        domain=spec["domain"],
        terms_of_use=_optional(spec, "termsOfUse", lambda t: TermsOfUse(t.get("name"), t.get("uri"))),
        owner=_contact(spec["dataProductOwner"]),
        team=_optional(spec, "responsibleTechnicalTeam", _contact),
        schedule=spec.get("transformer", {}).get("schedule"),
        input_ports=tuple(_input_port(port) for port in spec.get("inputPorts", [])),
        output_ports=output_ports,
        extension=_extension(raw.get("culturemesh"), output_ports, base_dir),
        path=path,
        base_dir=base_dir,
        raw=raw,
    )


def _optional(mapping: Mapping[str, Any], key: str, build: Callable[[Any], _T]) -> _T | None:
    return build(mapping[key]) if key in mapping else None


def _contact(raw: Mapping[str, Any]) -> Contact:
    return Contact(raw["name"], raw.get("contact"))


def _input_port(raw: Mapping[str, Any]) -> InputPort:
    ref = raw.get("outputPortRef")
    return InputPort(
        name=raw["name"],
        environment_variables=frozen_map(raw.get("environmentVariables")),
        secret_environment_variables=frozen_map(raw.get("secretEnvironmentVariables")),
        output_port_ref=OutputPortRef(ref["dataProductDomain"], ref["dataProductName"], ref["outputPort"])
        if ref
        else None,
    )


def _output_port(raw: Mapping[str, Any]) -> OutputPort:
    return OutputPort(
        name=raw["name"],
        type=PortType(raw["type"]),
        description=raw.get("description"),
        data_format=_optional(raw, "dataFormat", _data_format),
    )


def _data_format(raw: Mapping[str, Any]) -> DataFormat:
    return DataFormat(
        description=raw.get("description"),
        entity_example=raw.get("entityExample"),
        content_description=raw.get("contentDescription"),
        linked_data_schema_definition=raw.get("linkedDataSchemaDefinition"),
        analytical_schema=_optional(raw, "analyticalDataSchemaDefinition", _analytical_schema),
    )


def _analytical_schema(raw: Mapping[str, Any]) -> AnalyticalSchema:
    keys = raw.get("primaryKey", ())
    return AnalyticalSchema(
        columns=build_columns(raw.get("columnDefinitions", [])),
        primary_key=(keys,) if isinstance(keys, str) else tuple(keys),
        engine=raw.get("engine"),
    )


def build_columns(raw: list[Mapping[str, Any]]) -> tuple[ColumnDefinition, ...]:
    return tuple(
        ColumnDefinition(
            name=column["name"],
            type=column["type"],
            nullable=bool(column.get("nullable")) or parse_type(column["type"]).nullable,
            default=column.get("default"),
            description=column.get("columnDescription"),
            columns=build_columns(column.get("columnDefinitions", [])),
        )
        for column in raw
    )


def _extension(raw: Mapping[str, Any] | None, ports: tuple[OutputPort, ...], base_dir: Path | None) -> Extension:
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
        contract=_optional(raw, "contract", lambda c: _contract(name, c, ports, base_dir)),
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
