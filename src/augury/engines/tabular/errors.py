"""The one error the tabular engines raise for input they cannot use.

The server turns it into its error envelope (``code``, ``message``, ``details``), the
CLI into a message and exit status 2, so a bad file reads the same everywhere.
"""

from __future__ import annotations


class TableError(ValueError):
    """A file, query or value the tabular engines refuse, with a stable ``code``.

    >>> err = TableError("EMPTY_FILE", "The file is empty.")
    >>> err.code, str(err), err.details
    ('EMPTY_FILE', 'The file is empty.', {})
    """

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
