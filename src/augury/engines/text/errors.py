"""The one error the text engines raise for input they cannot use.

Like :class:`~augury.engines.tabular.errors.TableError`, it carries a stable ``code``
the server turns into its error envelope and the CLI into a message, so a bad upload
reads the same everywhere. Codes raised by :mod:`.documents`:

``EMPTY_FILE``, ``NO_ROWS``, ``UNSUPPORTED_FORMAT``, ``BINARY_FILE``, ``ENCODING``,
``INVALID_CSV``, ``INVALID_JSON``, ``INVALID_XLSX``, ``INVALID_PARQUET``, ``INVALID_PDF``,
``PDF_ENCRYPTED``, ``NO_TEXT``, ``OCR_UNAVAILABLE``, ``OCR_FAILED``, ``OCR_TIMEOUT``,
``COLUMN_NOT_FOUND``, ``FILE_TOO_LARGE``, ``TOO_MANY_COLUMNS``, ``SHEET_NOT_FOUND``,
``ZIP_BOMB``.
"""

from __future__ import annotations


class TextFileError(ValueError):
    """A file or value the text engines refuse, with a stable ``code``, a message that
    says what to do, and ``details`` (a JSON-able dict).

    >>> err = TextFileError("COLUMN_NOT_FOUND", "No column 'txt'.", {"columns": ["text"]})
    >>> err.code, str(err), err.details
    ('COLUMN_NOT_FOUND', "No column 'txt'.", {'columns': ['text']})
    """

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
