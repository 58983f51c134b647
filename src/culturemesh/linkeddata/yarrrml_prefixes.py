"""The prefixes a YARRRML document may use without declaring them (the RDFa initial context, as
YARRRML processors predefine it). A document's own ``prefixes:`` override these.

Unlike morph-kgc, which lets these defaults override the document's own declarations (so
``schema: https://schema.org/`` silently becomes ``http://schema.org/`` there), culturemesh keeps
what the document says. Mappings that must give the same graph on both engines use prefix names
not listed here for namespaces that differ (e.g. ``sdo:`` for ``https://schema.org/``).
"""

from __future__ import annotations

DEFAULT_PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dc": "http://purl.org/dc/terms/",
    "dcterms": "http://purl.org/dc/terms/",
    "dc11": "http://purl.org/dc/elements/1.1/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "http://schema.org/",
    "time": "http://www.w3.org/2006/time#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "void": "http://rdfs.org/ns/void#",
    "rr": "http://www.w3.org/ns/r2rml#",
}
