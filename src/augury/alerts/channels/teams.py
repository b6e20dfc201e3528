"""The Microsoft Teams channel: an Office 365 connector MessageCard.

The URL is the credential (an incoming-webhook URL), so the API shows it cut.
"""

from __future__ import annotations

import html

from augury.alerts.channels import formatting as fmt
from augury.alerts.channels.base import HttpRequest, cut, require_url
from augury.alerts.channels.http import HttpChannel
from augury.alerts.notification import Notification


class Teams(HttpChannel):
    type = "teams"
    keys: tuple[str, ...] = ("url",)
    secret_url = True

    def validate(self, config: dict) -> dict:
        return _validate_teams(config)

    def render(self, config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
        return _render_teams(config, n, delivery_id, now)


CHANNEL = Teams()


def _validate_teams(c: dict) -> dict:
    return {"url": require_url(c.get("url"))}


def _render_teams(config: dict, n: Notification, delivery_id: str, now: int) -> HttpRequest:
    """An Office 365 connector MessageCard: a coloured card with facts and a link."""
    return HttpRequest(
        url=config["url"], headers=fmt.json_headers(), body=fmt.json_bytes(_teams_card(n))
    )


def _teams_card(n: Notification) -> dict:
    esc = _teams_escape
    facts = [{"name": name, "value": esc(value)} for name, value in fmt.facts(n)]
    facts += [{"name": esc(m.name), "value": esc(fmt.metric_details(m))} for m in n.metrics[:10]]
    card: dict = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": fmt.colour(n),
        "summary": cut(fmt.headline(n), 200),
        "title": esc(fmt.headline(n)),
        "sections": [
            {
                "activityTitle": esc(n.title),
                "activitySubtitle": esc(
                    f"augury · {n.organization}" if n.organization else "augury"
                ),
                "text": esc(n.description),
                "facts": facts,
                "markdown": True,
            }
        ],
    }
    actions = [
        {"@type": "OpenUri", "name": cut(text, 75), "targets": [{"os": "default", "uri": url}]}
        for text, url in fmt.links(n)[:5]
    ]
    if actions:
        card["potentialAction"] = actions
    return card


def _teams_escape(text: str) -> str:
    """Teams renders a subset of HTML in card text; user text must not become markup."""
    return html.escape(text, quote=False)
