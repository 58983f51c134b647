"""The CLI's verbs, grouped by what they are about: products, the mesh, consumers."""
