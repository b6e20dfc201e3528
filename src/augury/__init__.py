"""augury: self-hosted AI analytics platform."""

__version__ = "0.1.0"
