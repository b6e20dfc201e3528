"""The chat domain's services, a module per resource (see the domain's README)."""
