"""``culturemesh init``: a new data product folder that validates and runs as generated.

:func:`scaffold` returns the files of a product (descriptor, handler, README, a sample upload) as
text; the caller writes them. With a sample CSV the output port's columns are inferred from it
(pyarrow's type inference, mapped to the ClickHouse types the descriptor format uses, nullable
where the sample has empty values), so a provider's existing export becomes a product in one
command; without one a three-column example is generated to edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from culturemesh.errors import ConfigError

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_EXAMPLE = "id,name,visited_on\nv-001,Museum aan de Stroom,2026-11-02\nv-002,M Leuven,2026-11-03\n"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


def check_name(kind: str, value: str) -> None:
    if not _NAME.fullmatch(value) or len(value) > 40:
        raise ConfigError(
            f"{kind} {value!r}: expected lower-case letters, digits and '-' (a DNS-1123 label of at most 40 "
            "characters: it names Knative Services, keys and buckets)"
        )


def columns_of(sample: Path) -> list[Column]:
    """The columns of a sample CSV, typed by pyarrow's inference; nullable where a value is empty."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(sample, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ConfigError(f"{sample}: cannot read as CSV with a header row ({exc})") from None
    if len(set(table.column_names)) != table.num_columns:
        raise ConfigError(f"{sample}: duplicate column names in the header: {table.column_names}")
    result = []
    for field, values in zip(table.schema, table.columns, strict=True):
        clickhouse = _clickhouse(field.type)
        nullable = values.null_count > 0 or table.num_rows == 0
        result.append(Column(field.name, f"Nullable({clickhouse})" if nullable else clickhouse, f"{field.name}."))
    return result


def _clickhouse(arrow_type: object) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return "Bool"
    if pa.types.is_integer(arrow_type):
        return "Int64"
    if pa.types.is_floating(arrow_type):
        return "Float64"
    if pa.types.is_date(arrow_type):
        return "Date"
    if pa.types.is_timestamp(arrow_type):
        return "DateTime('Europe/Brussels')"
    return "String"


def scaffold(name: str, domain: str, owner: str, contact: str, sample: Path | None) -> dict[str, str]:
    """The product's files, relative to its folder: ``data-product.yaml``, ``main.py``,
    ``README.md`` and ``samples/<name>.csv``."""
    check_name("product name", name)
    check_name("domain", domain)
    columns = columns_of(sample) if sample else [
        Column("id", "String", "Identifier of the record."),
        Column("name", "String", "Name of the institution."),
        Column("visited_on", "Nullable(Date)", "Day of the visit."),
    ]  # fmt: skip
    sample_text = sample.read_text(encoding="utf-8") if sample else _EXAMPLE
    return {
        "data-product.yaml": _descriptor(name, domain, owner, contact, columns),
        "main.py": _HANDLER.format(name=name),
        "README.md": _README.format(name=name, domain=domain, owner=owner),
        f"samples/{name}.csv": sample_text,
    }


def _descriptor(name: str, domain: str, owner: str, contact: str, columns: list[Column]) -> str:
    legacy = {
        "apiVersion": "be.ddtplatform/v1",
        "kind": "DataProduct",
        "metadata": {"name": name, "namespace": domain},
        "spec": {
            "summary": f"{name}: describe in one sentence what this product holds and how often it changes.",
            "domain": domain,
            "termsOfUse": {
                "name": "Modellicentie Gratis Hergebruik v1.0",
                "uri": "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0",
            },
            "dataProductOwner": {"name": owner, "contact": contact},
            "responsibleTechnicalTeam": {"name": owner, "contact": contact},
            "inputPorts": [{"name": "upload", "environmentVariables": {}, "secretEnvironmentVariables": {}}],
            "outputPorts": [
                {
                    "name": "records",
                    "type": "analyticaldata",
                    "description": "Every uploaded record, typed and checked against the contract.",
                    "dataFormat": {
                        "description": "Parquet, one file per version.",
                        "analyticalDataSchemaDefinition": {
                            "columnDefinitions": [
                                {"name": c.name, "type": c.type, "columnDescription": c.description} for c in columns
                            ]
                        },
                    },
                }
            ],
        },
    }
    extension = {
        "culturemesh": {
            "inputs": {
                "upload": {
                    "function": "ingest",
                    "upload": {"formats": ["csv"]},
                    "contract": {"columnsFrom": "records"},
                    "invalidRows": "reject",
                    "produces": ["records"],
                }
            },
            "outputs": {"records": {"format": "parquet", "access": {"owner": "all"}}},
        }
    }
    header = (
        f"# {name}: generated by `culturemesh init`. The apiVersion..spec part is the descriptor format of\n"
        "# the platform culturemesh replaces; the culturemesh section holds the upload port, contract and access.\n"
        "# Edit the summary, the column descriptions and the access grants; docs/product-developer.md has the rest.\n"
    )
    dump = yaml.safe_dump(legacy, sort_keys=False, allow_unicode=True, width=100)
    return header + dump + yaml.safe_dump(extension, sort_keys=False, width=100)


_HANDLER = '''"""{name}: an uploaded CSV becomes a new version of the `records` port."""

from culturemesh.envelope import Envelope
from culturemesh.product import Product
from culturemesh.runtime import product_function


@product_function
def ingest(event: Envelope, product: Product) -> list[Envelope]:
    return product.ingest(event)
'''

_README = """# {name}

Owned by {owner} (domain `{domain}`). Generated by `culturemesh init`.

- **Input** `upload`: providers upload a CSV with a header row and the columns of `records`; a
  value that breaks the contract rejects the file with a report, and the raw upload is kept.
- **Output** `records` (`analyticaldata`, Parquet): one immutable version per accepted upload.
- **Access**: `owner` reads everything. Add grants under `culturemesh.outputs.records.access`.

Try it: `culturemesh run {name} --input functions/{name}/samples/{name}.csv`, then
`culturemesh read {name} records --as owner`.
"""
