"""``/data-streams`` through HTTP, on a real SQLite database file: create (and every
check that refuses a stream), read, find, edit, preview, pause and resume, rewind,
delete with and without metrics, metrics per day and week, the alerts that watch a
stream, runs, and its rows saved as a dataset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from augury import clock
from augury.collectors.models import DataStream, DataStreamMetric, DataStreamRun
from augury.engines.collect import schedule
from tests.collectors.api_world import (
    API,
    STREAM,
    make_source,
    make_stream,
    orders_db,
    stream_body,
)
from tests.fixtures.factories import make_key, signup

STREAM_SCHEMA = STREAM["schema"]


@pytest.fixture
def source(client, owner, settings) -> dict:
    orders_db(settings)
    return make_source(client, owner)


def _post(client, owner, body, path="/data-streams"):
    return client.post(f"{API}{path}", json=body, headers=owner.headers)


def _refused(r, field: str, status: int = 422) -> dict:
    assert r.status_code == status, r.text
    details = r.json()["error"]["details"]
    assert details.get("field") == field, r.text
    return details


def _set(client, stream_id: int, **values) -> None:
    with client.app.state.db.session() as session:
        row = session.get(DataStream, stream_id)
        for name, value in values.items():
            setattr(row, name, value)


def _metric(client, owner, what: str, **dims) -> int:
    """A metric through ingestion (as the collector's points arrive), its id."""
    key = make_key(client, owner, ["ingest"])
    body = [{"properties": {"what": what, **dims}, "timestamp": 1_700_000_000, "value": 1.0}]
    r = client.post(f"{API}/metrics?protocol=anodot20&token={key}", json=body)
    assert r.status_code < 300, r.text
    client.app.state.stream.drain()
    items = client.get(f"{API}/metrics?q=what={what}", headers=owner.headers).json()["items"]
    return items[0]["id"]


def _link(client, owner, stream_id: int, metric_id: int, created_at: datetime | None = None):
    with client.app.state.db.session() as session:
        session.add(
            DataStreamMetric(
                stream_id=stream_id,
                metric_id=metric_id,
                org_id=owner.org_id,
                created_at=created_at or clock.now(),
            )
        )


# --------------------------------------------------------------------------- create


def test_create_and_read(client, owner, source, frozen_clock):
    now = frozen_clock.now()
    body = stream_body(
        source["id"],
        # what Anodot's own objects carry: accepted, the server's dropped, the rest kept
        id="SSSq07uxxxyvI",
        state="running",
        status="ok",
        createTime=1584355524,
        basedOnTemplateId="44",
        metrics=["amount"],
        dimensions=["country"],
        hasDimreduce=False,
    )
    r = _post(client, owner, body)
    assert r.status_code == 201, r.text
    stream = r.json()
    assert stream["id"] != "SSSq07uxxxyvI"
    assert stream["type"] == "sqlite"
    assert stream["dataSourceId"] == source["id"]
    assert stream["status"] == "pending"
    assert stream["paused"] is False
    assert stream["basedOnTemplateId"] == "44"
    assert stream["metrics"] == ["amount"] and stream["dimensions"] == ["country"]
    assert stream["schema"] == body["schema"]
    assert stream["watermark"] is None and stream["lagSeconds"] is None
    assert stream["nextPollTime"] == int(now.timestamp())
    start = schedule.backfill_start(now, "hourly", "d1", "UTC")
    assert stream["backfillFrom"] == int(start.timestamp())
    assert stream["createTime"] == int(now.timestamp())
    assert stream["historicalDateRange"] == {"constRange": "d1"}

    got = client.get(f"{API}/data-streams/{stream['id']}", headers=owner.headers).json()
    assert got == stream
    # the stored definition has no server keys
    with client.app.state.db.session() as session:
        definition = session.get(DataStream, stream["id"]).definition
    assert "state" not in definition and "id" not in definition
    assert definition["tableName"] == "orders"

    r = _post(client, owner, stream_body(source["id"]))
    assert r.status_code == 409  # names are unique in the organization
    events = client.get(
        f"{API}/audit?action=collectors.stream.create", headers=owner.headers
    ).json()
    assert events["total"] == 1


def test_unknown_keys_and_bad_fields_are_refused(client, owner, source):
    r = _post(client, owner, stream_body(source["id"], bogus=1))
    assert r.status_code == 422
    assert "bogus" in r.text
    r = _post(client, owner, stream_body(source["id"], timeZone="Mars/Olympus"))
    assert r.status_code == 422
    r = _post(client, owner, stream_body(source["id"], pollingInterval="m2"))
    assert r.status_code == 422
    r = _post(client, owner, stream_body(source["id"], delayMinutes=10_081))
    assert r.status_code == 422


def test_create_is_checked_with_the_engine_and_the_source(client, owner, source, settings):
    sid = source["id"]
    # the seed's table: an m1 stream backfills at most a week
    r = _post(client, owner, stream_body(sid, pollingInterval="m1"))
    assert r.status_code == 201, r.text  # d1 is allowed with m1
    r = _post(
        client,
        owner,
        stream_body(sid, name="x", pollingInterval="m1", historicalDateRange={"constRange": "m1"}),
    )
    _refused(r, "historicalDateRange")
    assert "not allowed with polling interval 'm1'" in r.json()["error"]["message"]
    r = _post(client, owner, stream_body(sid, name="x", historicalDateRange={"constRange": "y99"}))
    _refused(r, "historicalDateRange")
    # a schema without a metric, or with an unknown transform
    r = _post(
        client,
        owner,
        stream_body(
            sid,
            name="x",
            schema={"columns": [{"name": "c", "type": "dimension", "sourceColumn": "c"}]},
        ),
    )
    _refused(r, "schema")
    bad_transform = {
        "columns": [
            {"name": "r", "type": "metric", "sourceColumn": "amount", "transform": {"name": "x"}}
        ]
    }
    _refused(_post(client, owner, stream_body(sid, name="x", schema=bad_transform)), "schema")
    # a time column the table does not have
    details = _refused(
        _post(client, owner, stream_body(sid, name="x", timestampColumn="nope")),
        "timestampColumn",
    )
    assert details["reason"] == "columns_missing"
    assert details["missing"] == ["nope"]
    # a metric column the table does not have
    missing_metric = {
        "columns": [{"name": "r", "type": "metric", "sourceColumn": "price"}],
    }
    details = _refused(
        _post(client, owner, stream_body(sid, name="x", schema=missing_metric)), "schema"
    )
    assert details["missing"] == ["price"]
    # a table that does not exist
    details = _refused(
        _post(client, owner, stream_body(sid, name="x", tableName="nothing")), "tableName"
    )
    assert details["reason"] == "query_failed"
    # a query that writes, or is two statements
    for query in ("DELETE FROM orders", "SELECT * FROM orders; DROP TABLE orders"):
        r = _post(client, owner, stream_body(sid, name="x", customQuery=True, query=query))
        _refused(r, "query")
    # a query that reads is fine
    ok = stream_body(
        sid, name="q", customQuery=True, query="SELECT created_at, amount, country FROM orders"
    )
    assert _post(client, owner, ok).status_code == 201
    # a time pattern augury cannot read
    r = _post(
        client,
        owner,
        stream_body(
            sid, name="x", timeDefinition={"sourceColumn": "created_at", "timePattern": "qq"}
        ),
    )
    _refused(r, "timeDefinition")
    # another type than the source's
    details = _refused(_post(client, owner, stream_body(sid, name="x", type="psql")), "type")
    assert details["reason"] == "type_mismatch"
    # a source that is not the organization's: 404 naming dataSourceId
    other = signup(client, org="Initech")
    orders_db(settings, "theirs.db")
    theirs = make_source(client, other, path="theirs.db")
    r = _post(client, owner, stream_body(theirs["id"], name="x"))
    details = _refused(r, "dataSourceId", 404)
    assert details["dataSourceId"] == theirs["id"]
    # a source that cannot be read now does not stop the save
    make_source(client, owner, name="gone", path="gone.db")
    gone = client.get(f"{API}/data-sources/find?searchQuery=gone", headers=owner.headers).json()
    assert _post(client, owner, stream_body(gone[0]["id"], name="later")).status_code == 201


def test_list_find_and_filter(client, owner, source):
    a = make_stream(client, owner, source["id"], name="Orders EU")
    make_stream(client, owner, source["id"], name="refunds")
    _set(client, a["id"], status="error")
    page = client.get(f"{API}/data-streams", headers=owner.headers).json()
    assert [s["name"] for s in page["items"]] == ["Orders EU", "refunds"]
    assert page["items"][0]["schema"]  # full objects
    assert client.get(f"{API}/data-streams?q=eu", headers=owner.headers).json()["total"] == 1
    assert (
        client.get(f"{API}/data-streams?status=error", headers=owner.headers).json()["total"] == 1
    )
    by_source = client.get(f"{API}/data-streams?source_id={source['id']}", headers=owner.headers)
    assert by_source.json()["total"] == 2
    found = client.get(f"{API}/data-streams/find?searchQuery=ORDERS", headers=owner.headers)
    assert [s["name"] for s in found.json()] == ["Orders EU"]
    assert found.json()[0]["tableName"] == "orders"


# --------------------------------------------------------------------------- preview


def test_preview_reads_the_latest_rows_as_metrics(client, owner, source):
    r = _post(client, owner, stream_body(source["id"]), "/data-streams/preview?rows=10")
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["columns"] == ["created_at", "amount", "country"]
    assert len(preview["rows"]) == 10
    assert preview["rowsRead"] == 10 and preview["rowsUsed"] == 10
    metrics = preview["metrics"]
    assert {m["what"] for m in metrics} == {"revenue"}
    assert {m["dimensions"]["country"] for m in metrics} == {"ES", "FR", "US"}
    # two orders an hour summed into one hourly point (counter)
    assert sum(m["points"] for m in metrics) == preview["points"] == 5
    first = min(m["first"] for m in metrics)
    last = max(m["last"] for m in metrics)
    assert first % 3600 == 0 and last % 3600 == 0 and first <= last
    assert preview["samplePoints"][0]["properties"]["what"] == "revenue"
    assert preview["skipped"] == {}
    # nothing was saved
    assert client.get(f"{API}/data-streams", headers=owner.headers).json()["total"] == 0


def test_preview_shows_what_does_not_fit(client, owner, source):
    body = stream_body(
        source["id"],
        filters=[{"sourceColumn": "country", "operation": "notEquals", "value": "US"}],
    )
    preview = _post(client, owner, body, "/data-streams/preview?rows=30").json()
    assert preview["skipped"] == {"filtered out": 10}
    # a column the table lacks: the rows and the error, side by side
    body = stream_body(source["id"], timestampColumn="nope")
    preview = _post(client, owner, body, "/data-streams/preview?rows=5").json()
    assert preview["error"]["code"] == "columns_missing"
    assert preview["error"]["missing"] == ["nope"]
    assert len(preview["rows"]) == 5
    # a source that cannot be read is an answer, not an error
    gone = make_source(client, owner, name="gone", path="gone.db")
    r = _post(client, owner, stream_body(gone["id"]), "/data-streams/preview")
    assert r.status_code == 200
    assert r.json()["error"]["code"] == "source_unreachable"
    # a body the engine refuses is a 422 as for a create
    r = _post(
        client,
        owner,
        stream_body(source["id"], pollingInterval="m1", historicalDateRange={"constRange": "y1"}),
        "/data-streams/preview",
    )
    _refused(r, "historicalDateRange")


def test_preview_without_a_schema_or_a_time_reads_the_rows_only(client, owner, source):
    """The builder reads the rows first, to choose the metric, dimension and time
    columns among theirs: a draft without ``schema`` or time definition gets the rows,
    no metric and no error. A saved stream still needs both."""
    empty = {
        "metrics": [],
        "metricsTotal": 0,
        "points": 0,
        "samplePoints": [],
        "rowsUsed": 0,
        "skipped": {},
        "invalidTimes": [],
    }
    draft = stream_body(source["id"])
    for key in ("schema", "timestampColumn", "timestampType", "filters", "name"):
        draft.pop(key)
    r = _post(client, owner, draft, "/data-streams/preview?rows=7")
    assert r.status_code == 200, r.text
    preview = r.json()
    assert "error" not in preview
    assert preview["columns"] == ["created_at", "amount", "country"]
    assert len(preview["rows"]) == 7 and preview["rowsRead"] == 7
    assert {k: preview[k] for k in empty} == empty
    # with the time column chosen (no schema yet): the latest rows, newest first
    timed = {**draft, "timestampColumn": "created_at", "timestampType": "TIMESTAMP"}
    preview = _post(client, owner, timed, "/data-streams/preview?rows=3").json()
    times = [row[0] for row in preview["rows"]]
    assert times == sorted(times, reverse=True) and preview["metrics"] == []
    # a schema without a time: the rows only too, and a query with neither
    with_schema = {**draft, "schema": STREAM_SCHEMA}
    preview = _post(client, owner, with_schema, "/data-streams/preview?rows=4").json()
    assert len(preview["rows"]) == 4 and preview["metrics"] == [] and "error" not in preview
    query = {**draft, "customQuery": True, "query": "SELECT country, amount FROM orders"}
    del query["tableName"]
    preview = _post(client, owner, query, "/data-streams/preview?rows=2").json()
    assert preview["columns"] == ["country", "amount"] and len(preview["rows"]) == 2
    # what the draft gives is still checked: a schema without a metric, a query that writes
    no_metric = {"columns": [{"name": "c", "type": "dimension", "sourceColumn": "country"}]}
    _refused(
        _post(client, owner, {**draft, "schema": no_metric}, "/data-streams/preview"), "schema"
    )
    writes = {**query, "query": "DELETE FROM orders"}
    _refused(_post(client, owner, writes, "/data-streams/preview"), "query")
    # a stream to save needs its time column and its schema
    r = _post(client, owner, {**with_schema, "name": "no time"})
    _refused(r, "timestampColumn")
    assert "time column" in r.json()["error"]["message"]
    r = _post(client, owner, {**timed, "name": "no schema"})
    assert r.status_code == 422 and "schema" in r.text
    assert client.get(f"{API}/data-streams", headers=owner.headers).json()["total"] == 0


def test_a_folder_preview_without_a_time_definition(client, owner, settings):
    folder = settings.data_dir / "collect" / "drafts"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("when,site,clicks\n2026-01-01T00:00:00Z,s1,3\n")
    body = {"name": "drafts", "type": "folder", "config": {"path": "drafts"}}
    r = client.post(f"{API}/data-sources", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    draft = {"dataSourceId": r.json()["id"], "fileNamePattern": "*.csv", "pollingInterval": "daily"}
    preview = _post(client, owner, draft, "/data-streams/preview").json()
    assert preview["columns"] == ["when", "site", "clicks"]
    assert preview["rows"] == [["2026-01-01T00:00:00Z", "s1", "3"]]
    assert preview["metrics"] == [] and "error" not in preview
    # with a schema and no time definition: still the rows only
    draft["schema"] = {"columns": [{"name": "clicks", "type": "metric", "sourceColumn": "clicks"}]}
    preview = _post(client, owner, draft, "/data-streams/preview").json()
    assert preview["metrics"] == [] and len(preview["rows"]) == 1
    # both: the metrics
    draft["timeDefinition"] = {"path": "when", "timePattern": "iso8601"}
    preview = _post(client, owner, draft, "/data-streams/preview").json()
    assert [m["what"] for m in preview["metrics"]] == ["clicks"] and preview["points"] == 1
    # a saved folder stream needs its time definition
    r = _post(client, owner, {**draft, "name": "clicks", "timeDefinition": None})
    _refused(r, "timestampColumn")


# --------------------------------------------------------------------------- state


def test_pause_and_resume(client, owner, source, frozen_clock):
    stream = make_stream(client, owner, source["id"])
    url = f"{API}/data-streams/{stream['id']}"
    r = client.put(f"{url}/state/pause", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": stream["id"], "name": "orders", "paused": True}
    assert client.get(url, headers=owner.headers).json()["paused"] is True
    frozen_clock.advance(600)
    r = client.put(f"{url}/state/resume", headers=owner.headers)
    assert r.json()["paused"] is False
    got = client.get(url, headers=owner.headers).json()
    assert got["paused"] is False
    assert got["nextPollTime"] == int(frozen_clock.now().timestamp())
    assert client.put(f"{url}/state/stop", headers=owner.headers).status_code == 422
    actions = client.get(f"{API}/audit?action=collectors.stream.*", headers=owner.headers).json()
    assert {"collectors.stream.pause", "collectors.stream.resume"} <= {
        e["action"] for e in actions["items"]
    }


def test_rewind(client, owner, source, frozen_clock):
    now = frozen_clock.now()
    stream = make_stream(client, owner, source["id"])
    url = f"{API}/data-streams/{stream['id']}"
    # not polled yet: the start only moves back
    backfill = datetime.fromtimestamp(stream["backfillFrom"], UTC)
    later = (backfill + timedelta(hours=5)).isoformat()
    r = client.post(f"{url}/rewind", json={"from": later}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["backfillFrom"] == stream["backfillFrom"]
    earlier = backfill - timedelta(days=2, minutes=20)
    r = client.post(f"{url}/rewind", json={"from": earlier.timestamp()}, headers=owner.headers)
    assert r.json()["backfillFrom"] == int(schedule.bucket_start(earlier, "hourly").timestamp())

    # polled: the watermark goes back to the bucket holding 'from', never forward
    watermark = now.replace(minute=0, second=0, microsecond=0)
    _set(client, stream["id"], watermark=watermark, status="ok")
    frm = watermark - timedelta(hours=6, minutes=10)
    r = client.post(
        f"{url}/rewind",
        json={
            "from": frm.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "to": (frm + timedelta(hours=1)).timestamp(),
        },
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    rewound = r.json()
    assert rewound["watermark"] == int((watermark - timedelta(hours=7)).timestamp())
    assert rewound["status"] == "backfilling"
    assert rewound["lagSeconds"] == int((now - (watermark - timedelta(hours=7))).total_seconds())
    # past the longest range an hourly stream allows (y1), in the future, to before from
    r = client.post(
        f"{url}/rewind",
        json={"from": (now - timedelta(days=400)).isoformat()},
        headers=owner.headers,
    )
    _refused(r, "from")
    r = client.post(
        f"{url}/rewind",
        json={"from": (now + timedelta(hours=1)).timestamp()},
        headers=owner.headers,
    )
    _refused(r, "from")
    r = client.post(
        f"{url}/rewind", json={"from": 2_000_000_000, "to": 1_900_000_000}, headers=owner.headers
    )
    assert r.status_code == 422
    r = client.post(f"{url}/rewind", json={"from": "yesterday"}, headers=owner.headers)
    assert r.status_code == 422


def test_edit_replaces_the_definition(client, owner, source, frozen_clock):
    now = frozen_clock.now()
    stream = make_stream(client, owner, source["id"])
    other = make_stream(client, owner, source["id"], name="other")
    url = f"{API}/data-streams/{stream['id']}"
    watermark = now.replace(minute=0, second=0, microsecond=0)
    _set(client, stream["id"], watermark=watermark, status="ok")
    got = client.get(url, headers=owner.headers).json()
    # Anodot's edit: the GET answer, changed, sent back
    got["delayMinutes"] = 30
    got["pollingInterval"] = "m30"
    r = client.put(url, json=got, headers=owner.headers)
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["delayMinutes"] == 30 and edited["pollingInterval"] == "m30"
    assert edited["watermark"] == int(watermark.timestamp())  # not rewound
    # shouldRewind collects the historical range again
    r = client.put(f"{url}?shouldRewind=true", json=got, headers=owner.headers)
    start = schedule.backfill_start(now, "m30", "d1", "UTC")
    assert r.json()["watermark"] == int(start.timestamp())
    assert r.json()["status"] == "backfilling"
    # another stream's name, another type, a bad body
    got["name"] = "other"
    assert client.put(url, json=got, headers=owner.headers).status_code == 409
    got["name"] = "orders"
    got["type"] = "psql"
    _refused(client.put(url, json=got, headers=owner.headers), "type")
    assert other["id"]


def test_runs_newest_first(client, owner, source):
    stream = make_stream(client, owner, source["id"])
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with client.app.state.db.session() as session:
        for i in range(3):
            session.add(
                DataStreamRun(
                    org_id=owner.org_id,
                    stream_id=stream["id"],
                    started_at=t0 + timedelta(minutes=i),
                    finished_at=t0 + timedelta(minutes=i, seconds=2),
                    window_start=t0,
                    window_end=t0 + timedelta(hours=1),
                    status="error" if i == 1 else "ok",
                    rows_read=10 * i,
                    rows_used=10 * i,
                    skipped={"filtered out": i},
                    points=i,
                    error_code="source_unreachable" if i == 1 else None,
                )
            )
    page = client.get(
        f"{API}/data-streams/{stream['id']}/runs?limit=2", headers=owner.headers
    ).json()
    assert page["total"] == 3 and page["has_more"] is True
    assert [r["rowsRead"] for r in page["items"]] == [20, 10]
    assert page["items"][1]["errorCode"] == "source_unreachable"
    assert page["items"][0]["windowStart"] == int(t0.timestamp())


# --------------------------------------------------------------------------- metrics


def test_delete_with_and_without_its_metrics(client, owner, source):
    keep = make_stream(client, owner, source["id"], name="keep")
    drop = make_stream(client, owner, source["id"], name="drop")
    kept_metric = _metric(client, owner, "kept", country="ES")
    dropped_metric = _metric(client, owner, "dropped", country="ES")
    shared_metric = _metric(client, owner, "shared")
    _link(client, owner, keep["id"], kept_metric)
    _link(client, owner, drop["id"], dropped_metric)
    _link(client, owner, drop["id"], shared_metric)
    _link(client, owner, keep["id"], shared_metric)

    r = client.delete(f"{API}/data-streams/{drop['id']}", headers=owner.headers)
    assert r.status_code == 204
    assert client.get(f"{API}/data-streams/{drop['id']}", headers=owner.headers).status_code == 404
    assert client.get(f"{API}/metrics/{dropped_metric}", headers=owner.headers).status_code == 404
    # a metric another stream writes too is kept
    assert client.get(f"{API}/metrics/{shared_metric}", headers=owner.headers).status_code == 200

    r = client.delete(f"{API}/data-streams/{keep['id']}?deleteMetrics=false", headers=owner.headers)
    assert r.status_code == 204
    assert client.get(f"{API}/metrics/{kept_metric}", headers=owner.headers).status_code == 200
    with client.app.state.db.session() as session:
        assert session.scalars(select(DataStreamMetric)).all() == []
    # the source is free again
    assert (
        client.delete(f"{API}/data-sources/{source['id']}", headers=owner.headers).status_code
        == 204
    )
    actions = {
        e["action"]
        for e in client.get(f"{API}/audit?limit=100", headers=owner.headers).json()["items"]
    }
    assert {"collectors.stream.delete", "metric.delete"} <= actions


def test_metrics_total_by_day_and_week(client, owner, source, frozen_clock):
    stream = make_stream(client, owner, source["id"])
    now = frozen_clock.now()
    _link(client, owner, stream["id"], _metric(client, owner, "a"), now - timedelta(hours=2))
    _link(client, owner, stream["id"], _metric(client, owner, "b"), now - timedelta(days=3))
    _link(client, owner, stream["id"], _metric(client, owner, "c"), now - timedelta(days=9))
    url = f"{API}/data-streams/metrics/total"
    h = owner.headers
    assert client.get(f"{url}?streamId={stream['id']}", headers=h).json() == {"total": 1}
    assert client.get(f"{url}?streamId={stream['id']}&timeRange=week", headers=h).json() == {
        "total": 2
    }
    assert client.get(f"{url}?streamName=orders&timeRange=week", headers=h).json() == {"total": 2}
    assert client.get(f"{url}?streamName=nope", headers=h).status_code == 404
    assert client.get(f"{url}?streamId=99999", headers=h).status_code == 404
    assert client.get(url, headers=h).status_code == 422
    assert client.get(f"{url}?streamId={stream['id']}&timeRange=year", headers=h).status_code == 422


def test_totals_name_the_alerts_that_watch_its_metrics(client, owner, source):
    stream = make_stream(client, owner, source["id"])
    lonely = make_stream(client, owner, source["id"], name="lonely")
    _link(client, owner, stream["id"], _metric(client, owner, "revenue", country="ES"))

    def alert(title: str, expression: str) -> int:
        body = {"title": title, "expression": expression}
        r = client.post(f"{API}/alerts", json=body, headers=owner.headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    watching = alert("Revenue drops", "what=revenue AND country=ES")
    wildcard = alert("Any rev", "rev*")
    alert("Other", "what=cpu")
    alert("Everything", "")
    totals = client.get(
        f"{API}/data-streams/totals?streamId={stream['id']}", headers=owner.headers
    ).json()
    assert totals["alerts"]["total"] == 2
    assert totals["alerts"]["alerts"] == [
        {"id": watching, "title": "Revenue drops"},
        {"id": wildcard, "title": "Any rev"},
    ]
    assert totals["dashboards"] == {"dashboards": [], "total": 0}
    assert totals["composites"] == {"composites": [], "total": 0}
    none = client.get(f"{API}/data-streams/totals?streamId={lonely['id']}", headers=owner.headers)
    assert none.json()["alerts"] == {"alerts": [], "total": 0}
    assert client.get(f"{API}/data-streams/totals", headers=owner.headers).status_code == 422


# --------------------------------------------------------------------------- dataset


def test_save_the_latest_rows_as_a_dataset(client, owner, source):
    stream = make_stream(client, owner, source["id"])
    url = f"{API}/data-streams/{stream['id']}/dataset"
    r = client.post(f"{url}?rows=25", json={"name": "orders sample"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    dataset = r.json()
    assert dataset["name"] == "orders sample"
    assert dataset["version"]["rows"] == 25
    assert dataset["version"]["source"] == "collector"
    assert [c["name"] for c in dataset["version"]["columns"]] == ["created_at", "amount", "country"]
    got = client.get(f"{API}/datasets/{dataset['id']}", headers=owner.headers)
    assert got.status_code == 200
    # the same name again: its next version
    again = client.post(url, json={"name": "orders sample"}, headers=owner.headers).json()
    assert again["id"] == dataset["id"] and again["latest_version"] == 2
    assert again["version"]["rows"] == 96

    gone = make_source(client, owner, name="gone", path="gone.db")
    later = make_stream(client, owner, gone["id"], name="later")
    r = client.post(
        f"{API}/data-streams/{later['id']}/dataset", json={"name": "x"}, headers=owner.headers
    )
    assert r.status_code == 502
    assert r.json()["error"]["details"]["reason"] == "source_unreachable"


def test_a_folder_stream_as_anodot_writes_it(client, owner, settings):
    folder = settings.data_dir / "collect" / "exports"
    folder.mkdir(parents=True)
    start = 1_767_225_600  # 2026-01-01
    lines = ["ts;clicks;site"] + [f"{start + 600 * i};{i};s{i % 2}" for i in range(12)]
    (folder / "clicks.csv").write_text("\n".join(lines) + "\n")
    body = {"name": "exports", "type": "folder", "config": {"path": str(folder)}}
    r = client.post(f"{API}/data-sources", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    source = r.json()
    stream = {
        "name": "clicks",
        "dataSourceId": source["id"],
        "type": "folder",
        "path": "",
        "fileNamePattern": "*.csv",
        "fileFormat": {"hasHeader": True, "delimiter": ";", "quoteChar": "'"},
        "timeDefinition": {"path": "ts", "timePattern": "epoch_seconds"},
        "schema": {
            "columns": [
                {"name": "clicks", "type": "metric", "targetType": "counter", "sourceColumn": "c"},
                {"name": "site", "type": "dimension", "sourceColumn": "site"},
            ],
            "sourceColumns": [{"id": "c", "name": "clicks"}, {"id": "site", "name": "site"}],
        },
        "pollingInterval": "hourly",
        "historicalDateRange": {"constRange": "m1"},
        "maxMissingFiles": 0,
        "fileNamePrefix": "data3_",
    }
    preview = _post(client, owner, stream, "/data-streams/preview").json()
    assert preview["columns"] == ["ts", "clicks", "site"], preview
    assert preview["points"] == 4  # two hours, two sites
    assert {m["dimensions"]["site"] for m in preview["metrics"]} == {"s0", "s1"}
    created = _post(client, owner, stream)
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["fileFormat"] == "csv" and saved["delimiter"] == ";" and saved["header"] is True
    assert saved["fileNamePrefix"] == "data3_"
