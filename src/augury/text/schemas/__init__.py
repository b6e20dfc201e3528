"""Request and response bodies of the text API, one module per resource."""
