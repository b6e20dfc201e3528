"""Route modules of the text domain, one per resource (see ../router.py)."""
