"""The email channel: plain text and HTML with the charts inline, through the SMTP
server of :mod:`augury.mail` (or its outbox folder when none is configured).

SMTP answers are sorted like HTTP ones: 4xx and a dropped connection are *retryable*,
5xx and a bad address *permanent*.
"""

from __future__ import annotations

import hashlib
import html
import re
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

from email_validator import EmailNotValidError, validate_email

from augury.alerts.channels import formatting as fmt
from augury.alerts.channels.base import Attempt, SendResult, cut, delivered, failure
from augury.alerts.notification import Notification, NotificationMetric
from augury.config import Settings
from augury.mail import build_message, smtp_send, write_outbox

MAX_EMAIL_RECIPIENTS = 50
_CONTENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9.-]+)?$")


class Email:
    type = "email"
    keys: tuple[str, ...] = ("to",)
    secret_url = False

    def validate(self, config: dict) -> dict:
        return _validate_email(config)

    def send(self, config: dict, n: Notification, attempt: Attempt) -> SendResult:
        return _send_email(config, n, attempt)


CHANNEL = Email()


def _validate_email(c: dict) -> dict:
    raw = c.get("to")
    if isinstance(raw, str):
        raw = [part for part in re.split(r"[,;\s]+", raw) if part]
    if not isinstance(raw, list) or not raw:
        raise ValueError("email channel needs at least one address in 'to'")
    addresses: list[str] = []
    for item in raw:
        address = _normalise_address(item)
        if address.lower() not in (a.lower() for a in addresses):
            addresses.append(address)
    if len(addresses) > MAX_EMAIL_RECIPIENTS:
        raise ValueError(f"email channel takes at most {MAX_EMAIL_RECIPIENTS} addresses")
    return {"to": addresses}


def _normalise_address(item: object) -> str:
    if not isinstance(item, str) or not item.strip():
        raise ValueError(f"invalid email address {item!r}")
    try:
        return validate_email(item.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"invalid email address {item!r}: {exc}") from None


def render_email(
    config: dict,
    n: Notification,
    *,
    settings: Settings,
    images: Sequence[tuple[str, bytes]] = (),
) -> EmailMessage:
    """The alert mail: plain text, and HTML with the charts inline.

    ``images`` are ``(content_id, png_bytes)``; each is attached as a related part of the
    HTML and shown in it as ``<img src="cid:content_id">``, so mail clients show charts
    without loading anything remote. The open, update and close mails of one alert share
    a thread (``References``), so clients group them.
    """
    for cid, _ in images:
        if not _CONTENT_ID.match(cid):
            raise ValueError(f"invalid image content id {cid!r}")
    msg = build_message(
        settings,
        to=", ".join(config["to"]),
        subject=fmt.headline(n),
        text=_email_text(n),
        html=_email_html(n, [cid for cid, _ in images]),
    )
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Augury-Event"] = n.event
    _thread(msg, n)
    _attach_images(msg, images)
    return msg


def _thread(msg: EmailMessage, n: Notification) -> None:
    """Open mail gets the thread's Message-ID; update and close mails reply to it."""
    if n.event == "test":
        return
    thread_id = f"<alert-{hashlib.sha256(n.group_key.encode()).hexdigest()[:24]}@augury.local>"
    if n.event == "open":
        msg.replace_header("Message-ID", thread_id)
    else:
        msg["In-Reply-To"] = thread_id
        msg["References"] = thread_id


def _attach_images(msg: EmailMessage, images: Sequence[tuple[str, bytes]]) -> None:
    html_part = msg.get_body(preferencelist=("html",))
    if html_part is None:
        raise ValueError("the mail has no HTML part to show images in")
    for cid, data in images:
        html_part.add_related(
            data,
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            disposition="inline",
            filename=f"{cid.split('@')[0]}.png",
        )


def _email_text(n: Notification) -> str:
    lines = [fmt.headline(n), ""]
    if n.description:
        lines += [n.description, ""]
    lines += [f"{name}: {value}" for name, value in fmt.facts(n)]
    if n.metrics:
        lines += ["", f"Metrics ({len(n.metrics)}):"]
        for m in n.metrics:
            lines.append(f"- {m.name}: {fmt.metric_details(m)}")
            if fmt.safe_url(m.url):
                lines.append(f"  {m.url}")
    links = fmt.links(n)
    if links:
        lines += ["", "Links:"] + [f"- {text}: {url}" for text, url in links]
    if n.events:
        lines += ["", "Events around the alert:"] + [f"- {fmt.event_line(e)}" for e in n.events]
    lines += ["", "-- ", f"augury · {n.organization}" if n.organization else "augury"]
    return "\n".join(lines) + "\n"


def _email_html(n: Notification, cids: list[str]) -> str:
    esc = html.escape
    description = esc(n.description).replace("\n", "<br>")
    footer = f"augury · {esc(n.organization)}" if n.organization else "augury"
    parts = [
        "<!doctype html><html><body "
        'style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328">',
        f'<div style="border-left:4px solid #{fmt.colour(n)};padding:4px 16px">',
        f'<h2 style="margin:0 0 8px;font-size:18px">{esc(fmt.headline(n))}</h2>',
        f"<p>{description}</p>" if description else "",
        _html_facts(fmt.facts(n)),
        _html_metrics(n.metrics),
        "".join(
            f'<p><img src="cid:{esc(cid)}" alt="chart" style="max-width:100%"></p>' for cid in cids
        ),
        _html_links(fmt.links(n)),
        _html_events(n.events),
        "</div>",
        f'<p style="color:#656d76;font-size:12px">{footer}</p>',
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


def _html_facts(facts: list[tuple[str, str]]) -> str:
    rows = "".join(
        f'<tr><th style="text-align:left;padding:2px 12px 2px 0;color:#656d76">'
        f"{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in facts
    )
    return f'<table style="border-collapse:collapse;font-size:14px">{rows}</table>'


def _html_metrics(metrics: list[NotificationMetric]) -> str:
    if not metrics:
        return ""
    items = []
    for m in metrics:
        url = fmt.safe_url(m.url)
        name = html.escape(m.name)
        label = f'<a href="{html.escape(url)}">{name}</a>' if url else f"<code>{name}</code>"
        items.append(f"<li>{label}: {html.escape(fmt.metric_details(m))}</li>")
    return f'<h3 style="font-size:15px">Metrics ({len(metrics)})</h3><ul>{"".join(items)}</ul>'


def _html_links(links: list[tuple[str, str]]) -> str:
    if not links:
        return ""
    anchors = " · ".join(
        f'<a href="{html.escape(url)}">{html.escape(text)}</a>' for text, url in links
    )
    return f"<p>{anchors}</p>"


def _html_events(events: list[dict]) -> str:
    if not events:
        return ""
    items = "".join(f"<li>{html.escape(fmt.event_line(e))}</li>" for e in events)
    return f'<h3 style="font-size:15px">Events around the alert</h3><ul>{items}</ul>'


def _send_email(config: dict, n: Notification, attempt: Attempt) -> SendResult:
    """SMTP when configured; otherwise the outbox folder, which counts as delivered."""
    settings = attempt.settings
    msg = render_email(config, n, settings=settings, images=attempt.images)
    msg["X-Augury-Delivery"] = attempt.delivery_id
    if not settings.smtp.host:
        write_outbox(settings.outbox_dir, msg)
        return delivered()
    try:
        timeout_s = min(attempt.timeout_s, settings.smtp.timeout_s)
        refused = smtp_send(settings.smtp, msg, timeout_s=timeout_s)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        retryable = all(400 <= code < 500 for code in codes)
        return failure(
            retryable,
            codes[0] if codes else None,
            f"recipients refused: {_smtp_detail(exc.recipients)}",
        )
    except smtplib.SMTPResponseException as exc:
        code = exc.smtp_code
        retryable = not 500 <= code < 600
        return failure(
            retryable, code if code > 0 else None, f"SMTP {code}: {_smtp_text(exc.smtp_error)}"
        )
    except smtplib.SMTPServerDisconnected as exc:
        return failure(True, None, f"SMTP server disconnected: {exc}")
    except smtplib.SMTPException as exc:
        return failure(False, None, f"SMTP error: {exc}")
    except OSError as exc:  # refused, unreachable, timed out, TLS handshake
        return failure(True, None, f"SMTP connection failed: {str(exc) or exc.__class__.__name__}")
    if refused:
        return delivered(cut(f"some recipients refused: {_smtp_detail(refused)}", 500))
    return delivered()


def _smtp_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _smtp_detail(recipients: dict) -> str:
    return "; ".join(
        f"{addr} ({code} {_smtp_text(text)})" for addr, (code, text) in recipients.items()
    )
