"""Applications and subscriptions over HTTP (an admin subscribes, pauses, resumes,
cancels and subscribes again; only an active subscription trains), and the summaries
of the applications' use."""

from __future__ import annotations

from datetime import timedelta

from augury import clock
from augury.predictive.models import ModelVersion
from augury.predictive.services import registry
from tests.fixtures.factories import invite_and_join, signup
from tests.predictive.helpers import (
    API,
    churn,
    ready_model,
    start_training,
    upload_table,
)


def test_subscribe_pause_resume_cancel_and_subscribe_again(client):
    owner = signup(client, org="Subscriber")
    apps = client.get(f"{API}/applications", headers=owner.headers).json()
    assert [a["name"] for a in apps] == ["forecast", "failure", "classification", "regression"]
    assert all(a["subscription"] is None and a["title"] and a["tasks"] for a in apps)

    dataset = upload_table(client, owner.headers, churn(60))["id"]
    r = start_training(client, owner.headers, dataset, "churned", application="failure")
    assert r.status_code == 409 and r.json()["error"]["code"] == "NOT_SUBSCRIBED"
    assert r.json()["error"]["details"]["subscription"] == "none"

    r = client.post(f"{API}/subscriptions", json={"application": "failure"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"] == "active" and sub["paused_at"] is None
    r = client.post(f"{API}/subscriptions", json={"application": "failure"}, headers=owner.headers)
    assert r.status_code == 409
    r = client.post(f"{API}/subscriptions", json={"application": "nope"}, headers=owner.headers)
    assert r.status_code == 422
    apps = {a["name"]: a for a in client.get(f"{API}/applications", headers=owner.headers).json()}
    assert apps["failure"]["subscription"]["id"] == sub["id"]

    url = f"{API}/subscriptions/{sub['id']}"
    r = client.patch(url, json={"status": "paused"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "paused" and r.json()["paused_at"]
    r = start_training(client, owner.headers, dataset, "churned", application="failure")
    assert r.status_code == 409 and r.json()["error"]["details"]["subscription"] == "paused"
    r = client.patch(url, json={"status": "active"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["paused_at"] is None
    r = start_training(client, owner.headers, dataset, "churned", application="failure")
    assert r.status_code == 202, r.text

    r = client.delete(url, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["cancelled_at"]
    assert client.patch(url, json={"status": "active"}, headers=owner.headers).status_code == 409
    r = start_training(client, owner.headers, dataset, "churned", application="failure")
    assert r.status_code == 409 and r.json()["error"]["details"]["subscription"] == "cancelled"
    r = client.post(f"{API}/subscriptions", json={"application": "failure"}, headers=owner.headers)
    assert r.status_code == 201 and r.json()["id"] == sub["id"] and r.json()["status"] == "active"
    assert r.json()["cancelled_at"] is None

    client.post(f"{API}/subscriptions", json={"application": "regression"}, headers=owner.headers)
    listed = client.get(f"{API}/subscriptions", headers=owner.headers).json()
    assert [s["application"] for s in listed] == ["failure", "regression"]
    found = client.get(f"{API}/subscriptions?search=fail", headers=owner.headers).json()
    assert [s["application"] for s in found] == ["failure"]
    assert client.get(f"{API}/subscriptions?status=paused", headers=owner.headers).json() == []

    # Admins change subscriptions; a writer reads them; another organization sees none.
    writer = invite_and_join(client, owner, "member")
    assert client.get(f"{API}/subscriptions", headers=writer.headers).status_code == 200
    r = client.post(
        f"{API}/subscriptions", json={"application": "forecast"}, headers=writer.headers
    )
    assert r.status_code == 403
    assert client.delete(url, headers=writer.headers).status_code == 403
    stranger = signup(client, org="Elsewhere")
    assert client.delete(url, headers=stranger.headers).status_code == 404
    assert client.patch(url, json={"status": "paused"}, headers=stranger.headers).status_code == 404
    assert client.get(f"{API}/subscriptions", headers=stranger.headers).json() == []


def test_summaries_count_models_versions_predictions_and_jobs(client, db, settings):
    owner = signup(client, org="Summarised")
    client.post(
        f"{API}/subscriptions", json={"application": "classification"}, headers=owner.headers
    )
    made = ready_model(client, settings, owner.headers)
    with db.session() as s:
        model = registry.get_model(s, owner.org_id, made["model"]["id"])
        version = s.get(ModelVersion, made["version"]["id"])
        registry.record_usage(s, model=model, version=version, kind="predict", rows=5)
        registry.record_usage(s, model=model, version=version, kind="batch", rows=100)
        registry.record_usage(s, model=model, version=version, kind="what_if", rows=1)

    r = client.get(f"{API}/summaries", headers=owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["applications"] == {"subscribed": 1, "paused": 0, "cancelled": 0, "available": 4}
    per = {p["application"]: p for p in body["per_application"]}
    classification = per["classification"]
    assert (classification["models"], classification["versions"]) == (1, 2)
    assert (classification["predictions"], classification["what_ifs"]) == (105, 1)
    assert classification["jobs"] == {"aborted": 1}
    assert set(classification["consumptions"]) >= {"cpu_s", "peak_rss_mb"}
    assert per["regression"]["models"] == 0
    today = clock.now().date().isoformat()
    assert body["over_time"] == [
        {"bucket": today, "application": "classification", "trainings": 2, "predictions": 105}
    ]
    assert body["jobs"]["running"] == 0

    later = (clock.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    r = client.get(f"{API}/summaries", params={"start": later}, headers=owner.headers)
    assert r.status_code == 422
    month = client.get(f"{API}/summaries?bucket=month", headers=owner.headers).json()
    assert month["over_time"][0]["bucket"] == today[:7]
    assert client.get(f"{API}/summaries?bucket=year", headers=owner.headers).status_code == 422
    stranger = signup(client, org="Unrelated")
    other = client.get(f"{API}/summaries", headers=stranger.headers).json()
    assert all(p["models"] == 0 for p in other["per_application"])


def test_summaries_refuse_dates_out_of_range_with_a_422(client):
    owner = signup(client, org="Far dates")
    for query in (
        "end=0001-01-02T00:00:00Z",  # 30 days before it overflowed Python's dates: a 500
        "start=0001-01-01T00:00:00%2B05:00",
        "end=9999-12-31T23:59:59Z",
    ):
        r = client.get(f"{API}/summaries?{query}", headers=owner.headers)
        assert r.status_code == 422, (query, r.text)
        assert "between 1970 and 9000" in r.json()["error"]["message"]
    assert client.get(f"{API}/summaries", headers=owner.headers).status_code == 200
