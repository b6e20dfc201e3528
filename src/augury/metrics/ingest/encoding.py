"""``Content-Encoding: gzip`` / ``deflate`` bodies, inflated whole or refused.

A gzip body may hold several members one after the other (``cat a.gz b.gz``, or a
sender that compresses in chunks); all of them are read. A body that ends inside a
member, or carries anything but another member (or zero padding, as gzip(1) accepts)
after one, is refused: keeping the part that did inflate would lose the rest without a
word. ``deflate`` is the zlib format (RFC 9110), one stream.
"""

from __future__ import annotations

import zlib

from augury.metrics.ingest.points import IngestError

INVALID_BODY = "INVALID_BODY"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


def inflate(body: bytes, *, max_size: int) -> bytes:
    """Every member of a gzip (or zlib) body; raise :class:`IngestError` with code
    ``PAYLOAD_TOO_LARGE`` past ``max_size`` inflated bytes (a zip bomb stops there) or
    ``INVALID_BODY`` if the body is not valid to its end."""
    if not body:
        return body
    out: list[bytes] = []
    size, rest = 0, body
    while True:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        try:
            chunk = inflater.decompress(rest, max_size - size + 1)
        except zlib.error as exc:
            raise IngestError(INVALID_BODY, f"not valid compressed data: {exc}") from exc
        size += len(chunk)
        if size > max_size:
            raise IngestError(PAYLOAD_TOO_LARGE, f"body inflates to more than {max_size} bytes")
        out.append(chunk)
        if not inflater.eof:
            raise IngestError(INVALID_BODY, "compressed data ends before its end marker")
        rest = inflater.unused_data.lstrip(b"\0")
        if not rest:
            return b"".join(out)
