"""The catalog's JSON API over HTTP, against a real ``culturemesh up`` process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.catalog.live_catalog import SALES_BY_VENUE, LiveCatalog, call, start_catalog

pytestmark = pytest.mark.e2e
SALES = "/api/products/ticketing/ticket-sales"
OPENAPI = Path(__file__).resolve().parents[2] / "src" / "culturemesh" / "catalog" / "openapi.yaml"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCatalog]:
    catalog = start_catalog(tmp_path_factory.mktemp("catalog-api") / "home")
    yield catalog
    catalog.mesh.stop()


def assert_error(reply: object, status: int, code: str, mentions: str = "") -> None:
    assert reply.status == status, reply.body  # type: ignore[attr-defined]
    document = reply.json()  # type: ignore[attr-defined]
    assert document["error"] == code
    assert mentions in document["detail"]


def snapshot(live: LiveCatalog) -> str:
    """Everything the API says about the catalog, to prove a refused request changed nothing."""
    parts = [live.get("/api/products?limit=200").body]
    for product in live.get("/api/products?limit=200").json()["products"]:
        for tail in ("", "/lineage", "/subscriptions"):
            parts.append(live.get(f"/api/products/{product['id']}{tail}").body)
        for port in live.get(f"/api/products/{product['id']}/ports").json()["ports"]:
            parts.append(live.get(f"/api/products/{product['id']}/ports/{port['name']}/versions").body)
    return "\n".join(part.decode() for part in parts)


def test_search_ranks_by_words_in_names_and_columns_and_filters_combine(live: LiveCatalog) -> None:
    by_column = live.get("/api/products?q=revenue").json()
    assert [p["id"] for p in by_column["products"]] == ["ticketing/sales-by-venue"]
    assert by_column["products"][0]["score"] > 0
    both = live.get("/api/products?q=venue").json()["products"]
    assert {"ticketing/sales-by-venue", "ticketing/ticket-sales"} <= {p["id"] for p in both}
    assert both[0]["id"] == "ticketing/sales-by-venue"  # in its name beats in a column
    owner = live.get("/api/products?owner=Cultuurloket%20Analyse&domain=ticketing").json()["products"]
    assert [p["id"] for p in owner] == ["ticketing/sales-by-venue"]
    assert live.get("/api/products?portType=linkeddata&q=ticket").json()["products"] == []
    paged = live.get("/api/products?domain=ticketing&limit=1&offset=1").json()
    assert paged["total"] >= 2 and len(paged["products"]) == 1 and paged["limit"] == 1


def test_product_detail_has_owner_terms_ports_schema_and_both_directions_of_lineage(live: LiveCatalog) -> None:
    product = live.get(SALES).json()
    assert product["owner"] == {"name": "Ticketing Vlaanderen", "contact": "data@ticketing.example.be"}
    assert product["termsOfUse"]["name"] == "Modellicentie Gratis Hergebruik v1.0"
    port = product["ports"][0]
    assert port["name"] == "sales" and port["type"] == "analyticaldata"
    postal = next(c for c in port["columns"] if c["name"] == "buyer_postal_code")
    assert postal == {
        "name": "buyer_postal_code",
        "type": "Nullable(String)",
        "nullable": True,
        "description": "Postal code of the buyer, when known.",
        "classification": "sensitive",
    }
    assert port["freshness"]["latestVersion"] is not None
    downstream = live.get(SALES + "/lineage").json()["downstream"]
    assert [(e["downstream"], e["upstreamPort"], e["declared"]) for e in downstream] == [
        ("ticketing/sales-by-venue", "sales", True)
    ]
    upstream = live.get("/api/products/ticketing/sales-by-venue/lineage").json()["upstream"]
    assert [e["upstream"] for e in upstream] == ["ticketing/ticket-sales"]


def test_versions_carry_their_manifest_with_rows_and_lineage(live: LiveCatalog) -> None:
    versions = live.get(SALES + "/ports/sales/versions").json()["versions"]
    latest = versions[0]
    assert latest["rows"] == 200 and latest["manifest"]["rows"] == 200
    assert latest["manifest"]["lineage"]["inputs"][0]["bucket"] == "landing"
    one = live.get(f"{SALES}/ports/sales/versions/{latest['version']}").json()
    assert one == latest


def test_sample_rows_only_for_a_granted_principal_and_only_the_columns_it_may_read(live: LiveCatalog) -> None:
    anonymous = live.get(SALES + "/ports/sales/sample")
    assert_error(anonymous, 403, "access_denied", "no grant")
    assert b"T-000001" not in anonymous.body
    public = live.get(SALES + "/ports/sales/sample?limit=3", "public").json()
    assert public["principal"] == "public" and len(public["rows"]) == 3
    assert public["withheld"] == ["buyer_postal_code"]
    assert all("buyer_postal_code" not in row for row in public["rows"])
    owner = live.get(SALES + "/ports/sales/sample?limit=3", "owner").json()
    assert owner["withheld"] == [] and owner["rows"][0]["ticket_id"] == "T-000001"
    assert owner["rows"][0]["price"] == "12.50"  # decimals stay exact, as text
    forged = call(live.url + SALES + "/ports/sales/sample", headers={"Authorization": "Bearer cmt_forged"})
    assert_error(forged, 401, "invalid_token")
    assert forged.headers["WWW-Authenticate"].startswith("Bearer")


def test_registering_needs_a_token_and_the_same_descriptor_twice_changes_nothing(live: LiveCatalog) -> None:
    before = snapshot(live)
    anonymous = call(live.url + "/api/products", "POST", SALES_BY_VENUE.read_bytes(), {"Content-Type": "text/yaml"})
    assert_error(anonymous, 401, "token_required")
    again = live.register(SALES_BY_VENUE)
    assert again.status == 200 and again.json()["id"] == "ticketing/sales-by-venue"
    as_json = json.dumps(yaml.safe_load(SALES_BY_VENUE.read_text())).encode()
    reply = call(
        live.url + "/api/products", "POST", as_json, {**live.auth("operator"), "Content-Type": "application/json"}
    )
    assert reply.status in (200, 201) and reply.json()["inputs"] == [
        {"product": "ticketing/ticket-sales", "port": "sales"}
    ]
    assert snapshot(live).count("sales-by-venue") >= before.count("sales-by-venue")


def test_only_operators_and_the_product_itself_may_register_and_a_refusal_changes_nothing(
    live: LiveCatalog,
) -> None:
    before = snapshot(live)
    for principal in ("owner", "public"):
        assert_error(live.register(SALES_BY_VENUE, principal), 403, "access_denied")
        reply = call(
            live.url + "/api/products/ticketing/sales-by-venue/ports/daily/versions",
            "POST",
            version_body("ticketing/sales-by-venue", "daily"),
            {**live.auth(principal), "Content-Type": "application/json"},
        )
        assert_error(reply, 403, "access_denied")
    assert snapshot(live) == before
    itself = live.mesh.cli("tokens", "issue", "product:ticketing/sales-by-venue").stdout.strip().splitlines()[-1]
    reply = call(
        live.url + "/api/products",
        "POST",
        SALES_BY_VENUE.read_bytes(),
        {"Authorization": f"Bearer {itself}", "Content-Type": "application/yaml"},
    )
    assert reply.status == 200  # already registered with this very descriptor


BAD_REQUESTS = [
    (
        "descriptor that fails validation",
        "POST",
        "/api/products",
        b"apiVersion: be.ddtplatform/v1\nkind: DataProduct\n",
        "application/yaml",
        400,
        "invalid_descriptor",
    ),
    (
        "descriptor that is not YAML",
        "POST",
        "/api/products",
        b"spec: [unclosed",
        "application/yaml",
        400,
        "invalid_descriptor",
    ),
    ("malformed JSON body", "POST", "/api/products", b'{"apiVersion": ', "application/json", 400, "malformed_json"),
    ("JSON that is not an object", "POST", "/api/products", b"[1, 2]", "application/json", 400, "invalid_descriptor"),
    ("body of another media type", "POST", "/api/products", b"x", "text/csv", 415, "unsupported_media_type"),
    ("body over 1 MB", "POST", "/api/products", b"#" * (1024 * 1024 + 1), "application/yaml", 413, "body_too_large"),
    ("version for an unknown port", "POST", SALES + "/ports/nope/versions", None, "application/json", 404, "not_found"),
    (
        "version whose manifest lacks fields",
        "POST",
        SALES + "/ports/sales/versions",
        b'{"manifestUri": "file:///x", "manifest": {"version": "v1"}}',
        "application/json",
        400,
        "invalid_version",
    ),
    (
        "version naming another product",
        "POST",
        SALES + "/ports/sales/versions",
        None,
        "application/json",
        400,
        "invalid_version",
    ),
    (
        "version body that is not JSON",
        "POST",
        SALES + "/ports/sales/versions",
        b"{",
        "application/json",
        400,
        "malformed_json",
    ),
    ("10 KB search query", "GET", "/api/products?q=" + "a" * 10240, None, "", 400, "invalid_query"),
    ("unknown port type", "GET", "/api/products?portType=spreadsheet", None, "", 400, "invalid_query"),
    ("unknown freshness", "GET", "/api/products?freshness=mouldy", None, "", 400, "invalid_query"),
    ("empty freshness", "GET", "/api/products?freshness=", None, "", 400, "invalid_query"),
    ("limit that is not a number", "GET", "/api/products?limit=ten", None, "", 400, "invalid_query"),
    ("unknown product", "GET", "/api/products/nope/nothing", None, "", 404, "not_found"),
    ("unknown version", "GET", SALES + "/ports/sales/versions/nope", None, "", 404, "not_found"),
    ("unknown API path", "GET", "/api/elsewhere", None, "", 404, "not_found"),
    ("unsupported method", "DELETE", SALES, None, "", 405, "method_not_allowed"),
]


def version_body(product: str, port: str) -> bytes:
    manifest = {
        "dataproduct": product,
        "outputport": port,
        "version": "v-from-test",
        "format": "parquet",
        "created": "2026-11-27T10:00:00Z",
        "rows": 1,
        "bytes": 10,
        "files": [],
        "schema": [],
        "lineage": {"inputs": [], "function": "ingest", "function_version": "1"},
    }
    return json.dumps({"manifestUri": "file:///x/manifest.json", "manifest": manifest}).encode()


@pytest.mark.parametrize(
    ("what", "method", "path", "body", "kind", "status", "code"), BAD_REQUESTS, ids=[r[0] for r in BAD_REQUESTS]
)
def test_bad_input_gets_a_clear_json_4xx_and_changes_nothing(
    live: LiveCatalog, what: str, method: str, path: str, body: bytes | None, kind: str, status: int, code: str
) -> None:
    before = snapshot(live)
    if body is None and method == "POST":
        body = version_body(
            "ticketing/ticket-sales" if "nope" in path else "ticketing/sales-by-venue",
            "nope" if "nope" in path else "daily",
        )
    headers = {**live.auth("operator"), **({"Content-Type": kind} if kind else {})}
    reply = call(live.url + path, method, body, headers)
    assert_error(reply, status, code)
    assert len(reply.json()["detail"]) > 10
    assert snapshot(live) == before


def test_odd_characters_in_a_query_are_searched_never_an_error(live: LiveCatalog) -> None:
    for query in (
        "%22%3Cscript%3E",
        "%27%3B%20DROP%20TABLE%20products%3B--",
        "%E2%80%AE%F0%9F%8E%AD",
        "%00%01",
        "NEAR(ticket%20*)",
        "%5C%5C%22%22%22",
        "caf%C3%A9%20%C3%A9v%C3%A9nement",
    ):
        reply = live.get(f"/api/products?q={query}")
        assert reply.status == 200, (query, reply.body)
        assert reply.json()["products"] == [] or all("id" in p for p in reply.json()["products"])


def test_the_served_openapi_document_is_the_one_in_the_repository(live: LiveCatalog) -> None:
    served = live.get("/api/openapi.yaml")
    assert served.status == 200 and served.headers["Content-Type"].startswith("application/yaml")
    assert served.body.decode() == OPENAPI.read_text()
    assert yaml.safe_load(served.body)["openapi"] == "3.1.0"
