"""Generators that turn data-product descriptors into deployable configuration."""
