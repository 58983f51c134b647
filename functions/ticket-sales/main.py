"""ticket-sales: an uploaded sales CSV becomes a new version of the `sales` port."""

from culturemesh.envelope import Envelope
from culturemesh.product import Product
from culturemesh.runtime import product_function


@product_function
def ingest(event: Envelope, product: Product) -> list[Envelope]:
    return product.ingest(event)
