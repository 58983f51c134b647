"""The one exception root of culturemesh, and the exit codes the CLI maps them to.

Exception tree::

    CultureMeshError                    exit 1
    ├── ConfigError                     exit 2   settings, flags, project layout
    ├── DescriptorError                 exit 3   a data-product.yaml is invalid (carries every issue)
    ├── ContractViolation               exit 4   a record breaks a port's contract
    ├── UploadRejected                  exit 4   a whole upload was rejected (carries the report)
    ├── StoreError                      exit 5   object store failures
    │   ├── ObjectNotFound
    │   └── PreconditionFailed          a conditional write lost (If-None-Match / If-Match)
    ├── MeshError                       exit 6   the embedded mesh (broker, triggers, function host)
    │   └── MeshUnavailable             the mesh is not running or not reachable
    └── EventError                      exit 7   a CloudEvent is malformed or breaks its schema

Leaves defined next to the concept they belong to:

    access.AccessDenied                 exit 8   a principal without a grant
    kms.KmsError                        exit 9   a key refused, a ciphertext that does not decrypt
    compatibility.BreakingChange        exit 10  ``culturemesh diff`` found a breaking change
    catalog.errors.RegistryError        exit 11  the catalog registry refused a request
    linkeddata.yarrrml.MappingError     exit 12  a YARRRML mapping, or a row it cannot map

Every leaf carries the fields that explain it and states them in its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class CultureMeshError(Exception):
    """Root of every error culturemesh raises on purpose."""

    exit_code = 1


class ConfigError(CultureMeshError):
    exit_code = 2


@dataclass(frozen=True)
class Issue:
    """One problem found in a file: where it is, and what was expected."""

    file: Path | str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"{self.file}"
        return f"{where}: {self.path or '<root>'}: {self.message}"


class DescriptorError(CultureMeshError):
    """A descriptor is invalid; ``issues`` lists every problem found, not just the first."""

    exit_code = 3

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"{len(self.issues)} problem(s) in data product descriptor:\n{lines}")


class ContractViolation(CultureMeshError):
    """One value in one row breaks one rule of a port's record contract."""

    exit_code = 4

    def __init__(self, *, row: int, column: str, value: str, rule: str, file: str = "") -> None:
        self.row, self.column, self.value, self.rule, self.file = row, column, value, rule, file
        where = f"{file}: " if file else ""
        super().__init__(f"{where}row {row}, column {column!r}: value {value!r} breaks rule: {rule}")


class UploadRejected(CultureMeshError):
    exit_code = 4

    def __init__(self, message: str, *, violations: int = 0) -> None:
        self.violations = violations
        super().__init__(message)


class StoreError(CultureMeshError):
    exit_code = 5


class ObjectNotFound(StoreError):
    def __init__(self, bucket: str, key: str) -> None:
        self.bucket, self.key = bucket, key
        super().__init__(f"object not found: bucket {bucket!r}, key {key!r}")


class PreconditionFailed(StoreError):
    def __init__(self, bucket: str, key: str, condition: str) -> None:
        self.bucket, self.key, self.condition = bucket, key, condition
        super().__init__(f"precondition {condition} failed for bucket {bucket!r}, key {key!r}")


class MeshError(CultureMeshError):
    exit_code = 6


class MeshUnavailable(MeshError):
    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(
            f"the embedded mesh at {url} is not reachable ({reason}); "
            "start it with `culturemesh up` (or set CULTUREMESH_BROKER_URL)"
        )


class EventError(CultureMeshError):
    exit_code = 7
