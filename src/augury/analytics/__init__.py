"""Analytics: questions asked of datasets, saved charts and key drivers (see README.md)."""
