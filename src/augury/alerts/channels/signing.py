"""Webhook signatures: how augury signs a delivery and how a receiver checks it.

Webhook receivers authenticate a delivery with the ``X-Augury-Signature`` header,
``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``; :func:`verify_signature` is
the reference implementation of the check.
"""

from __future__ import annotations

import hashlib
import hmac

from augury import clock

SIGNATURE_HEADER = "X-Augury-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>." + body``.

    Signing the timestamp with the body lets a receiver refuse replays of an old delivery
    without keeping state: it checks that ``t`` is recent, and the MAC proves ``t`` is ours.
    """
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of ``X-Augury-Signature``: ``t=<timestamp>,v1=<hex>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header_value: str,
    body: bytes,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """Whether ``header_value`` signs ``body`` with ``secret`` at a time close to ``now``.

    The reference check for webhook receivers: parse ``t`` and every ``v1`` (several may
    appear while a secret is rotated), refuse a timestamp more than ``tolerance_s`` away
    from now, and compare MACs in constant time. ``body`` must be the raw bytes received,
    before any JSON parsing.
    """
    parsed = _parse_signature(header_value)
    if parsed is None:
        return False
    timestamp, candidates = parsed
    current = clock.now().timestamp() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).encode()
    return any(hmac.compare_digest(expected, c.encode()) for c in candidates)


def _parse_signature(header_value: str) -> tuple[int, list[str]] | None:
    timestamp: int | None = None
    candidates: list[str] = []
    for item in (header_value or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdecimal():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return None
    return timestamp, candidates
