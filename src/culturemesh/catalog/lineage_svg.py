"""The lineage picture of the web catalog: a product between the products it reads (left) and
the products that read it (right), as inline SVG drawn on the server, with the same links as a
plain list beside it for screen readers and text browsers.

Product names are untrusted: every text is escaped, and a node links only to a registered product.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from html import escape

from culturemesh.catalog.registry import Lineage, LineageEdge

NODE_W, NODE_H, GAP, PAD = 230, 46, 18, 12
WIDTH = 3 * NODE_W + 2 * 90 + 2 * PAD


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _short(text: str, size: int = 30) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _node(x: int, y: int, label: str, detail: str, href: str | None, kind: str) -> str:
    inner = (
        f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" class="node node-{kind}"/>'
        f'<text x="{x + 12}" y="{y + 20}" class="node-label">{_e(_short(label))}</text>'
        f'<text x="{x + 12}" y="{y + 37}" class="node-detail">{_e(_short(detail, 34))}</text>'
    )
    title = f"<title>{_e(label)} ({_e(detail)})</title>"
    if href is None:
        return f'<g class="lineage-node">{title}{inner}</g>'
    return f'<a href="{_e(href)}" class="lineage-link">{title}{inner}</a>'


def _curve(x1: int, y1: int, x2: int, y2: int, declared: bool) -> str:
    middle = (x1 + x2) // 2
    dash = "" if declared else ' stroke-dasharray="5 4"'
    return f'<path d="M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}" class="edge"{dash} marker-end="url(#arrow)"/>'


def _column(edges: tuple[LineageEdge, ...], side: str) -> list[tuple[str, str]]:
    """(product, port text) per neighbour: upstream nodes name the port read, downstream the reader."""
    seen: dict[str, list[str]] = {}
    for edge in edges:
        other = edge.upstream if side == "up" else edge.downstream
        seen.setdefault(other, []).append(edge.upstream_port)
    return [(product, "port " + ", ".join(sorted(set(ports)))) for product, ports in seen.items()]


def lineage_svg(product: str, lineage: Lineage, registered: Collection[str], href: Callable[[str], str]) -> str:
    """The picture and the list; ``registered`` products get links (via ``href``)."""
    ups, downs = _column(lineage.upstream, "up"), _column(lineage.downstream, "down")
    if not ups and not downs:
        return "<p>This product reads no other product, and no product reads it yet.</p>"
    rows = max(len(ups), len(downs), 1)
    height = rows * (NODE_H + GAP) - GAP + 2 * PAD
    centre_y = (height - NODE_H) // 2
    xs = (PAD, PAD + NODE_W + 90, PAD + 2 * (NODE_W + 90))
    parts = [_node(xs[1], centre_y, product, "this product", None, "self")]
    declared_up = {e.upstream: e.declared for e in lineage.upstream}
    declared_down = {e.downstream: e.declared for e in lineage.downstream}
    for column, items, declared in ((0, ups, declared_up), (2, downs, declared_down)):
        top = (height - (len(items) * (NODE_H + GAP) - GAP)) // 2
        for i, (other, detail) in enumerate(items):
            y = top + i * (NODE_H + GAP)
            link = href(other) if other in registered else None
            parts.append(_node(xs[column], y, other, detail, link, "up" if column == 0 else "down"))
            if column == 0:
                parts.append(
                    _curve(xs[0] + NODE_W, y + NODE_H // 2, xs[1] - 4, centre_y + NODE_H // 2, declared[other])
                )
            else:
                parts.append(
                    _curve(xs[1] + NODE_W, centre_y + NODE_H // 2, xs[2] - 4, y + NODE_H // 2, declared[other])
                )
    svg = (
        f'<svg class="lineage" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="group" aria-label="Lineage of {_e(product)}: reads from the left, read by the right">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow"/></marker></defs>'
        + "".join(parts)
        + "</svg>"
    )
    return f'<div class="scroll lineage-wrap">{svg}</div>{_lists(ups, downs, registered, href)}'


def _lists(
    ups: list[tuple[str, str]], downs: list[tuple[str, str]], registered: Collection[str], href: Callable[[str], str]
) -> str:
    def items(entries: list[tuple[str, str]]) -> str:
        if not entries:
            return "<li>none</li>"
        return "".join(
            (
                f'<li><a href="{_e(href(p))}">{_e(p)}</a> ({_e(d)})</li>'
                if p in registered
                else f"<li>{_e(p)} ({_e(d)}, not in the catalog)</li>"
            )
            for p, d in entries
        )

    return (
        '<div class="lineage-lists"><div><h3 id="upstream">Reads from</h3>'
        f'<ul aria-labelledby="upstream">{items(ups)}</ul></div>'
        f'<div><h3 id="downstream">Read by</h3><ul aria-labelledby="downstream">{items(downs)}</ul></div></div>'
    )
