"""Tests of augury.forecasts."""
