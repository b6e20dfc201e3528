"""Services of the text domain, one module per resource."""
