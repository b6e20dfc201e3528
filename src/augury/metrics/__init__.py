"""Metrics: time series identified by a name (``what``) plus dimensions, with tags."""
