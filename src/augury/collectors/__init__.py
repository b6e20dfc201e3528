"""Collectors: data sources and the data streams augury polls from them (see README.md)."""
