"""M4 Hourly benchmark for augury's forecasting engine (``python -m benchmarks.m4.run``)."""
