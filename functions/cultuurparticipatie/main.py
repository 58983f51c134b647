"""cultuurparticipatie: uploaded CSVs become analytical versions; each new version re-runs the
OSLO mapping into the `activiteiten-ld` linked-data port."""

from culturemesh.envelope import Envelope
from culturemesh.linkeddata.port import LinkedDataPort
from culturemesh.product import Product
from culturemesh.runtime import product_function


@product_function
def ingest(event: Envelope, product: Product) -> list[Envelope]:
    return product.ingest(event)


@product_function
def linked_data(event: Envelope, product: Product) -> list[Envelope]:
    return LinkedDataPort.of(product).handle(event)
