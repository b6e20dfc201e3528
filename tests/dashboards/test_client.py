"""``client.dashboards`` against a real server: build, share, export, schedule."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from augury.client import Client, ConflictError


def test_client_dashboards(live_server, tmp_path):
    with Client(live_server.url, timeout=30) as c:
        c.signup("boards@example.com", "correct horse battery", organization_name="Boards")
        boards = c.dashboards
        d = boards.create("Ops", [{"id": "n", "type": "markdown", "text": "hello"}])
        assert [t["id"] for t in boards.get(d["id"])["tiles"]] == ["n"]
        assert boards.list(q="op")["total"] == 1
        assert boards.tile_data(d["id"], "n")["text"] == "hello"
        assert boards.update(d["id"], name="Ops, daily", version=1)["version"] == 2
        with pytest.raises(ConflictError):
            boards.update(d["id"], name="Ops", version=1)
        share = boards.share(d["id"], label="tv")
        assert share["token"] and boards.shares(d["id"])["items"][0]["token"] is None
        boards.revoke_share(d["id"], share["id"])
        pdf = boards.export(d["id"], page_size="legal")
        assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
        written = boards.export(d["id"], tmp_path / "ops.html", format="html")
        assert "Ops, daily" in written.read_text()
        s = boards.schedule(d["id"], "0 8 * * 1", ["ops@example.com"])
        assert boards.schedules(d["id"])["items"][0]["id"] == s["id"]
        boards.delete_schedule(d["id"], s["id"])
        boards.delete(d["id"])
        assert boards.list()["total"] == 0
