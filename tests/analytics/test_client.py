"""``client.analytics`` against a real augury server over HTTP (no mocks)."""

from __future__ import annotations

import json

import pytest

from augury.client import Client, NotFoundError, ValidationError
from tests.analytics.test_api import SALES, planted_csv

PASSWORD = "correct horse battery"


@pytest.fixture
def owner(live_server, tmp_path):
    with Client(live_server.url, timeout=60) as c:
        c.signup("analyst@example.com", PASSWORD, organization_name="Analytics")
        for name, text in (("sales", SALES), ("stores", planted_csv(120))):
            path = tmp_path / f"{name}.csv"
            path.write_text(text)
            c.datasets.upload(path)
        yield c


def test_ask_save_list_update_export_delete_and_a_question_it_cannot_read(owner):
    answer = owner.analytics.ask("total units by region", "sales")
    assert answer["columns"] == ["region", "sum_units"] and answer["chart_type"] == "bar"
    assert "chart_id" not in answer

    plan = {**answer["plan"], "measures": [{"fn": "count"}], "order": [["count", "desc"]]}
    counted = owner.analytics.ask("total units by region", "sales", plan=plan, save=True)
    assert counted["rows"][0] == ["North", 3] and counted["chart_id"]
    chart_id = counted["chart_id"]

    page = owner.analytics.list_charts("units")
    assert [c["id"] for c in page["items"]] == [chart_id] and page["has_more"] is False
    assert [c["id"] for c in owner.analytics.iter_charts(chart_type="bar")] == [chart_id]

    updated = owner.analytics.update_chart(chart_id, title="Sales per region", theme="dark")
    assert updated["title"] == "Sales per region" and updated["options"]["theme"] == "dark"
    live = owner.analytics.get_chart(chart_id)
    assert live["chart"]["title"] == "Sales per region" and live["error"] is None
    rows = json.loads(owner.analytics.chart_data(chart_id, format="json"))
    assert {"region": "North", "count": 3} in rows
    assert owner.analytics.chart_data(chart_id).startswith(b"region,count")

    owner.analytics.delete_chart(chart_id)
    with pytest.raises(NotFoundError):
        owner.analytics.get_chart(chart_id)

    with pytest.raises(ValidationError) as caught:
        owner.analytics.ask("what is the flux capacitor reading", "sales")
    assert caught.value.code == "QUESTION_NOT_UNDERSTOOD"
    assert "units" in caught.value.details["candidates"]


def test_key_drivers_and_models(owner):
    analysis = owner.analytics.key_drivers("what drives sales?", "stores")
    assert analysis["target"] == "sales"
    assert analysis["results"]["primary_drivers"][0]["factor"] == "ad_spend"
    assert owner.analytics.get_analysis(analysis["id"]) == analysis
    assert owner.analytics.list_analyses()["total"] == 1
    (model,) = owner.analytics.models()
    assert model["model_id"] == "augury-offline"
