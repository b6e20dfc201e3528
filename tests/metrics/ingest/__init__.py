"""Tests of the metric ingestion parsers."""
