"""``culturemesh map MAPPING [--source NAME=FILE …] [-o FILE] [--format nquads|turtle|jsonld]``.

Runs a YARRRML mapping in-process: each source the mapping names is read from the file given
with ``--source NAME=FILE``, or else from the file of that name next to the mapping.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from culturemesh.errors import ConfigError

OSLO_CONTEXT_HELP = "JSON-LD context file to compact JSON-LD with (e.g. the OSLO Cultuurparticipatie context)."


@click.command("map")
@click.argument("mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--source", "sources", multiple=True, metavar="NAME=FILE", help="The file for a source the mapping names."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default stdout).")
@click.option("--format", "rdf_format", type=click.Choice(["nquads", "turtle", "jsonld"]), default="nquads")
@click.option("--context", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=OSLO_CONTEXT_HELP)
def map_command(
    mapping: Path, sources: tuple[str, ...], output: Path | None, rdf_format: str, context: Path | None
) -> None:
    """Run the YARRRML MAPPING over its sources and write the RDF (N-Quads by default)."""
    from culturemesh.linkeddata import engine, serialize, yarrrml

    doc = yarrrml.load(mapping)
    files = parse_sources(sources, doc.sources)
    tables = engine.load_sources(doc, files)
    jsonld_context = serialize.load_context(context) if context else None
    with contextlib.ExitStack() as stack:
        out = sys.stdout.buffer if output is None else stack.enter_context(output.open("wb"))
        if rdf_format == "nquads":  # streamed rule by rule: no quad table is built
            count = serialize.write_lines(engine.nquads(doc, tables), out)
        else:
            quads = engine.run(doc, tables)
            serialize.write(quads, out, rdf_format, jsonld_context)  # type: ignore[arg-type]
            count = quads.num_rows
    if output is not None:
        click.echo(f"{count} quads from {mapping} -> {output} ({rdf_format})", err=True)


def parse_sources(values: tuple[str, ...], known: tuple[str, ...]) -> dict[str, Path]:
    """``NAME=FILE`` pairs; NAME must be a source the mapping names."""
    files: dict[str, Path] = {}
    for value in values:
        name, equals, file = value.partition("=")
        if not (equals and name and file):
            raise ConfigError(f"--source {value!r}: expected NAME=FILE, e.g. --source deelnames.csv=data/today.csv")
        if name not in known:
            raise ConfigError(
                f"--source {value!r}: the mapping has no source {name!r}; its sources: {', '.join(known)}"
            )
        if not Path(file).is_file():
            raise ConfigError(f"--source {value!r}: file {file!r} not found")
        files[name] = Path(file)
    return files


def register(group: click.Group) -> None:
    group.add_command(map_command)
