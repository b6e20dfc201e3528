"""What-ifs (``POST /models/{id}/what-if``): rows given inline or by position in a
dataset, columns changed by a percentage or to a value, and per row the prediction
before and after, the change of its score and the changed row's explanation; the
refusals: a percentage of a column that is not numeric, a column that is not a
feature, a row that does not exist, a version that is not ready, another
organization's model."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from augury.predictive.models import ModelUsage
from tests.predictive.helpers import API, new_org, upload_table
from tests.predictive.test_predictions import ROWS, ready_model, table


@pytest.fixture
def owner(client):
    return new_org(client)


@pytest.fixture
def trained(client, db, settings, owner) -> dict:
    """A model trained on ``table(300)`` (once per process: see ``ready_model``) whose
    current version is 2 (version 1 aborted)."""
    frame = table(300)
    data = upload_table(client, owner.headers, frame, name="machines")
    got = ready_model(client, db, settings, owner.headers, data, frame, "label", name="Breakdowns")
    return {**got, "dataset": data}


def what_if(client, headers, model_id, **body):
    return client.post(f"{API}/models/{model_id}/what-if", json=body, headers=headers)


def logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_a_percentage_moves_the_probability_and_the_after_row_is_explained(
    client, db, owner, trained
):
    model_id = trained["model"]["id"]
    rows = [{"x1": 0.2, "x2": 4.0, "color": "green"}, {"x1": -1.0, "x2": 2.0, "color": "red"}]
    r = what_if(
        client, owner.headers, model_id, rows=rows, changes=[{"column": "x1", "percent": 900}]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["model_id"], body["version"], body["task"]) == (model_id, 2, "binary")
    first, second = body["rows"]
    assert first["index"] is None
    assert first["changed"] == {"x1": {"before": 0.2, "after": pytest.approx(2.0)}}
    assert second["changed"]["x1"]["after"] == pytest.approx(-10.0)
    assert first["score"] == "probability of yes"
    # x1 up tenfold: a breakdown more likely for the first row, less for the second
    assert first["after"]["probability"]["yes"] > first["before"]["probability"]["yes"]
    assert second["after"]["probability"]["yes"] < second["before"]["probability"]["yes"]
    for row in body["rows"]:
        delta = row["after"]["probability"]["yes"] - row["before"]["probability"]["yes"]
        assert row["delta"] == pytest.approx(delta)
        explained = row["explanation"]
        raw = explained["base"] + sum(c["contribution"] for c in explained["contributions"])
        assert logistic(raw) == pytest.approx(row["after"]["probability"]["yes"], abs=1e-6)
        values = {c["feature"]: c["value"] for c in explained["contributions"]}
        assert values["x1"] == pytest.approx(row["changed"]["x1"]["after"])
    # the before side is what a prediction of the rows answers
    now = client.post(
        f"{API}/models/{model_id}/predict", json={"rows": rows}, headers=owner.headers
    )
    assert [p["probability"] for p in now.json()["predictions"]] == [
        row["before"]["probability"] for row in body["rows"]
    ]
    with db.session() as s:
        kinds = [
            u.kind for u in s.scalars(select(ModelUsage).where(ModelUsage.model_id == model_id))
        ]
        assert sorted(kinds) == ["predict", "what_if"]


def test_dataset_rows_by_position_changed_to_values(client, owner, trained):
    model_id, data = trained["model"]["id"], trained["dataset"]
    source = table(300)  # the rows the dataset was uploaded with
    r = what_if(
        client,
        owner.headers,
        model_id,
        rows={"dataset_id": data["id"], "row_indices": [7, 0, 7]},
        changes=[{"column": "color", "value": "red"}, {"column": "x2", "value": "5"}],
    )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [row["index"] for row in rows] == [7, 0, 7]
    for row, i in zip(rows, [7, 0, 7], strict=True):
        assert row["changed"]["color"] == {"before": source["color"][i], "after": "red"}
        assert row["changed"]["x2"] == {"before": pytest.approx(source["x2"][i]), "after": 5.0}
    assert rows[0] == rows[2]
    # the same rows in the flat form, and a value made missing
    r = what_if(
        client,
        owner.headers,
        model_id,
        dataset_id=data["id"],
        version=1,
        row_indices=[0],
        changes=[{"column": "color", "value": None}],
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["changed"]["color"]["after"] is None
    # a colour the model never saw is fine too
    r = what_if(
        client, owner.headers, model_id, rows=ROWS, changes=[{"column": "color", "value": "teal"}]
    )
    assert r.status_code == 200, r.text


def test_refusals_name_what_is_wrong(client, owner, trained):
    model_id, data = trained["model"]["id"], trained["dataset"]

    def refused(status: int, **body) -> dict:
        r = what_if(client, owner.headers, model_id, **body)
        assert r.status_code == status, r.text
        return r.json()["error"]

    error = refused(422, rows=ROWS, changes=[{"column": "color", "percent": 10}])
    assert error["details"] == {"reason": "NOT_NUMERIC", "column": "color", "kind": "category"}
    error = refused(422, rows=ROWS, changes=[{"column": "label", "value": "yes"}])
    assert error["details"] == {"reason": "NOT_A_FEATURE", "column": "label"}
    error = refused(422, rows=ROWS, changes=[{"column": "x1", "value": "lots"}])
    assert error["details"]["reason"] == "BAD_VALUE"
    error = refused(
        422,
        rows={"dataset_id": data["id"], "row_indices": [0, 300]},
        changes=[{"column": "x1", "percent": 5}],
    )
    assert error["details"] == {"reason": "NO_SUCH_ROW", "rows": 300, "row_indices": [300]}
    error = refused(422, rows=[{"x1": 1}], changes=[{"column": "x1", "percent": 5}])
    assert error["details"]["missing"] == ["x2", "color"]
    # a change is a percent or a value; rows come one way
    refused(422, rows=ROWS, changes=[{"column": "x1"}])
    refused(422, rows=ROWS, changes=[{"column": "x1", "percent": 1, "value": 2}])
    refused(
        422,
        rows=ROWS,
        dataset_id=data["id"],
        row_indices=[0],
        changes=[{"column": "x1", "percent": 1}],
    )
    refused(422, changes=[{"column": "x1", "percent": 1}])
    refused(404, rows=ROWS, changes=[{"column": "x1", "percent": 1}], model_version=5)


def test_a_version_not_ready_is_409_and_another_organization_gets_404(client, owner, trained):
    model_id = trained["model"]["id"]
    body = {"rows": ROWS, "changes": [{"column": "x1", "percent": 10}]}
    r = what_if(client, owner.headers, model_id, model_version=1, **body)  # aborted
    assert r.status_code == 409
    assert r.json()["error"]["details"]["reason"] == "NOT_READY"
    stranger = new_org(client)
    assert what_if(client, stranger.headers, model_id, **body).status_code == 404
    # nor are another organization's dataset rows read through our model
    theirs = upload_table(client, stranger.headers, table(20, seed=5))
    rows = {"dataset_id": theirs["id"], "row_indices": [0]}
    r = what_if(client, owner.headers, model_id, rows=rows, changes=body["changes"])
    assert r.status_code == 404
