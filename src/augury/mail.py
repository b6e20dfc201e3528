"""Outgoing mail: SMTP when configured, otherwise an outbox folder of .eml files.

The outbox keeps augury usable offline: `augury outbox` lists what would have been
sent (password resets, invitations), and tests read it like a mailbox.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from augury import clock
from augury.config import Settings, SmtpSettings


def build_message(
    settings: Settings, *, to: str, subject: str, text: str, html: str | None = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = make_msgid(domain="augury.local")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def send_mail(
    settings: Settings, *, to: str, subject: str, text: str, html: str | None = None
) -> str:
    """Send one mail; returns ``"smtp"`` or the path of the outbox file written."""
    msg = build_message(settings, to=to, subject=subject, text=text, html=html)
    if not settings.smtp.host:
        return str(write_outbox(settings.outbox_dir, msg))
    smtp_send(settings.smtp, msg)
    return "smtp"


def smtp_send(
    smtp: SmtpSettings, msg: EmailMessage, *, timeout_s: float | None = None
) -> dict[str, tuple[int, bytes]]:
    """Send ``msg`` through the configured SMTP server (implicit TLS, or STARTTLS, then
    login when a user name is set); the one SMTP client of augury, for account mails and
    alert channels alike.

    Returns the recipients the server refused while accepting others; raises
    :mod:`smtplib`'s exceptions and ``OSError`` (for the caller to sort into retryable or
    not). ``timeout_s`` defaults to the configured one.
    """
    if not smtp.host:
        raise ValueError("no SMTP server is configured (smtp.host)")
    timeout = smtp.timeout_s if timeout_s is None else timeout_s
    client: smtplib.SMTP
    if smtp.ssl:
        context = ssl.create_default_context()
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    with client:
        if smtp.starttls and not smtp.ssl:
            client.starttls(context=ssl.create_default_context())
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        return client.send_message(msg)


def write_outbox(folder: Path, msg: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(msg))
    return path


def read_outbox(folder: Path) -> list[dict]:
    """Mails in the outbox, oldest first: path, to, subject, date and text body."""
    from email import policy
    from email.parser import BytesParser

    out = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = msg.get_body(preferencelist=("plain",))
        out.append(
            {
                "id": path.stem,
                "path": str(path),
                "to": msg["To"],
                "subject": msg["Subject"],
                "date": msg["Date"],
                "text": body.get_content() if body else "",
            }
        )
    return out
