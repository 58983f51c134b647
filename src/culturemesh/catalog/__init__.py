"""The catalog: every data product discoverable.

- :mod:`culturemesh.catalog.registry`: what the registry holds (frozen records), the
  :class:`Registry` seam and its errors;
- :mod:`culturemesh.catalog.sqlite` (embedded default) and :mod:`culturemesh.catalog.dynamo`
  (DynamoDB): the two backends, chosen by ``CULTUREMESH_REGISTRY`` through
  :func:`culturemesh.backends.open_registry`;
- :mod:`culturemesh.catalog.search`: ranked search with filters, identical on both backends;
- :mod:`culturemesh.catalog.freshness`: when a product is stale, and its stale events.

Import from those modules: the package itself imports nothing, so loading one part of the
catalog (the web pages, the freshness checker) does not load the registry and its descriptor
validation.
"""
