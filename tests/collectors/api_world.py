"""What the collectors API tests share: a real SQLite database file of orders under
``<data_dir>/collect`` (the folder sources may read by default), a source on it and a
stream of its revenue by country."""

from __future__ import annotations

import copy
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from augury.config import Settings
from tests.fixtures.factories import Account

API = "/api/v1"
COUNTRIES = ("ES", "FR", "US")
PASSWORD = "hunter2-very-secret"
"""A credential tests look for where it must never be."""

STREAM = {
    "name": "orders",
    "tableName": "orders",
    "timestampColumn": "created_at",
    "timestampType": "TIMESTAMP",
    "schema": {
        "columns": [
            {
                "name": "revenue",
                "type": "metric",
                "targetType": "counter",
                "sourceColumn": "amount",
                "metricTags": {"unit": "USD"},
            },
            {"name": "country", "type": "dimension", "sourceColumn": "country"},
        ]
    },
    "filters": [],
    "missingDimPolicy": {"action": "fill", "fill": "unknown"},
    "pollingInterval": "hourly",
    "historicalDateRange": {"constRange": "d1"},
    "delayMinutes": 0,
    "timeZone": "UTC",
}


def orders_db(settings: Settings, name: str = "shop.db", hours: int = 48) -> Path:
    """``orders(created_at, amount, country)``: two orders an hour (half past and on
    the hour) over the last ``hours`` hours, times as ISO text in UTC."""
    folder = settings.data_dir / "collect"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = []
    for h in range(hours):
        for minutes in (0, 30):
            at = base - timedelta(hours=h) + timedelta(minutes=minutes)
            rows.append((at.strftime("%Y-%m-%dT%H:%M:%SZ"), 10.0 + h, COUNTRIES[h % 3]))
    con = sqlite3.connect(path)
    try:
        con.execute("CREATE TABLE orders (created_at TEXT, amount REAL, country TEXT)")
        con.executemany("INSERT INTO orders VALUES (?, ?, ?)", rows)
        con.commit()
    finally:
        con.close()
    return path


def make_source(client, account: Account, name: str = "shop", path: str = "shop.db") -> dict:
    body = {"name": name, "type": "sqlite", "config": {"path": path}}
    r = client.post(f"{API}/data-sources", json=body, headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()


def stream_body(source_id: int, **changes) -> dict:
    body = copy.deepcopy(STREAM)
    body["dataSourceId"] = source_id
    body.update(changes)
    return body


def make_stream(client, account: Account, source_id: int, **changes) -> dict:
    r = client.post(
        f"{API}/data-streams", json=stream_body(source_id, **changes), headers=account.headers
    )
    assert r.status_code == 201, r.text
    return r.json()
