"""Datasets: tables people upload, versioned, profiled and queried (see README.md)."""
