"""The values a data-product descriptor turns into.

The legacy ``spec`` (``be.ddtplatform/v1``) maps onto :class:`Descriptor`, :class:`InputPort`,
:class:`OutputPort` and friends (see ``_spec``); culturemesh's own top-level ``culturemesh``
section maps onto :class:`Extension`, with every default already applied (see ``_extension``).
:class:`Descriptor` ties the two together. All values are frozen; mappings are read-only views.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturemesh.descriptor._extension import (
    DEFAULT_FORMATS,
    Extension,
    FunctionSpec,
    OutputSettings,
    UploadInput,
    build_extension,
)
from culturemesh.descriptor._spec import (
    API_VERSION,
    DEFAULT_NAMESPACE,
    KIND,
    Contact,
    InputPort,
    OutputPort,
    TermsOfUse,
    build_contact,
    build_input_port,
    build_optional,
    build_output_port,
    frozen_map,
)


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
    output_ports = tuple(build_output_port(port) for port in spec["outputPorts"])
    return Descriptor(
        api_version=raw["apiVersion"],
        kind=raw["kind"],
        name=metadata["name"],
        namespace=metadata.get("namespace", DEFAULT_NAMESPACE),
        summary=spec["summary"],
        domain=spec["domain"],
        terms_of_use=build_optional(spec, "termsOfUse", lambda t: TermsOfUse(t.get("name"), t.get("uri"))),
        owner=build_contact(spec["dataProductOwner"]),
        team=build_optional(spec, "responsibleTechnicalTeam", build_contact),
        schedule=spec.get("transformer", {}).get("schedule"),
        input_ports=tuple(build_input_port(port) for port in spec.get("inputPorts", [])),
        output_ports=output_ports,
        extension=build_extension(raw.get("culturemesh"), output_ports, base_dir),
        path=path,
        base_dir=base_dir,
        raw=raw,
    )
