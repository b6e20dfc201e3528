"""The Slack channel: an incoming-webhook message with Block Kit blocks.

The URL is the credential (Slack's incoming-webhook URL), so the API shows it cut.
"""

from __future__ import annotations

from augury.alerts.channels import formatting as fmt
from augury.alerts.channels.base import HttpRequest, cut, optional_str, require_url
from augury.alerts.channels.http import HttpChannel
from augury.alerts.notification import Notification, NotificationMetric


class Slack(HttpChannel):
    type = "slack"
    keys: tuple[str, ...] = ("url", "channel", "username")
    secret_url = True

    def validate(self, config: dict) -> dict:
        return _validate_slack(config)

    def render(self, config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
        return _render_slack(config, n, delivery_id, now)


CHANNEL = Slack()


def _validate_slack(c: dict) -> dict:
    channel = optional_str(c.get("channel"), "slack channel")
    if channel and any(ch.isspace() for ch in channel):
        raise ValueError("slack channel must not contain spaces")
    if channel and channel[0] not in "#@":
        channel = f"#{channel}"
    username = optional_str(c.get("username"), "slack username")
    if username and len(username) > 80:
        raise ValueError("slack username must be at most 80 characters")
    return {"url": require_url(c.get("url")), "channel": channel, "username": username}


def _render_slack(config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
    """An incoming-webhook message: ``text`` for notifications, ``blocks`` for the channel."""
    payload: dict = {"text": _slack_escape(fmt.headline(n)), "blocks": _slack_blocks(n)}
    if config.get("channel"):
        payload["channel"] = config["channel"]
    if config.get("username"):
        payload["username"] = config["username"]
    return HttpRequest(url=config["url"], headers=fmt.json_headers(), body=fmt.json_bytes(payload))


def _slack_escape(text: str) -> str:
    """Slack mrkdwn treats ``&``, ``<`` and ``>`` as markup; nothing else needs escaping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def _slack_blocks(n: Notification) -> list[dict]:
    header = (
        f"{fmt.EVENT_EMOJI.get(n.event, '')} {fmt.EVENT_LABELS.get(n.event, n.event)}: {n.title}"
    )
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": cut(header, 150), "emoji": True},
        },
        _slack_summary(n),
    ]
    if n.metrics:
        blocks.append({"type": "section", "text": _mrkdwn(_slack_metric_list(n.metrics))})
    buttons = _slack_buttons(n)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    blocks.append({"type": "context", "elements": [_mrkdwn(_slack_context(n))]})
    return blocks


def _slack_summary(n: Notification) -> dict:
    fields = [
        _mrkdwn(f"*Severity*\n{n.severity.upper()}"),
        _mrkdwn(f"*Score*\n{fmt.number(n.score)}"),
        _mrkdwn(f"*Metrics*\n{len(n.metrics)}"),
        _mrkdwn(f"*Duration*\n{fmt.duration(n.duration_s)}"),
    ]
    if n.group:
        fields.append(_mrkdwn(cut(f"*Group*\n{_slack_escape(fmt.dims(n.group))}", 2000)))
    section: dict = {"type": "section", "fields": fields}
    if n.description:
        section["text"] = _mrkdwn(cut(_slack_escape(n.description), 3000))
    return section


def _slack_metric_list(metrics: list[NotificationMetric], shown: int = 10) -> str:
    lines = []
    for m in metrics[:shown]:
        name = _slack_escape(m.name)
        url = fmt.safe_url(m.url).replace("|", "%7C").replace(">", "%3E")
        label = f"<{url}|{name}>" if url else f"`{name}`"
        lines.append(f"• {label}: {_slack_escape(fmt.metric_details(m))}")
    if len(metrics) > shown:
        lines.append(f"…and {len(metrics) - shown} more")
    return cut("\n".join(lines), 3000)


def _slack_buttons(n: Notification) -> list[dict]:
    return [
        {"type": "button", "text": {"type": "plain_text", "text": cut(text, 75)}, "url": url}
        for text, url in fmt.links(n)[:5]
        if len(url) <= 3000
    ]


def _slack_context(n: Notification) -> str:
    """Where it comes from; ``<!date^…>`` shows the start in each reader's time zone."""
    parts = ["augury"]
    if n.organization:
        parts.append(_slack_escape(n.organization))
    parts.append(f"trigger #{n.trigger_id}")
    started = fmt.rfc3339(n.start)
    parts.append(f"<!date^{int(n.start)}^started {{date_short_pretty}} {{time}}|started {started}>")
    return " · ".join(parts)
