"""The registry's errors. ``status`` is the HTTP status the catalog's JSON API answers with.


RegistryError                 exit 11
├── InvalidRegistration       400  the input is malformed
│   ├── InvalidDescriptor     400  the descriptor fails validation (carries every issue)
│   └── InvalidQuery          400  a search query is too long or malformed
├── NotRegistered             404
│   ├── ProductNotFound
│   ├── PortNotFound
│   └── VersionNotFound
├── RegistryConflict          409  the same version id with a different manifest
└── RegistryUnavailable       503  the backend cannot be reached or is not provisioned
"""

from __future__ import annotations

from collections.abc import Sequence

from culturemesh.errors import CultureMeshError, Issue


class RegistryError(CultureMeshError):
    exit_code = 11
    status = 500


class InvalidRegistration(RegistryError):
    status = 400


class InvalidDescriptor(InvalidRegistration):
    """The descriptor fails validation; ``issues`` names file, YAML path and rule of each problem."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"descriptor not registered: {len(self.issues)} problem(s):\n{lines}")


class InvalidQuery(InvalidRegistration):
    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(f"search {field_name}: {message}")


class NotRegistered(RegistryError):
    status = 404


class ProductNotFound(NotRegistered):
    def __init__(self, product: str) -> None:
        self.product = product
        super().__init__(
            f"data product {product!r} is not in the catalog; expected domain/name of a registered product "
            "(see `culturemesh catalog list`)"
        )


class PortNotFound(NotRegistered):
    def __init__(self, product: str, port: str, known: Sequence[str]) -> None:
        self.product, self.port = product, port
        super().__init__(f"data product {product!r} has no output port {port!r}; it has: {', '.join(known) or 'none'}")


class VersionNotFound(NotRegistered):
    def __init__(self, product: str, port: str, version: str) -> None:
        self.product, self.port, self.version = product, port, version
        super().__init__(f"data product {product!r} port {port!r} has no registered version {version!r}")


class RegistryConflict(RegistryError):
    status = 409

    def __init__(self, what: str, reason: str) -> None:
        self.what, self.reason = what, reason
        super().__init__(f"{what}: {reason}")


class RegistryUnavailable(RegistryError):
    status = 503

    def __init__(self, backend: str, reason: str) -> None:
        self.backend, self.reason = backend, reason
        super().__init__(f"the catalog registry ({backend}) is unavailable: {reason}")
