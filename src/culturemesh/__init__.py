"""culturemesh: a data mesh for the Flemish cultural sector.

Data products (``functions/<product>/data-product.yaml``) own their data; CloudEvent-triggered
functions turn uploads into immutable, registered output-port versions; consumers subscribe to
the events and read the ports.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
