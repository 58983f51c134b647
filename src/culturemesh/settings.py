"""One typed settings object, read once at start-up and passed down.

Every setting has an environment twin ``CULTUREMESH_<NAME>``; CLI flags override the environment.
Nothing else in culturemesh reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from culturemesh.errors import ConfigError

DEFAULT_PORT = 8470
DEFAULT_NAMESPACE = "culturemesh"
DEFAULT_BROKER = "default"


def _find_project(start: Path) -> Path:
    """The nearest folder (start or a parent) that holds ``functions/``; else ``start`` itself."""
    for folder in (start, *start.parents):
        if (folder / "functions").is_dir():
            return folder
    return start


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r}: expected a positive number of seconds")
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or allowed[0]
    if value not in allowed:
        raise ConfigError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Settings:
    """Where the project and the mesh's state live, and how the mesh is reached."""

    project: Path
    home: Path
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    broker_url: str = ""
    idle_seconds: float = 60.0
    log_format: str = "auto"  # auto | json | console
    log_level: str = "info"
    sink: str = ""  # K_SINK: where a function publishes the events it emits (the broker ingress)
    store: str = "filesystem"  # filesystem | s3
    kms: str = "local"  # local | aws
    aws_endpoint: str = ""  # an S3/KMS-compatible endpoint (for example a moto server); empty: AWS itself
    aws_region: str = "eu-west-1"
    bucket_prefix: str = "culturemesh-"  # S3 bucket names are <prefix><bucket>
    registry: str = "sqlite"  # sqlite (HOME/registry.sqlite) | dynamodb: the catalog registry
    registry_table: str = "culturemesh-registry"  # the DynamoDB table (infra/terraform/modules/registry)
    catalog_interval: float = 60.0  # seconds between the mesh's freshness checks and subscription syncs
    graph_store_auth: str = field(default="", repr=False)  # user:password of linked-data Graph Stores; a secret
    aws_account_id: str = ""  # the account of the IRSA roles in generated ServiceAccounts; empty: a placeholder

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
        env = os.environ if env is None else env
        project = Path(env.get("CULTUREMESH_PROJECT") or _find_project(cwd or Path.cwd())).resolve()
        home = Path(env.get("CULTUREMESH_HOME") or project / ".culturemesh").resolve()
        raw_port = env.get("CULTUREMESH_PORT") or str(DEFAULT_PORT)
        try:
            port = int(raw_port)
        except ValueError:
            raise ConfigError(f"CULTUREMESH_PORT={raw_port!r}: expected a TCP port number") from None
        log_format = env.get("CULTUREMESH_LOG_FORMAT", "auto")
        if log_format not in {"auto", "json", "console"}:
            raise ConfigError(f"CULTUREMESH_LOG_FORMAT={log_format!r}: expected auto, json or console")
        return cls(
            project=project,
            home=home,
            port=port,
            host=env.get("CULTUREMESH_HOST", "127.0.0.1"),
            broker_url=env.get("CULTUREMESH_BROKER_URL", ""),
            idle_seconds=_positive_float(env, "CULTUREMESH_IDLE_SECONDS", 60.0),
            log_format=log_format,
            log_level=env.get("CULTUREMESH_LOG_LEVEL", "info").lower(),
            sink=env.get("K_SINK", ""),
            store=_choice(env, "CULTUREMESH_STORE", ("filesystem", "s3")),
            kms=_choice(env, "CULTUREMESH_KMS", ("local", "aws")),
            aws_endpoint=env.get("CULTUREMESH_AWS_ENDPOINT", ""),
            aws_region=env.get("CULTUREMESH_AWS_REGION", "eu-west-1"),
            bucket_prefix=env.get("CULTUREMESH_BUCKET_PREFIX", "culturemesh-"),
            registry=_choice(env, "CULTUREMESH_REGISTRY", ("sqlite", "dynamodb")),
            registry_table=env.get("CULTUREMESH_REGISTRY_TABLE", "culturemesh-registry"),
            catalog_interval=_positive_float(env, "CULTUREMESH_CATALOG_INTERVAL", 60.0),
            graph_store_auth=env.get("CULTUREMESH_GRAPH_STORE_AUTH", ""),
            aws_account_id=env.get("CULTUREMESH_AWS_ACCOUNT_ID", ""),
        )

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the CLI flags that were given (``None`` means: not given)."""
        given = {key: value for key, value in changes.items() if value is not None}
        if "project" in given and "home" not in given:
            given["home"] = Path(str(given["project"])).resolve() / ".culturemesh"
        return replace(self, **given)  # type: ignore[arg-type]

    @property
    def functions_dir(self) -> Path:
        return self.project / "functions"

    @property
    def store_root(self) -> Path:
        return self.home / "store"

    @property
    def mesh_dir(self) -> Path:
        return self.home / "mesh"

    @property
    def ingress_url(self) -> str:
        """The broker ingress of the default broker: where uploads' notifications and replies go."""
        if self.broker_url:
            return self.broker_url.rstrip("/")
        return f"http://{self.host}:{self.port}/{DEFAULT_NAMESPACE}/{DEFAULT_BROKER}"

    @property
    def mesh_url(self) -> str:
        """The mesh's own root URL (admin API under ``/-/``)."""
        if self.broker_url:
            scheme, _, rest = self.broker_url.partition("://")
            return f"{scheme}://{rest.split('/', 1)[0]}"
        return f"http://{self.host}:{self.port}"
