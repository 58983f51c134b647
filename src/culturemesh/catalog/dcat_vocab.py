"""The vocabularies and code lists of the DCAT-AP Vlaanderen export: namespaces, the concept schemes the
SHACL shapes check through ``skos:inScheme``, output formats as EU file types and IANA media types, the
Belgian data themes, and the GDI-Vlaanderen values of ``mdcat:statuut``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rdflib import Namespace, URIRef

LANGUAGE = "en"
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
MDCAT = Namespace("http://data.vlaanderen.be/ns/metadata-dcat#")  # as the shapes spell it (http)

# The concept schemes the shapes name in their sh:hasValue constraints on skos:inScheme.
ACCESS_RIGHTS = URIRef("http://publications.europa.eu/resource/authority/access-right")
FILE_TYPES = URIRef("http://publications.europa.eu/resource/authority/file-type")
MEDIA_TYPES = URIRef("https://www.iana.org/assignments/media-types/media-types.xhtml")
DATA_THEMES = URIRef("https://vocab.belgif.be/auth/datatheme")
GDI_KEYWORDS = URIRef("https://metadata.vlaanderen.be/id/GDI-Vlaanderen-Trefwoorden")

# Output format -> (EU file-type code, IANA media type). The file-type table has every one of
# them; Parquet's media type was registered with IANA in 2024.
FORMATS: Mapping[str, tuple[str, str]] = {
    "parquet": ("PARQUET", "application/vnd.apache.parquet"),
    "csv": ("CSV", "text/csv"),
    "json": ("JSON", "application/json"),
    "nquads": ("RDF_N_QUADS", "application/n-quads"),
    "turtle": ("RDF_TURTLE", "text/turtle"),
    "jsonld": ("JSON_LD", "application/ld+json"),
}

# The Belgian data themes (the EU data themes, republished by BOSA). A descriptor's spec.themes
# may name one by code or IRI; other words become keywords. Without one, a product gets EDUC
# ("Education, culture and sport"), the theme of the cultural sector every product here is from.
THEME_CODES = frozenset(
    {"AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI", "TECH", "TRAN"}
)
DEFAULT_THEME = "EDUC"
_THEME_IRI = re.compile(r"^https?://vocab\.belgif\.be/auth/datatheme/([A-Z]{4})$")

# mdcat:statuut is mandatory on datasets and data services and must come from the GDI-Vlaanderen
# keywords, whose only non-geographic values are "Vlaamse Open data" and "Vlaamse Open data
# Service". DCAT-AP-VL is the profile of open-data portals; what a principal may actually read
# is said by dct:accessRights (PUBLIC or RESTRICTED), per dataset and per service.
OPEN_DATA = URIRef(f"{GDI_KEYWORDS}/VLOPENDATA")
OPEN_DATA_SERVICE = URIRef(f"{GDI_KEYWORDS}/VLOPENDATASERVICE")

SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
CLOUDEVENTS_SPEC = URIRef("https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md")


def theme_code(theme: str) -> str | None:
    if theme.upper() in THEME_CODES:
        return theme.upper()
    match = _THEME_IRI.match(theme)
    return match.group(1) if match and match.group(1) in THEME_CODES else None
