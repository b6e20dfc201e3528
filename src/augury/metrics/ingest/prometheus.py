"""Prometheus remote write 1.0: a snappy (block format) compressed protobuf WriteRequest.

Only the messages remote write 1.0 uses are decoded, by a small wire-format reader::

    WriteRequest { repeated TimeSeries timeseries = 1; }      // metadata = 3 ignored
    TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
    Label        { string name = 1; string value = 2; }
    Sample       { double value = 1; int64 timestamp = 2; }   // timestamp in ms

Exemplars (3) and native histograms (4) are skipped; unknown fields are skipped as the
protobuf rules say. ``__name__`` becomes :attr:`Sample.what`, the other labels the
dimensions (verbatim: dots and spaces are legal in Prometheus label values). Stale
markers (the NaN with bits ``0x7ff0000000000002`` Prometheus writes when a series
disappears) are skipped silently; any other NaN or infinity is refused (2026). A series
without ``__name__`` is refused (2012), and so is one the database cannot store
(:mod:`.limits`: name and label lengths, label count, NUL characters; see
:data:`SERIES_CODES`). :attr:`SampleError.index` is the position of the time series in
the request. Remote write sends every series as a gauge; rate-like
semantics are for the query side.
"""

from __future__ import annotations

import struct

import cramjam

from augury.metrics.ingest import limits
from augury.metrics.ingest.points import (
    MAX_FUTURE_S,
    WHAT_UNDEFINED,
    IngestError,
    ParseResult,
    Sample,
    check_timestamp,
    check_value,
    printable,
)

STALE_NAN_BITS = 0x7FF0000000000002
INVALID_BODY = "INVALID_BODY"
SERIES_CODES = frozenset({WHAT_UNDEFINED, *limits.CODES})
"""Codes of a series refused whole, for good: no ``__name__``, or labels the database
cannot store (:mod:`.limits`). The route answers 400 for those (remote write does not
retry a 4xx) and 204 when only single samples were refused."""
MAX_DECOMPRESSED = 64 * 1024 * 1024
"""Refuse bodies that would decompress to more than this (a snappy bomb)."""

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_DOUBLE = struct.Struct("<d")
_UINT64 = struct.Struct("<Q")


class WireError(ValueError):
    """Bytes that are not a valid protobuf encoding of the expected message."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint too long")


def iter_fields(buf: bytes):
    """Yield ``(field_number, wire_type, value)`` of a message.

    ``value`` is an int for varints, the raw 8 (or 4) bytes for fixed-width fields and a
    bytes slice for length-delimited ones.
    """
    pos, end = 0, len(buf)
    value: int | bytes
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire == _I64:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == _LEN:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == _I32:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise WireError(f"unsupported wire type {wire}")
        if pos > end:
            raise WireError("truncated field")
        yield number, wire, value


def _label(buf: bytes) -> tuple[str, str]:
    name = value = ""
    for number, wire, raw in iter_fields(buf):
        if wire == _LEN and number in (1, 2):
            text = bytes(raw).decode("utf-8")
            if number == 1:
                name = text
            else:
                value = text
    return name, value


def _sample(buf: bytes) -> tuple[int, int]:
    """(value bits, timestamp ms) of one Sample message."""
    bits = timestamp = 0
    for number, wire, raw in iter_fields(buf):
        if number == 1 and wire == _I64:
            bits = _UINT64.unpack(raw)[0]
        elif number == 2 and wire == _VARINT:
            timestamp = raw - (1 << 64) if raw >= 1 << 63 else raw
    return bits, timestamp


def _series(buf: bytes) -> tuple[dict[str, str], list[tuple[int, int]]]:
    labels: dict[str, str] = {}
    samples: list[tuple[int, int]] = []
    for number, wire, raw in iter_fields(buf):
        if wire != _LEN:
            continue
        if number == 1:
            name, value = _label(raw)
            labels[name] = value
        elif number == 2:
            samples.append(_sample(raw))
    return labels, samples


def decompress(body: bytes, *, max_size: int = MAX_DECOMPRESSED) -> bytes:
    """Undo snappy block compression; raise :class:`IngestError` if it is not snappy."""
    try:
        size = cramjam.snappy.decompress_raw_len(body)
    except Exception as exc:  # cramjam raises its own DecompressionError
        raise IngestError(INVALID_BODY, f"body is not snappy block data: {exc}") from exc
    if size > max_size:
        raise IngestError("PAYLOAD_TOO_LARGE", f"decompressed body of {size} bytes is too large")
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except Exception as exc:
        raise IngestError(INVALID_BODY, f"body is not snappy block data: {exc}") from exc


def parse(
    body: bytes,
    *,
    now: float,
    compressed: bool = True,
    max_future_s: float = MAX_FUTURE_S,
) -> ParseResult:
    """Parse a remote-write body; raise :class:`IngestError` if it cannot be decoded.

    ``compressed=False`` takes an already decompressed WriteRequest.
    """
    data = decompress(body) if compressed else body
    try:
        series = [raw for number, wire, raw in iter_fields(data) if number == 1 and wire == _LEN]
        decoded = [_series(raw) for raw in series]
    except (WireError, UnicodeDecodeError, struct.error) as exc:
        raise IngestError(INVALID_BODY, f"body is not a remote-write WriteRequest: {exc}") from exc
    result = ParseResult()
    for index, (labels, points) in enumerate(decoded):
        what = labels.pop("__name__", "")
        if not what:
            result.error(index, WHAT_UNDEFINED, "Time series has no __name__ label.")
            continue
        problem = limits.check_series(what, labels)
        if problem:
            result.error(index, problem[0], f"Time series {printable(what, 60)}: {problem[1]}")
            continue
        for bits, ms in points:
            if bits == STALE_NAN_BITS:
                continue
            value = _DOUBLE.unpack(_UINT64.pack(bits))[0]
            ts = ms / 1000.0
            problem = check_value(value) or check_timestamp(ts, now=now, max_future_s=max_future_s)
            if problem:
                result.error(index, problem[0], f"{what} at {ms} ms: {problem[1]}")
                continue
            result.add(index, Sample(what, labels, ts, value))
    return result


# ------------------------------------------------------------------------ encoding


def _varint_bytes(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _varint_bytes(number << 3 | _LEN) + _varint_bytes(len(payload)) + payload


def encode_labels(labels: dict[str, str]) -> bytes:
    """The ``Label`` fields of a TimeSeries (reusable across requests)."""
    return b"".join(
        _field(1, _field(1, k.encode()) + _field(2, v.encode())) for k, v in labels.items()
    )


def encode(series, *, compress: bool = True) -> bytes:
    """A remote-write body from ``[(labels, [(value, ms), ...]), ...]``, the inverse of
    :func:`parse` (``labels`` a dict, or bytes from :func:`encode_labels`). For
    clients, tests and benchmarks; augury itself only reads this format."""
    out = []
    for labels, samples in series:
        raw = labels if isinstance(labels, bytes) else encode_labels(labels)
        for value, ms in samples:
            sample = b"\x09" + _DOUBLE.pack(value) + b"\x10" + _varint_bytes(int(ms))
            raw += _field(2, sample)
        out.append(_field(1, raw))
    body = b"".join(out)
    return bytes(cramjam.snappy.compress_raw(body)) if compress else body
