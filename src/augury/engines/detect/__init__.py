"""Streaming anomaly detection: pure code, arrays in, scores out.

The server, the CLI and the benchmarks all call :func:`score_series` (one metric)
or :func:`score_matrix` (many metrics, vectorised); both run the same streaming
kernel as :class:`StreamingDetector`, the point-at-a-time object whose state is
persisted between points.
"""

from augury.engines.detect.streaming import (
    DEFAULT_DECISION_LEVEL,
    ScoreResult,
    StreamingDetector,
    score_matrix,
    score_series,
)

__all__ = [
    "DEFAULT_DECISION_LEVEL",
    "ScoreResult",
    "StreamingDetector",
    "score_matrix",
    "score_series",
]
