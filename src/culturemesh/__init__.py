"""culturemesh: a data mesh for the Flemish cultural sector.

Data products (``functions/<product>/data-product.yaml``) own their data; CloudEvent-triggered
functions turn uploads into immutable, registered output-port versions; consumers subscribe to
the events and read the ports.
"""

import os

__version__ = "0.1.0"

__all__ = ["__version__"]

# Arrow's jemalloc pool instead of its default (mimalloc): on the large, short-lived buffers of an
# ingest or a mapping it spends a third to half less system time on page faults (bench_ingest,
# bench_map). Read by pyarrow when it first allocates, so it must be set before that; an explicit
# ARROW_DEFAULT_MEMORY_POOL wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
