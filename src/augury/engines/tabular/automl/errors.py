"""The error the predictive-model engine raises for input or model files it refuses.

A :class:`ModelError` is a :class:`~augury.engines.tabular.errors.TableError`, so the
server turns it into its error envelope and the CLI into one line and exit status 2,
like every tabular error. Codes: ``TARGET_ONE_CLASS``, ``TARGET_EMPTY``,
``TARGET_NOT_NUMERIC``, ``TOO_FEW_ROWS``, ``UNKNOWN_COLUMN``, ``NO_FEATURES``,
``MISSING_COLUMNS``, ``BAD_DATE``, ``TOO_MANY_COLUMNS``, ``BAD_OPTIONS``, ``ABORTED``,
``MODEL_NOT_FOUND``, ``MODEL_FORMAT``, ``MODEL_KIND``, ``MODEL_CORRUPT``.

>>> err = ModelError("TARGET_ONE_CLASS", "The target has one class.", {"classes": ["a"]})
>>> err.code, err.details
('TARGET_ONE_CLASS', {'classes': ['a']})
"""

from __future__ import annotations

from ..errors import TableError


class ModelError(TableError):
    """Training data, options, rows to predict or a model file the engine refuses."""
