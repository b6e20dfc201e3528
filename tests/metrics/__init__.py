"""Tests of augury.metrics."""
