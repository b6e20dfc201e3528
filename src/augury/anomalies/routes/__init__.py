"""Route modules of the anomalies domain beside ../router.py: ``patterns`` ("seen before").

They live here, not as ``pattern_router.py``, because the import contracts exempt a
domain's ``router``, ``deps`` and ``routes.*`` modules from the HTTP-layer rule."""
