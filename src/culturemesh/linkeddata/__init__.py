"""OSLO linked data: YARRRML mappings run column-wise over Arrow, and what is done with the result.

- :mod:`culturemesh.linkeddata.yarrrml` — ``load(source) -> MappingDocument`` (frozen dataclasses;
  undeclared prefixes, bad templates and unknown datatypes are refused at load time)
- :mod:`culturemesh.linkeddata.engine` — ``run(doc, tables) -> pa.Table`` (a quad table: string
  columns ``s``, ``p``, ``o``, ``g`` holding N-Quads terms, ``g`` null for the default graph)
- :mod:`culturemesh.linkeddata.serialize` — ``write(quads, out, format)``: N-Quads, Turtle, JSON-LD

Modules are imported where used, so ``import culturemesh.linkeddata`` stays cheap.
"""
