"""The one error the text models raise: training data, inputs or model files they
cannot use.

Like :class:`~augury.engines.tabular.errors.TableError` it carries a stable ``code``
that the server turns into its error envelope and the CLI into a message, so a bad
training set or model file reads the same everywhere. Codes:

``NO_TEXT`` (nothing to train on or classify), ``TOO_FEW_CLASSES`` (fewer than two
classes with examples), ``BAD_TARGETS`` (targets that do not fit the task),
``BAD_CLASSES`` (zero-shot classes without a name, or repeated),
``BAD_RECORD`` (an ABSA record of the wrong shape), ``MODEL_NOT_FOUND``,
``MODEL_FORMAT`` (not a text model, or one of a newer format), ``MODEL_KIND`` (a model
of another kind), ``MODEL_CORRUPT`` (its content hash does not match: changed or
truncated), ``EMBEDDER_MISMATCH`` (fitted on other embeddings than the ones at hand),
``EMBEDDER_UNAVAILABLE`` (the embedding model could not be loaded); for a local
embedding model (:mod:`.local_embed`): ``LOCAL_MODEL_NOT_FOUND``,
``LOCAL_MODEL_NO_TOKENIZER``, ``LOCAL_MODEL_UNSUPPORTED`` (a layout or module it cannot
run), ``LOCAL_MODEL_RUNTIME_MISSING`` (onnxruntime not installed),
``LOCAL_MODEL_BAD_CONFIG`` and ``LOCAL_MODEL_BAD_GRAPH``.
"""

from __future__ import annotations


class TextModelError(ValueError):
    """Training data, input or a model file the text models refuse, with a stable
    ``code``, a message that says what to do, and ``details`` (a JSON-able dict).

    >>> err = TextModelError("TOO_FEW_CLASSES", "Label at least two classes.")
    >>> err.code, str(err), err.details
    ('TOO_FEW_CLASSES', 'Label at least two classes.', {})
    """

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
