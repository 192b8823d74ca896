"""Exports of the catalog for other analysis tools."""
