"""The web catalog in headless Chromium (Debian's, driven by Playwright) against a real
``culturemesh up``: search, open a product, follow lineage, samples only for a granted viewer,
keyboard use, escaping of untrusted product data. A screenshot of each page goes to
``.artifacts/screenshots/``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, Page, sync_playwright

from culturemesh.subscriptions import subscription
from tests.catalog.live_catalog import FIXTURES, LiveCatalog, start_catalog
from tests.conftest import REPO

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / ".artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = """apiVersion: be.ddtplatform/v1
kind: DataProduct
metadata: {name: hostile-notes}
spec:
  summary: "<script>window.pwned = 1</script><img src=x onerror=\\"window.pwned = 2\\"> notes"
  domain: test
  dataProductOwner: {name: "<b>Mallory</b>", contact: "javascript:void(window.pwned=3)"}
  termsOfUse: {name: click me, uri: "javascript:void(window.pwned=4)"}
  outputPorts:
    - name: notes
      type: analyticaldata
      dataFormat:
        analyticalDataSchemaDefinition:
          columnDefinitions:
            - {name: note, type: String, columnDescription: "</table><script>window.pwned = 5</script>"}
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCatalog]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    home = tmp_path_factory.mktemp("catalog-web") / "home"
    catalog = start_catalog(home)
    (home / "hostile.yaml").write_text(HOSTILE)
    assert catalog.register(home / "hostile.yaml").status in (200, 201)
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    yield catalog
    catalog.mesh.stop()


@pytest.fixture(scope="module")
def browser(live: LiveCatalog) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_search_finds_a_product_by_a_column_word_and_opens_it(live: LiveCatalog, page: Page) -> None:
    page.goto(f"{live.url}/catalog/")
    assert page.locator("ol.results > li").count() >= 3
    shot(page, "01-product-list")
    page.get_by_label("Search products").fill("revenue")
    page.get_by_label("Search products").press("Enter")
    page.wait_for_url("**/catalog/?q=revenue*")
    assert page.locator("#count").inner_text().startswith("1 of")
    assert page.locator("ol.results h2").all_inner_texts() == ["sales-by-venue"]
    shot(page, "02-search-revenue")
    page.get_by_role("link", name="sales-by-venue").click()
    page.wait_for_url("**/catalog/products/ticketing/sales-by-venue")
    assert page.locator("h1").inner_text().startswith("sales-by-venue")
    assert "Cultuurloket Analyse" in page.locator("dl.facts").inner_text()
    schema = page.get_by_role("table", name="Schema of daily")
    assert schema.locator("tbody th").all_inner_texts() == ["venue", "day", "tickets", "revenue"]
    shot(page, "03-product-sales-by-venue")


def test_filters_narrow_the_list_and_an_overlong_query_is_refused_on_the_page(live: LiveCatalog, page: Page) -> None:
    page.goto(f"{live.url}/catalog/")
    page.get_by_label("Owner").select_option("Ticketing Vlaanderen")
    page.get_by_role("button", name="Search").click()
    assert page.locator("ol.results h2").all_inner_texts() == ["ticket-sales"]
    response = page.goto(f"{live.url}/catalog/?q=" + "x" * 10240)
    assert response is not None and response.status == 400
    assert "too long" in page.get_by_role("alert").inner_text()


def test_lineage_leads_from_a_product_to_the_one_it_reads_and_back(live: LiveCatalog, page: Page) -> None:
    page.goto(f"{live.url}/catalog/products/ticketing/sales-by-venue")
    picture = page.locator("svg.lineage")
    assert picture.locator("a").count() == 1  # one upstream product, linked
    picture.locator("a").click()
    page.wait_for_url("**/catalog/products/ticketing/ticket-sales")
    assert page.locator("h1").inner_text().startswith("ticket-sales")
    assert page.locator("ul[aria-labelledby=downstream] a").all_inner_texts() == ["ticketing/sales-by-venue"]
    shot(page, "04-product-ticket-sales-anonymous")
    page.locator("ul[aria-labelledby=downstream] a").click()
    page.wait_for_url("**/catalog/products/ticketing/sales-by-venue")


def test_sample_rows_appear_only_for_a_viewer_the_port_grants(live: LiveCatalog, page: Page) -> None:
    page.goto(f"{live.url}/catalog/products/ticketing/ticket-sales")
    assert page.locator("table.sample").count() == 0
    assert "shown only to principals this port grants" in page.locator(".port").inner_text()
    assert "T-000001" not in page.content()
    page.get_by_label("Access token").fill(live.tokens["public"])
    page.get_by_role("button", name="View as its principal").click()
    page.wait_for_url("**/catalog/products/ticketing/ticket-sales")
    assert "Viewing as public" in page.locator(".viewer").inner_text()
    sample = page.locator("table.sample")
    assert "buyer_postal_code" not in sample.locator("thead").inner_text()
    assert sample.locator("tbody tr").count() == 10
    assert "Withheld from public: buyer_postal_code" in page.locator(".port").inner_text()
    shot(page, "05-product-ticket-sales-as-public")
    page.get_by_role("button", name="Forget token").click()
    page.wait_for_url("**/catalog/products/ticketing/ticket-sales")
    assert page.locator("table.sample").count() == 0


def test_versions_freshness_and_subscribe_instructions_are_on_the_product_page(live: LiveCatalog, page: Page) -> None:
    page.goto(f"{live.url}/catalog/products/ticketing/ticket-sales")
    versions = page.get_by_role("table", name="Versions of sales, newest first (1 in all)")
    assert versions.locator("tbody td").nth(2).inner_text() == "200"
    assert "subscribe --sink" in page.locator("#cli").inner_text()
    trigger = yaml.safe_load(page.locator("#trigger").inner_text())
    expected = subscription(
        "ticket-sales-published",
        "https://consumer.example/events",
        {"dataproduct": "ticketing/ticket-sales", "type": "be.culturemesh.dataproduct.published"},
    )
    assert trigger == expected


def test_keyboard_reaches_the_search_box_and_the_results(live: LiveCatalog, page: Page) -> None:
    page.goto(f"{live.url}/catalog/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(5):
        if page.evaluate("document.activeElement.id") == "q":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.type("ticket")
    page.keyboard.press("Enter")
    page.wait_for_url("**/catalog/?q=ticket*")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('ol.results') !== null"):
            break
    assert page.evaluate("document.activeElement.closest('ol.results') !== null")
    page.keyboard.press("Enter")
    page.wait_for_url("**/catalog/products/**")


def test_every_form_control_has_a_label(live: LiveCatalog, page: Page) -> None:
    for path in ("/catalog/", "/catalog/products/ticketing/ticket-sales"):
        page.goto(live.url + path)
        unlabelled = page.evaluate(
            "[...document.querySelectorAll('input:not([type=hidden]), select')]"
            ".filter(e => e.labels.length === 0).map(e => e.outerHTML)"
        )
        assert unlabelled == [], path


def test_untrusted_product_data_is_shown_as_text_never_run(live: LiveCatalog, page: Page) -> None:
    page.goto(f"{live.url}/catalog/products/test/hostile-notes")
    assert page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned = 1</script>" in page.locator(".summary").inner_text()
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.get_by_role("table", name="Schema of notes").locator("tbody tr").count() == 1
    shot(page, "06-product-hostile-data")
    page.goto(f"{live.url}/catalog/?q=notes")
    assert page.evaluate("window.pwned === undefined")
    assert (FIXTURES / "sales-by-venue.yaml").is_file()


def test_a_linked_data_port_shows_its_sparql_endpoint_and_a_request_to_copy(live: LiveCatalog, page: Page) -> None:
    assert live.register(REPO / "functions" / "cultuurparticipatie" / "data-product.yaml").status in (200, 201)
    page.goto(f"{live.url}/catalog/products/cultuur/cultuurparticipatie")
    port = page.locator("section.port", has=page.locator("#port-activiteiten-ld"))
    endpoint = port.get_by_role("link", name="/sparql/cultuur/cultuurparticipatie/activiteiten-ld")
    assert endpoint.get_attribute("href") == "/sparql/cultuur/cultuurparticipatie/activiteiten-ld"
    request = port.locator("pre#sparql-activiteiten-ld").inner_text()
    assert "Authorization: Bearer $token" in request and "application/sparql-results+json" in request
    assert port.get_by_role("table").count() == 0  # no schema or sample table for a graph
    assert port.get_by_role("button", name="Copy request").is_visible()
    shot(page, "07-product-linked-data")
