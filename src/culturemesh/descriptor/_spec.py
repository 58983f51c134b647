"""The legacy ``be.ddtplatform/v1`` part of a descriptor: metadata, owner, terms and the ``spec`` ports.

``spec.inputPorts`` and ``spec.outputPorts`` map onto :class:`InputPort` and :class:`OutputPort`,
whose analytical schema lists :class:`ColumnDefinition` values (with their Arrow types). Also
the builders that turn the checked YAML mapping into those values. All values are frozen;
mappings are read-only views.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from culturemesh.coltypes import ClickHouseType, parse_type, to_arrow

if TYPE_CHECKING:
    import pyarrow as pa

API_VERSION = "be.ddtplatform/v1"
KIND = "DataProduct"
DEFAULT_NAMESPACE = "default"
_T = TypeVar("_T")


def frozen_map(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy of ``values``."""
    return MappingProxyType(dict(values or {}))


class PortType(StrEnum):
    BLOBSTORE = "blobstore"
    LINKEDDATA = "linkeddata"
    ANALYTICALDATA = "analyticaldata"
    GEODATA = "geodata"


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


# --- built from a descriptor mapping that passed the schema and reference checks --------------


def build_optional(mapping: Mapping[str, Any], key: str, build: Callable[[Any], _T]) -> _T | None:
    return build(mapping[key]) if key in mapping else None


def build_contact(raw: Mapping[str, Any]) -> Contact:
    return Contact(raw["name"], raw.get("contact"))


def build_input_port(raw: Mapping[str, Any]) -> InputPort:
    ref = raw.get("outputPortRef")
    return InputPort(
        name=raw["name"],
        environment_variables=frozen_map(raw.get("environmentVariables")),
        secret_environment_variables=frozen_map(raw.get("secretEnvironmentVariables")),
        output_port_ref=OutputPortRef(ref["dataProductDomain"], ref["dataProductName"], ref["outputPort"])
        if ref
        else None,
    )


def build_output_port(raw: Mapping[str, Any]) -> OutputPort:
    return OutputPort(
        name=raw["name"],
        type=PortType(raw["type"]),
        description=raw.get("description"),
        data_format=build_optional(raw, "dataFormat", _data_format),
    )


def _data_format(raw: Mapping[str, Any]) -> DataFormat:
    return DataFormat(
        description=raw.get("description"),
        entity_example=raw.get("entityExample"),
        content_description=raw.get("contentDescription"),
        linked_data_schema_definition=raw.get("linkedDataSchemaDefinition"),
        analytical_schema=build_optional(raw, "analyticalDataSchemaDefinition", _analytical_schema),
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
