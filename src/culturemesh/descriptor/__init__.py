"""The data-product descriptor: ``functions/<product>/data-product.yaml``.

The legacy ``be.ddtplatform/v1`` ``DataProduct`` format loads unchanged; culturemesh's own
settings live in an optional top-level ``culturemesh`` section::

    from culturemesh.descriptor import load_descriptor

    product = load_descriptor(Path("functions/ticket-sales"))
    product.qualified_name            # "ticketing/ticket-sales"
    product.output_port("sales").columns[0].arrow_type()

Every problem in a descriptor is reported at once as a :class:`~culturemesh.errors.DescriptorError`
whose ``issues`` name the file, the YAML path and the line.
"""

from culturemesh.descriptor._extension import (
    DEFAULT_FUNCTION,
    Contract,
    CsvOptions,
    Extension,
    FunctionSpec,
    LinkedDataSettings,
    OutputSettings,
    UploadInput,
)
from culturemesh.descriptor._issues import yaml_path
from culturemesh.descriptor._load import DESCRIPTOR_FILENAME, load_descriptor, load_descriptor_text
from culturemesh.descriptor._model import Descriptor
from culturemesh.descriptor._schema import SCHEMA_PATH, descriptor_schema
from culturemesh.descriptor._spec import (
    API_VERSION,
    KIND,
    AnalyticalSchema,
    ColumnDefinition,
    Contact,
    DataFormat,
    InputPort,
    OutputPort,
    OutputPortRef,
    PortType,
    TermsOfUse,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_FUNCTION",
    "DESCRIPTOR_FILENAME",
    "KIND",
    "SCHEMA_PATH",
    "AnalyticalSchema",
    "ColumnDefinition",
    "Contact",
    "Contract",
    "CsvOptions",
    "DataFormat",
    "Descriptor",
    "Extension",
    "FunctionSpec",
    "InputPort",
    "LinkedDataSettings",
    "OutputPort",
    "OutputPortRef",
    "OutputSettings",
    "PortType",
    "TermsOfUse",
    "UploadInput",
    "descriptor_schema",
    "load_descriptor",
    "load_descriptor_text",
    "yaml_path",
]
