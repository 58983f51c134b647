"""The web catalog, served by the embedded mesh at ``/catalog/``: a searchable product list and a
page per product (summary, owner, terms, ports and schemas, sample rows where the viewer may see
them, versions with freshness, a lineage picture, how to subscribe).

Server-rendered HTML with one stylesheet and one small script (copy buttons); no framework.
Product data is untrusted: every text goes through :func:`html.escape`, every link through
:func:`_href`. A viewer is a principal like an API caller: a bearer token from the
``Authorization`` header, or one pasted into the page's form (kept in an HttpOnly cookie).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from aiohttp import web

from culturemesh import events
from culturemesh.access import AccessDenied
from culturemesh.auth import ANONYMOUS
from culturemesh.catalog import search as catalog_search
from culturemesh.catalog.api import CATALOG, ApiError, Catalog, read_sample
from culturemesh.catalog.freshness import PortFreshness, product_freshness
from culturemesh.catalog.lineage_svg import lineage_svg
from culturemesh.catalog.registry import InvalidQuery, ProductRecord, RegistryError, VersionRecord
from culturemesh.descriptor import PortType
from culturemesh.subscriptions import subscription

STATIC = Path(__file__).parent / "web"
COOKIE = "culturemesh_token"
SAMPLE_ROWS = 10
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def product_href(product_id: str) -> str:
    return "/catalog/products/" + quote(product_id, safe="/")


def _href(uri: str | None) -> str | None:
    """A link target from product data: only http(s) and mailto, never ``javascript:``."""
    if uri and uri.strip().lower().startswith(("https://", "http://", "mailto:")):
        return uri.strip()
    return None


def _link(uri: str | None, text: object) -> str:
    target = _href(uri)
    return f'<a href="{_e(target)}">{_e(text)}</a>' if target else _e(text)


def _contact(contact: Any) -> str:
    if contact is None:
        return "—"
    address = contact.contact or ""
    link = _link(f"mailto:{address}" if "@" in address and ":" not in address else address, address)
    return _e(contact.name) + (f" · {link}" if address else "")


def _badge(state: str) -> str:
    label = {"fresh": "fresh", "stale": "stale: late", "unknown": "no update promise"}.get(state, state)
    return f'<span class="badge badge-{_e(state)}">{_e(label)}</span>'


def page(title: str, body: str, status: int = 200) -> web.Response:
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} · culturemesh catalog</title>
<link rel="stylesheet" href="/catalog/static/catalog.css">
<script src="/catalog/static/catalog.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><a class="brand" href="/catalog/">culturemesh <span>catalog</span></a>
<nav aria-label="Elsewhere"><a href="/api/openapi.yaml">JSON API</a></nav></header>
<main id="main">
{body}
</main>
<footer class="site">Data products of the Flemish cultural sector. Data shown as published by their owners.</footer>
</body>
</html>
"""
    return web.Response(text=html, content_type="text/html", status=status, headers=_HEADERS)


# --- viewer -------------------------------------------------------------------------------------


def viewer(request: web.Request) -> tuple[str, str]:
    """The viewing principal and a note for the page ("" when all is well)."""
    header = request.headers.get("Authorization")
    cookie = request.cookies.get(COOKIE)
    authorization = header or (f"Bearer {cookie}" if cookie else None)
    try:
        return request.app[CATALOG].principal(authorization), ""
    except ApiError:
        return ANONYMOUS, "The token given is not valid; you are viewing as anonymous."


def _viewer_form(principal: str, note: str, back: str) -> str:
    signed_in = principal != ANONYMOUS
    action = (
        f'<form method="post" action="/catalog/session/end"><input type="hidden" name="back" value="{_e(back)}">'
        '<button type="submit">Forget token</button></form>'
        if signed_in
        else f"""<form method="post" action="/catalog/session" class="inline">
<input type="hidden" name="back" value="{_e(back)}">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">View as its principal</button></form>"""
    )
    warning = f'<p class="note" role="alert">{_e(note)}</p>' if note else ""
    return f"""<section class="viewer" aria-label="Who is viewing">{warning}
<p>Viewing as <strong>{_e(principal)}</strong>.</p>{action}</section>"""


# --- list ---------------------------------------------------------------------------------------


def _options(name: str, label: str, values: Iterable[str], chosen: str) -> str:
    options = "".join(f'<option value="{_e(v)}"{" selected" if v == chosen else ""}>{_e(v)}</option>' for v in values)
    return (
        f'<label for="f-{name}">{label}</label>'
        f'<select id="f-{name}" name="{name}"><option value="">any</option>{options}</select>'
    )


def search_form(products: list[ProductRecord], query: dict[str, str]) -> str:
    domains = sorted({p.domain for p in products})
    owners = sorted({p.owner.name for p in products})
    return f"""<form class="search" role="search" method="get" action="/catalog/">
<div class="field grow"><label for="q">Search products</label>
<input id="q" name="q" type="search" value="{_e(query.get("q", ""))}" maxlength="{catalog_search.MAX_QUERY_CHARS}"
 placeholder="names, columns, themes, owners…" aria-describedby="q-help">
<small id="q-help">Words match names, summaries, columns and owners; "quoted phrases" match as a whole.</small></div>
<div class="field">{_options("domain", "Domain", domains, query.get("domain", ""))}</div>
<div class="field">{_options("portType", "Port type", [t.value for t in PortType], query.get("portType", ""))}</div>
<div class="field">{_options("owner", "Owner", owners, query.get("owner", ""))}</div>
<div class="field">{_options("freshness", "Freshness", ["fresh", "stale", "unknown"], query.get("freshness", ""))}</div>
<div class="field"><button type="submit">Search</button></div>
</form>"""


def result_item(hit: catalog_search.SearchHit) -> str:
    product = hit.product
    types = " ".join(f'<span class="tag">{_e(t)}</span>' for t in sorted({p.type for p in product.ports}))
    return f"""<li class="result"><article>
<h2><a href="{_e(product_href(product.id))}">{_e(product.name)}</a></h2>
<p class="id">{_e(product.id)} {_badge(hit.freshness.value)}</p>
<p>{_e(product.summary)}</p>
<p class="meta">Owner: {_e(product.owner.name)} {types}</p>
</article></li>"""


def list_page(catalog: Catalog, query: dict[str, str]) -> web.Response:
    registry = catalog.registry
    products = registry.products()
    filters = {k: query.get(k) or None for k in ("domain", "portType", "owner", "freshness")}
    try:
        hits = catalog_search.search(
            registry,
            query.get("q", ""),
            catalog_search.Filters(filters["domain"], filters["portType"], filters["owner"], filters["freshness"]),
            limit=500,
        )
    except InvalidQuery as exc:
        body = f'{search_form(products, query)}<p class="note" role="alert">{_e(exc)}</p>'
        return page("Search", body, status=400)
    searching = any(query.get(k) for k in ("q", "domain", "portType", "owner", "freshness"))
    count = f"{len(hits)} of {len(products)} products" + (" match" if searching else "")
    items = "".join(result_item(hit) for hit in hits)
    results = f'<ol class="results" aria-labelledby="count">{items}</ol>' if hits else ""
    empty = "" if hits else '<p class="empty">No product matches. Try fewer words or other filters.</p>'
    body = f"""<h1>Data products</h1>
{search_form(products, query)}
<p id="count" role="status">{_e(count)}</p>
{results}{empty}"""
    return page("Data products", body)


# --- product ------------------------------------------------------------------------------------


def schema_table(port: Any) -> str:
    rows = "".join(
        f'<tr><th scope="row"><code>{_e(c.name)}</code></th><td><code>{_e(c.type)}</code></td>'
        f"<td>{'yes' if c.nullable else 'no'}</td><td>{_e(c.classification or '—')}</td>"
        f"<td>{_e(c.description or '')}</td></tr>"
        for c in port.columns
    )
    if not rows:
        return "<p>This port declares no columns.</p>"
    return f"""<div class="scroll" tabindex="0" role="region" aria-label="Schema of port {_e(port.name)}">
<table><caption>Schema of <code>{_e(port.name)}</code></caption>
<thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Nullable</th>
<th scope="col">Classification</th><th scope="col">Description</th></tr></thead><tbody>{rows}</tbody></table></div>"""


def sample_section(catalog: Catalog, product: ProductRecord, port: Any, principal: str) -> str:
    try:
        sample = read_sample(catalog, product.id, port.name, principal, SAMPLE_ROWS)
    except AccessDenied:
        granted = ", ".join(port.principals) or "none"
        return (
            f'<p class="note">Sample rows are shown only to principals this port grants ({_e(granted)}); '
            f"you are viewing as <strong>{_e(principal)}</strong>.</p>"
        )
    except ApiError as exc:
        return f'<p class="note">No sample: {_e(exc.detail)}</p>'
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in sample["columns"])
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(row.get(c))}</td>" for c in sample["columns"]) + "</tr>" for row in sample["rows"]
    )
    withheld = (
        f'<p class="note">Withheld from {_e(principal)}: {_e(", ".join(sample["withheld"]))}</p>'
        if sample["withheld"]
        else ""
    )
    caption = (
        f"First {len(sample['rows'])} of {sample['totalRows']} rows of version {sample['version']}, as {principal}"
    )
    return f"""{withheld}<div class="scroll" tabindex="0" role="region" aria-label="Sample rows of {_e(port.name)}">
<table class="sample"><caption>{_e(caption)}</caption>
<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"""


def versions_table(found: PortFreshness, versions: list[VersionRecord]) -> str:
    if found.update_every:
        promise = f"Promises a new version every <code>{_e(found.update_every)}</code>; next due {_e(found.due)}."
    else:
        promise = "Declares no update interval."
    if not versions:
        return f"<p>{_badge(found.state.value)} {promise} No version published yet.</p>"
    rows = "".join(
        f'<tr><td><code>{_e(v.version)}</code></td><td><time datetime="{_e(v.created)}">{_e(v.created)}</time></td>'
        f"<td>{v.rows:,}</td><td>{v.bytes:,} B</td><td>{_e(', '.join(u.product for u in v.upstreams) or '—')}</td></tr>"
        for v in versions[:20]
    )
    return f"""<p>{_badge(found.state.value)} {promise}</p>
<div class="scroll" tabindex="0" role="region" aria-label="Versions of port {_e(found.port)}">
<table><caption>Versions of <code>{_e(found.port)}</code>, newest first ({len(versions)} in all)</caption>
<thead><tr><th scope="col">Version</th><th scope="col">Created</th><th scope="col">Rows</th><th scope="col">Size</th>
<th scope="col">Read from</th></tr></thead><tbody>{rows}</tbody></table></div>"""


def sparql_section(product: ProductRecord, port: Any) -> str:
    """How to query a linked-data port: its SPARQL endpoint and a request to copy."""
    path = f"/sparql/{product.id}/{port.name}"
    example = (
        "token=$(culturemesh tokens issue PRINCIPAL)\n"
        'curl -H "Authorization: Bearer $token" -H "Accept: application/sparql-results+json" \\\n'
        "  --data-urlencode 'query=SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 10' \\\n"
        f"  http://127.0.0.1:8470{path}"
    )
    return f"""<h4>Query with SPARQL</h4>
<p>One named graph per entity, checked against the port's SHACL shapes. SPARQL 1.1 endpoint:
<a href="{_e(path)}"><code>{_e(path)}</code></a> on the mesh (below on its default address), for the
principals this port grants; updates are refused.</p>
<div class="code"><pre id="sparql-{_e(port.name)}" aria-label="SPARQL request"><code>{_e(example)}</code></pre>
<button type="button" class="copy" data-copy="sparql-{_e(port.name)}">Copy request</button></div>"""


def port_section(catalog: Catalog, product: ProductRecord, port: Any, found: PortFreshness, principal: str) -> str:
    versions = catalog.registry.versions(product.id, port.name)
    if port.type == "linkeddata":
        body = sparql_section(product, port)
    else:
        body = f"{schema_table(port)}\n<h4>Sample rows</h4>\n{sample_section(catalog, product, port, principal)}"
    return f"""<section class="port" aria-labelledby="port-{_e(port.name)}">
<h3 id="port-{_e(port.name)}">Port <code>{_e(port.name)}</code> <span class="tag">{_e(port.type)}</span>
<span class="tag">{_e(port.format)}</span></h3>
<p>{_e(port.description or "")} {_e(port.content_description or "")}</p>
<p>Access granted to: {_e(", ".join(port.principals) or "every principal (unclassified columns)")}</p>
{body}
<h4>Version history and freshness</h4>
{versions_table(found, versions)}
</section>"""


def subscribe_section(product: ProductRecord) -> str:
    sink, name = "https://consumer.example/events", f"{product.name}-published"
    command = (
        f"culturemesh subscribe --sink {sink} \\\n  --product {product.id} \\\n"
        f"  --type {events.PUBLISHED} --name {name}"
    )
    trigger = subscription(name, sink, {"dataproduct": product.id, "type": events.PUBLISHED})
    manifest = yaml.safe_dump(trigger, sort_keys=False)
    return f"""<section aria-labelledby="subscribe"><h2 id="subscribe">Subscribe</h2>
<p>Get a CloudEvent each time a new version is published. Replace the sink with your endpoint.</p>
<h3 id="cli-title">With the CLI</h3>
<div class="code"><pre id="cli" aria-labelledby="cli-title"><code>{_e(command)}</code></pre>
<button type="button" class="copy" data-copy="cli">Copy command</button></div>
<h3 id="yaml-title">As a Knative Trigger</h3>
<div class="code"><pre id="trigger" aria-labelledby="yaml-title"><code>{_e(manifest)}</code></pre>
<button type="button" class="copy" data-copy="trigger">Copy YAML</button></div>
</section>"""


def product_page(catalog: Catalog, product_id: str, principal: str, note: str) -> web.Response:
    registry = catalog.registry
    product = registry.product(product_id)
    freshness = product_freshness(registry, product, datetime.now(UTC))
    lineage = registry.lineage(product_id)
    known = {p.id for p in registry.products()}
    terms = product.terms_of_use
    themes = ", ".join(product.themes) or "—"
    ports = "".join(
        port_section(catalog, product, port, found, principal)
        for port, found in zip(product.ports, freshness.ports, strict=True)
    )
    body = f"""<nav aria-label="Breadcrumb"><a href="/catalog/">All products</a></nav>
<h1>{_e(product.name)} {_badge(freshness.state.value)}</h1>
<p class="id">{_e(product.id)}</p>
<p class="summary">{_e(product.summary)}</p>
<dl class="facts">
<dt>Owner</dt><dd>{_contact(product.owner)}</dd>
<dt>Technical team</dt><dd>{_contact(product.team)}</dd>
<dt>Terms of use</dt><dd>{_link(terms.uri, terms.name or terms.uri) if terms else "—"}</dd>
<dt>Domain</dt><dd>{_e(product.domain)}</dd><dt>Themes</dt><dd>{_e(themes)}</dd>
<dt>Registered</dt><dd>{_e(product.registered)} (updated {_e(product.updated)})</dd>
</dl>
{_viewer_form(principal, note, product_href(product.id))}
<section aria-labelledby="ports"><h2 id="ports">Output ports</h2>{ports}</section>
<section aria-labelledby="lineage"><h2 id="lineage">Lineage</h2>
{lineage_svg(product_id, lineage, known, product_href)}</section>
{subscribe_section(product)}
<p><a href="/api/products/{_e(quote(product.id, safe="/"))}">This product as JSON</a></p>"""
    return page(product.name, body)


# --- HTTP ---------------------------------------------------------------------------------------


async def _list(request: web.Request) -> web.Response:
    catalog, query = request.app[CATALOG], {k: v[:1000] for k, v in request.query.items()}
    response: web.Response = await asyncio.to_thread(list_page, catalog, query)
    return response


async def _product(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    product_id = f"{request.match_info['domain']}/{request.match_info['name']}"
    principal, note = viewer(request)
    try:
        response: web.Response = await asyncio.to_thread(product_page, catalog, product_id, principal, note)
    except RegistryError as exc:
        body = f'<h1>Not found</h1><p>{_e(exc)}</p><p><a href="/catalog/">All products</a></p>'
        return page("Not found", body, status=exc.status if exc.status < 500 else 503)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _back(form: Any) -> str:
    back = str(form.get("back", ""))
    return back if back.startswith("/catalog/") and "//" not in back and "\\" not in back else "/catalog/"


async def _sign_in(request: web.Request) -> web.Response:
    form = await request.post()
    response = web.HTTPSeeOther(_back(form))
    token = str(form.get("token", "")).strip()
    if token:
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/catalog/", max_age=8 * 3600)
    raise response


async def _sign_out(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther(_back(await request.post()))
    response.del_cookie(COOKIE, path="/catalog/")
    raise response


async def _not_found(request: web.Request) -> web.Response:
    return page("Not found", '<h1>Not found</h1><p><a href="/catalog/">All products</a></p>', status=404)


def web_app(catalog: Catalog) -> web.Application:
    """The ``/catalog/`` sub-application."""
    app = web.Application()
    app[CATALOG] = catalog
    app.add_routes(
        [
            web.get("/", _list),
            web.get("/products/{domain}/{name}", _product),
            web.post("/session", _sign_in),
            web.post("/session/end", _sign_out),
            web.static("/static", STATIC, append_version=False),
            web.get("/{tail:.*}", _not_found),
        ]
    )
    return app
