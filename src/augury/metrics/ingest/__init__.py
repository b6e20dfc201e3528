"""Wire-format parsers for metric senders: bytes in, :class:`ParseResult` out.

Each protocol module exposes ``parse(body: bytes, *, now: float, ...) -> ParseResult``.
They are pure: no I/O, no clock (``now`` is passed in), no logging configuration.
A problem with one sample is reported as a :class:`SampleError` and the other samples
are kept; a body that cannot be read at all raises :class:`IngestError`.

- :mod:`.anodot`     Anodot protocol 2.0 and 3.0 (stream schemas, watermarks)
- :mod:`.influx`     InfluxDB line protocol (what Telegraf's InfluxDB v2 output sends)
- :mod:`.prometheus` Prometheus remote write 1.0 (snappy + protobuf)
- :mod:`.csv`        CSV history backfill
"""

from augury.metrics.ingest.points import (
    TARGET_TYPES,
    IngestError,
    ParseResult,
    Sample,
    SampleError,
)

__all__ = ["TARGET_TYPES", "IngestError", "ParseResult", "Sample", "SampleError"]
