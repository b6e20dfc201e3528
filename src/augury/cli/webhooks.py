"""`augury webhooks list|events|create|show|update|delete|test|deliveries`: the
organization's event webhooks on an augury server, through its API (docs/webhooks.md).

Like `augury data`, these talk to a server (`--url`, or AUGURY_URL) with an API key
(`--api-key`, or AUGURY_API_KEY) — one with the `admin` scope, as webhooks are for
admins — and print one line per item, or the API's JSON with `--json`. A request the
server refuses prints `error: ...` and exits 2; a server that cannot be reached or
fails exits 1, and so does a `test` whose delivery did not arrive (the delivery is
printed first).

A webhook's signing secret is printed whole only when it is made: by `create` (the
server's answer) and by `update --rotate-secret` (a new random one, made here).
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from augury.cli.app import AsJson, Limit, Yes, echo_json
from augury.cli.data import DEFAULT_URL, ApiKey, Url, _fail, _server, _table, _when
from augury.cli.text_api import _more
from augury.client import JSON

webhooks_app = typer.Typer(
    no_args_is_help=True,
    help="Event webhooks: URLs the organization's events are sent to (admins).",
)

WebhookId = Annotated[int, typer.Argument(metavar="ID", help="The webhook's id.")]
Events = Annotated[
    list[str] | None,
    typer.Option(
        "--event",
        "-e",
        metavar="TYPE",
        help="An event type (`augury webhooks events`), repeated; '*' for every type.",
        show_default=False,
    ),
]
Headers = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        metavar="'NAME: VALUE'",
        help="An extra HTTP header sent with every delivery, repeated.",
        show_default=False,
    ),
]
Secret = Annotated[
    str | None,
    typer.Option(help="The signing secret (default: a random one).", show_default=False),
]
STATUSES = ("pending", "sending", "sent", "failed")


def _headers(values: list[str] | None) -> dict[str, str] | None:
    if values is None:
        return None
    out: dict[str, str] = {}
    for value in values:
        name, colon, rest = value.partition(":")
        if not colon or not name.strip():
            _fail(f"--header is 'Name: value', not {value!r}")
        out[name.strip()] = rest.strip()
    return out


def _events(hook: JSON) -> str:
    return "all events" if "*" in hook["events"] else ", ".join(hook["events"])


def _line(hook: JSON) -> str:
    state = "active" if hook["active"] else "paused"
    return f"webhook {hook['id']} {hook['name']!r} ({state}) -> {hook['url']}"


def _counts(hook: JSON) -> str:
    counts = hook.get("deliveries") or {}
    shown = [f"{counts[s]} {s}" for s in (*STATUSES, "silenced") if counts.get(s)]
    return ", ".join(shown) or "none"


def _outcome(d: JSON) -> str:
    """``sent HTTP 200 in 12 ms``, or the status with its error."""
    parts = [d["status"]]
    if d.get("status_code"):
        parts.append(f"HTTP {d['status_code']}")
    if d.get("duration_ms") is not None:
        parts.append(f"in {d['duration_ms']:.0f} ms")
    if d.get("error"):
        parts.append(f"({' '.join(str(d['error']).split())})")
    return " ".join(parts)


@webhooks_app.command("list")
def webhooks_list(
    limit: Limit = 50, as_json: AsJson = False, url: Url = DEFAULT_URL, api_key: ApiKey = None
) -> None:
    """The organization's webhooks, oldest first."""
    with _server(url, api_key) as client:
        page = client.webhooks.list(limit=limit)
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no webhooks (`augury webhooks create NAME URL -e TYPE`)")
        return
    rows = [
        [h["id"], h["name"], "yes" if h["active"] else "no", _events(h), _counts(h), h["url"]]
        for h in page["items"]
    ]
    _table(["id", "name", "active", "events", "deliveries", "url"], rows, right=[True])
    _more(page)


@webhooks_app.command("events")
def webhooks_events(as_json: AsJson = False, url: Url = DEFAULT_URL, api_key: ApiKey = None):
    """The event types a webhook can subscribe to, with what each means."""
    with _server(url, api_key) as client:
        events = client.webhooks.event_types()
    if as_json:
        echo_json(events)
        return
    _table(["type", "description"], [[e["type"], e["description"]] for e in events])


@webhooks_app.command("create")
def webhooks_create(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    target: Annotated[str, typer.Argument(metavar="URL", help="Where deliveries are POSTed.")],
    event: Events = None,
    secret: Secret = None,
    header: Headers = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Made paused.")] = False,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Subscribe URL to events; prints the signing secret whole, this once."""
    if not event:
        _fail("give at least one --event TYPE (or --event '*' for all of them)")
    with _server(url, api_key) as client:
        hook = client.webhooks.create(
            name, target, event, secret=secret, active=not inactive, headers=_headers(header)
        )
    if as_json:
        echo_json(hook)
        return
    typer.echo(f"{_line(hook)} created for {_events(hook)}")
    typer.echo(f"secret: {hook['secret']} (shown this once: keep it to check signatures)")


@webhooks_app.command("show")
def webhooks_show(
    webhook_id: WebhookId, as_json: AsJson = False, url: Url = DEFAULT_URL, api_key: ApiKey = None
) -> None:
    """A webhook: its URL, events, secret and headers (masked) and deliveries."""
    with _server(url, api_key) as client:
        hook = client.webhooks.get(webhook_id)
    if as_json:
        echo_json(hook)
        return
    typer.echo(_line(hook))
    typer.echo(f"events: {_events(hook)}")
    typer.echo(f"secret: {hook['secret']}")
    for name, value in (hook.get("headers") or {}).items():
        typer.echo(f"header: {name}: {value}")
    typer.echo(f"created: {_when(hook['created_at'])}")
    typer.echo(f"deliveries: {_counts(hook)}")


@webhooks_app.command("update")
def webhooks_update(
    webhook_id: WebhookId,
    name: Annotated[str | None, typer.Option(show_default=False)] = None,
    target: Annotated[
        str | None, typer.Option("--target", metavar="URL", help="A new URL.", show_default=False)
    ] = None,
    event: Events = None,
    secret: Annotated[str | None, typer.Option(help="A new secret.", show_default=False)] = None,
    rotate_secret: Annotated[
        bool, typer.Option("--rotate-secret", help="A new random secret, printed once.")
    ] = False,
    header: Headers = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Drop every header.")] = False,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Send events, or pause.", show_default=False),
    ] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Change what is given; the rest stays."""
    if secret is not None and rotate_secret:
        _fail("give --secret or --rotate-secret, not both")
    if header and no_headers:
        _fail("give --header or --no-headers, not both")
    if rotate_secret:
        secret = secrets.token_urlsafe(32)
    changes = {
        key: value
        for key, value in (
            ("name", name),
            ("url", target),
            ("events", event or None),
            ("secret", secret),
            ("headers", {} if no_headers else _headers(header or None)),
            ("active", active),
        )
        if value is not None
    }
    if not changes:
        _fail("nothing to change: give --name, --target, --event, --secret, --header or --active")
    with _server(url, api_key) as client:
        hook = client.webhooks.update(webhook_id, **changes)
    if as_json:
        echo_json(hook)
        return
    typer.echo(f"{_line(hook)} updated: {', '.join(changes)}")
    if rotate_secret:
        typer.echo(f"secret: {secret} (shown this once)")


@webhooks_app.command("delete")
def webhooks_delete(
    webhook_id: WebhookId, yes: Yes = False, url: Url = DEFAULT_URL, api_key: ApiKey = None
) -> None:
    """Delete a webhook with its delivery log; what was not sent yet is dropped."""
    with _server(url, api_key) as client:
        hook = client.webhooks.get(webhook_id)
        if not yes:
            typer.confirm(f"Delete {_line(hook)} and its delivery log?", abort=True)
        client.webhooks.delete(webhook_id)
    typer.echo(f"webhook {hook['id']} {hook['name']!r} deleted")


@webhooks_app.command("test")
def webhooks_test(
    webhook_id: WebhookId, as_json: AsJson = False, url: Url = DEFAULT_URL, api_key: ApiKey = None
) -> None:
    """Send a sample event (webhook.test) now; exits 1 when it did not arrive."""
    with _server(url, api_key) as client:
        delivery = client.webhooks.test(webhook_id)
    if as_json:
        echo_json(delivery)
    else:
        typer.echo(f"delivery {delivery['id']}: {_outcome(delivery)}")
    if delivery["status"] != "sent":
        raise typer.Exit(1)


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    webhook_id: WebhookId,
    status: Annotated[
        str | None,
        typer.Option(help="pending, sending, sent or failed.", show_default=False),
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """A webhook's delivery log, newest first."""
    if status is not None and status not in STATUSES:
        _fail(f"--status is one of {', '.join(STATUSES)}, not {status!r}")
    with _server(url, api_key) as client:
        page = client.webhooks.deliveries(webhook_id, status=status, limit=limit)
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo(f"no {status} deliveries" if status else "no deliveries")
        return
    rows = [
        [
            d["id"],
            _when(d["sent_at"] or d["created_at"]),
            d["event_type"],
            d["status"],
            d["attempts"],
            d["status_code"] or "",
            d["error"] or "",
        ]
        for d in page["items"]
    ]
    header = ["id", "time", "event", "status", "attempts", "code", "error"]
    _table(header, rows, right=[True, False, False, False, True, True])
    _more(page)
