"""``augury.client.collectors`` against a real augury server over HTTP (no mocks), on a
real SQLite database file; and ``augury collect ...`` (the CLI group, mounted on an app
of the test's own) with an API key."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from augury.cli.collect import collect_app
from augury.client import Client, ConflictError, NotFoundError, ValidationError
from augury.client.collectors import Collectors
from tests.collectors.api_world import PASSWORD, orders_db, stream_body

_seq = itertools.count(1)
cli = typer.Typer()
cli.add_typer(collect_app, name="collect")


@pytest.fixture
def settings(settings):
    """The server's collector stays off: these tests read what the client and the CLI
    answer (a stream has no metrics before its first poll), and a poll in the middle of
    one made that a race (the collector loop is tested in test_collector.py)."""
    return settings.model_copy(
        update={"collect": settings.collect.model_copy(update={"enabled": False})}
    )


@pytest.fixture
def client(live_server, settings):
    orders_db(settings)
    with Client(live_server.url, timeout=30) as c:
        c.signup(f"collect{next(_seq)}@example.com", "correct horse battery")
        yield c


@pytest.fixture
def collectors(client) -> Collectors:
    return Collectors(client)


def test_sources(collectors):
    src = collectors.sources
    shop = src.create("shop", "sqlite", config={"path": "shop.db"})
    assert shop["secret"] == {}
    pg = src.create(
        "dwh",
        "psql",
        config={"host": "db.example.com", "database": "d", "user": "u"},
        secret={"password": PASSWORD},
    )
    assert pg["secret"] == {"password": "***"}
    assert src.list()["total"] == 2
    assert [s["name"] for s in src.iter(type="sqlite")] == ["shop"]
    assert [s["name"] for s in src.find("DW")] == ["dwh"]
    assert src.get(shop["id"])["streams"] == []
    changed = src.update(pg["id"], name="warehouse", secret={"password": None})
    assert changed["name"] == "warehouse" and changed["secret"] == {}
    assert src.test(shop["id"])["ok"] is True
    listed = src.objects(shop["id"])
    assert listed["ok"] is True and listed["objects"] == ["orders"]
    assert src.test_new("sqlite", config={"path": "nowhere.db"})["ok"] is False
    with pytest.raises(ConflictError):
        src.create("shop", "sqlite", config={"path": "shop.db"})
    with pytest.raises(ValidationError):
        src.create("x", "sqlite", config={})
    src.delete(pg["id"])
    with pytest.raises(NotFoundError):
        src.get(pg["id"])


def test_streams(collectors):
    shop = collectors.sources.create("shop", "sqlite", config={"path": "shop.db"})
    other = collectors.sources.create("shop 2", "sqlite", config={"path": "shop.db"})
    streams = collectors.streams
    body = stream_body(shop["id"])
    preview = streams.preview(body, rows=4)
    assert preview["points"] == 2 and preview["metrics"][0]["what"] == "revenue"
    stream = streams.create(body)
    sid = stream["id"]
    assert streams.get(sid)["name"] == "orders"
    assert streams.list(source_id=shop["id"])["total"] == 1
    assert [s["id"] for s in streams.iter(q="ord")] == [sid]
    assert [s["id"] for s in streams.find("ORD")] == [sid]
    assert streams.pause(sid)["paused"] is True
    assert streams.resume(sid)["paused"] is False
    edited = streams.update(sid, delayMinutes=15)
    assert edited["delayMinutes"] == 15
    start = datetime.now(UTC) - timedelta(hours=3)
    rewound = streams.rewind(sid, start, start + timedelta(hours=1))
    assert rewound["id"] == sid
    assert streams.metrics_total(sid) == 0
    assert streams.metrics_total(stream_name="orders", time_range="week") == 0
    assert streams.totals(sid)["alerts"]["total"] == 0
    runs = streams.runs(sid, limit=5)
    assert runs["limit"] == 5 and len(runs["items"]) == min(5, runs["total"])
    dataset = streams.to_dataset(sid, "orders rows", rows=10, tags=["collect"])
    assert dataset["version"]["rows"] == 10 and dataset["tags"] == ["collect"]
    assert collectors.sources.divert(shop["id"], other["id"], [sid]) == {"moved": [sid]}
    streams.delete(sid, delete_metrics=False)
    with pytest.raises(NotFoundError):
        streams.get(sid)


def test_cli(live_server, client, collectors, tmp_path):
    key = client.keys.create("cli", scopes=["read", "write", "admin"])["key"]
    env = {"AUGURY_URL": live_server.url, "AUGURY_API_KEY": key}
    runner = CliRunner()

    def run(*args: str, code: int = 0, stdin: str | None = None):
        result = runner.invoke(cli, ["collect", *args], env=env, input=stdin)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    assert run("sources").output == "no data sources\n"
    assert run("streams").output == "no data streams\n"
    shop = collectors.sources.create("shop", "sqlite", config={"path": "shop.db"})
    gone = collectors.sources.create("gone", "sqlite", config={"path": "gone.db"})
    out = run("sources").output
    assert "shop" in out and "path=shop.db" in out
    assert json.loads(run("sources", "--json").output)["total"] == 2
    assert "orders" in run("test", str(shop["id"])).output
    failed = run("test", str(gone["id"]), code=1)
    assert "source_unreachable" in failed.output

    body = tmp_path / "orders.json"
    body.write_text(json.dumps(stream_body(shop["id"])))
    out = run("preview", str(body), "--rows", "6").output
    assert "6 rows: created_at, amount, country" in out
    assert "3 points of 3 metrics" in out and "country=" in out
    piped = run("preview", "-", "--json", stdin=json.dumps(stream_body(shop["id"])))
    assert json.loads(piped.output)["points"] > 0
    bad = run("preview", "-", stdin=json.dumps(stream_body(gone["id"])), code=1)
    assert "source_unreachable" in bad.output
    run("preview", "-", stdin="[1]", code=2)

    stream = collectors.streams.create(stream_body(shop["id"]))
    assert "orders" in run("streams").output
    assert "paused" in run("pause", "orders").output
    assert collectors.streams.get(stream["id"])["paused"] is True
    assert "resumed" in run("resume", str(stream["id"])).output
    out = run("rewind", "orders", "--from", (datetime.now(UTC) - timedelta(hours=2)).isoformat())
    assert "collects again from" in out.output
    run("pause", "nothing-called-this", code=2)
    run("rewind", "orders", "--from", "not a time", code=2)
