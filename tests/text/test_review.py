"""Human review (HITL): the settings and their webhook secret, low-confidence predictions
queued for reviewers in turn with one outbox row per batch, the queue as each role sees
it, accepting and correcting into the project's REVIEW session, and two reviewers racing
on one item."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading

import pytest
from sqlalchemy import select

from augury.accounts.models import Role
from augury.accounts.principal import Principal
from augury.alerts.channels import verify_signature
from augury.alerts.models import Channel, Delivery
from augury.errors import Conflict, ValidationFailed
from augury.notifications.models import Notification
from augury.text.models import (
    TextAnnotation,
    TextClass,
    TextProject,
    TextProjectMember,
    TextReviewItem,
    TextSession,
)
from augury.text.schemas.review import ReviewCorrect
from augury.text.services import review
from tests.alerts.conftest import Receiver
from tests.fixtures.factories import Account, invite_and_join
from tests.text.helpers import add_documents, new_org, segments_of

API = "/api/v1/text/projects"
CLASSES = ("billing", "delivery", "quality")


def make_project(db, account: Account, name: str = "Reviews", type: str = "CLASS") -> int:
    with db.session() as s:
        project = TextProject(
            org_id=account.org_id, name=name, type=type, created_by_id=account.user_id
        )
        s.add(project)
        s.flush()
        s.add_all(
            TextClass(project_id=project.id, name=n, position=i) for i, n in enumerate(CLASSES)
        )
        return project.id


def class_ids(db, project_id: int) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(
            select(TextClass.name, TextClass.id).where(TextClass.project_id == project_id)
        )
        return dict(rows.tuples().all())


def set_role(db, project_id: int, account: Account, role: str) -> None:
    with db.session() as s:
        s.add(TextProjectMember(project_id=project_id, user_id=account.user_id, role=role))


def principal(account: Account, role: Role = Role.owner) -> Principal:
    return Principal(org_id=account.org_id, user_id=account.user_id, role=role)


@pytest.fixture
def org(client):
    return new_org(client, "Review org")


@pytest.fixture
def project(db, org):
    return make_project(db, org)


@pytest.fixture
def segments(db, project):
    """Six one-sentence documents' segments, as (document_id, segment_id)."""
    texts = [f"Review number {i} says something." for i in range(6)]
    docs = add_documents(db, project, texts, external_ids=[f"r{i}" for i in range(6)])
    return [(d, segments_of(db, d)[0].id) for d in docs]


def prediction(seg, class_id, confidence, **extra):
    document_id, segment_id = seg
    return {
        "document_id": document_id,
        "segment_id": segment_id,
        "tags": [{"class_id": class_id, "confidence": confidence}],
        "source": {"analysis_id": 9, "model_id": 4},
        **extra,
    }


def configure(client, account, project_id, **body):
    r = client.put(f"{API}/{project_id}/review/config", json=body, headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()


def submit(db, project_id, predictions, base_url="http://augury.test"):
    with db.session() as s:
        project = s.get(TextProject, project_id)
        return [
            (i.id, i.segment_id, i.assignee_id, i.confidence)
            for i in review.submit(s, project, predictions, base_url=base_url)
        ]


# --- settings ------------------------------------------------------------------------------


def test_settings_default_save_and_show_the_webhook_secret_once(client, db, org, project):
    url = f"{API}/{project}/review/config"
    first = client.get(url, headers=org.headers).json()
    assert first["configured"] is False and first["enabled"] is False
    assert first["threshold"] == 0.5 and first["webhook_secret_hint"] is None

    saved = configure(
        client,
        org,
        project,
        threshold=0.7,
        classes=["billing", "quality"],
        assignee_ids=[org.user_id],
        webhook_url="http://127.0.0.1:9/hook",
    )
    ids = class_ids(db, project)
    assert saved["configured"] and saved["enabled"] and saved["threshold"] == 0.7
    assert saved["classes"] == ["billing", "quality"]
    assert saved["class_ids"] == [ids["billing"], ids["quality"]]
    secret = saved["webhook_secret"]
    assert secret and len(secret) >= 32 and saved["webhook_secret_hint"] == secret[:4] + "…"

    shown = client.get(url, headers=org.headers).json()
    assert shown["webhook_secret"] is None and shown["webhook_secret_hint"] == secret[:4] + "…"
    # a field left out keeps its value; the same webhook keeps its secret
    again = configure(client, org, project, threshold=0.4, webhook_url="http://127.0.0.1:9/h2")
    assert again["webhook_secret"] is None and again["classes"] == ["billing", "quality"]
    assert again["threshold"] == 0.4 and again["assignee_ids"] == [org.user_id]

    rotated = client.post(f"{url}/rotate-secret", headers=org.headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["webhook_secret"]
    assert new_secret and new_secret != secret
    with db.session() as s:
        (channel,) = s.scalars(select(Channel).where(Channel.org_id == org.org_id)).all()
        assert channel.type == "webhook" and channel.config["secret"] == new_secret
        assert channel.config["url"] == "http://127.0.0.1:9/h2"

    gone = configure(client, org, project, webhook_url=None)
    assert gone["webhook_url"] is None and gone["webhook_secret_hint"] is None
    with db.session() as s:
        assert s.scalars(select(Channel).where(Channel.org_id == org.org_id)).all() == []
    r = client.post(f"{url}/rotate-secret", headers=org.headers)
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "NO_WEBHOOK"


def test_settings_refuse_bad_values(client, db, org, project, other_org_owner):
    url = f"{API}/{project}/review/config"
    viewer = invite_and_join(client, org, "viewer")
    stranger = other_org_owner

    def put(**body):
        return client.put(url, json=body, headers=org.headers)

    r = put(classes=["billing", "nope"])
    assert r.status_code == 422 and r.json()["error"]["details"]["classes"] == ["nope"]
    r = put(assignee_ids=[stranger.user_id])
    assert r.status_code == 422
    assert r.json()["error"]["details"] == {
        "reason": "NOT_A_MEMBER",
        "user_ids": [stranger.user_id],
    }
    r = put(assignee_ids=[viewer.user_id])
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "NOT_A_REVIEWER"
    assert put(threshold=1.5).status_code == 422
    assert put(threshold=-0.1).status_code == 422
    assert put(webhook_url="ftp://example.com/x").status_code == 422
    refused = put(webhook_url="http://10.1.2.3/hook")  # private, and not allowed here
    assert refused.status_code == 422 and "webhook_url" in refused.json()["error"]["details"]
    assert put(surprise=True).status_code == 422
    assert client.get(url, headers=org.headers).json()["configured"] is False


def test_settings_are_for_managers(client, db, org, project, other_org_owner):
    url = f"{API}/{project}/review/config"
    annotator = invite_and_join(client, org, "member")
    set_role(db, project, annotator, "ANNOTATOR")
    viewer = invite_and_join(client, org, "viewer")
    for who in (annotator, viewer):
        assert client.get(url, headers=who.headers).status_code == 403
        assert client.put(url, json={}, headers=who.headers).status_code == 403
        assert client.post(f"{url}/rotate-secret", headers=who.headers).status_code == 403
    assert client.get(url, headers=other_org_owner.headers).status_code == 404
    assert client.put(url, json={}, headers=other_org_owner.headers).status_code == 404
    # an annotator may be a reviewer
    assert configure(client, org, project, assignee_ids=[annotator.user_id])["assignee_ids"] == [
        annotator.user_id
    ]


# --- submitting predictions ----------------------------------------------------------------


def test_submit_queues_what_is_unsure_in_scope_in_turn_with_one_outbox_row_per_batch(
    client, db, org, project, segments
):
    ids = class_ids(db, project)
    second = invite_and_join(client, org, "member")
    configure(
        client,
        org,
        project,
        threshold=0.6,
        classes=["billing", "delivery"],
        assignee_ids=[org.user_id, second.user_id],
        webhook_url="http://127.0.0.1:9/hook",
    )
    made = submit(
        db,
        project,
        [
            prediction(segments[0], ids["billing"], 0.30),
            prediction(segments[1], ids["billing"], 0.90),  # sure enough
            prediction(segments[2], ids["quality"], 0.10),  # a class not reviewed
            prediction(segments[3], ids["delivery"], 0.55),
            prediction(segments[4], ids["delivery"], 0.20),
        ],
    )
    assert [(seg, conf) for _, seg, _, conf in made] == [
        (segments[0][1], 0.30),
        (segments[3][1], 0.55),
        (segments[4][1], 0.20),
    ]
    assert [a for *_, a, _ in made] == [org.user_id, second.user_id, org.user_id]

    with db.session() as s:
        (delivery,) = s.scalars(select(Delivery)).all()
        channel = s.get(Channel, delivery.channel_id)
        assert channel.config["url"] == "http://127.0.0.1:9/hook"
        assert delivery.status == "pending" and delivery.event == "review"
        body = delivery.payload["json"]
        assert body["event"] == "review.items_created" and body["count"] == 3
        assert body["project"] == {"id": project, "name": "Reviews"}
        assert body["review_url"] == f"http://augury.test/text/projects/{project}/review"
        first = body["items"][0]
        assert first["text"] == "Review number 0 says something." and first["external_id"] == "r0"
        assert first["predicted"][0]["class"] == "billing"
        assert first["predicted"][0]["confidence"] == 0.30
        assert first["source"] == {"analysis_id": 9, "model_id": 4}
        told = s.scalars(select(Notification).order_by(Notification.user_id)).all()
        assert sorted((n.user_id, n.title) for n in told) == sorted(
            [
                (org.user_id, "2 predictions to review in Reviews"),
                (second.user_id, "1 prediction to review in Reviews"),
            ]
        )
        assert {n.link for n in told} == {f"/text/projects/{project}/review"}

    # the next batch: a segment already waiting is not queued again; the turn goes on
    again = submit(
        db,
        project,
        [
            prediction(segments[0], ids["billing"], 0.10),
            prediction(segments[5], ids["billing"], 0.40),
            prediction(segments[5], ids["billing"], 0.35),  # the least sure one is kept
        ],
    )
    assert [(seg, a, conf) for _, seg, a, conf in again] == [(segments[5][1], second.user_id, 0.35)]
    with db.session() as s:
        assert len(s.scalars(select(Delivery)).all()) == 2

    assert submit(db, project, [prediction(segments[1], ids["billing"], 0.99)]) == []
    with db.session() as s:
        assert len(s.scalars(select(Delivery)).all()) == 2  # no items, no webhook


def test_submit_scope_confidence_and_bad_predictions(client, db, org, project, segments):
    ids = class_ids(db, project)
    assert submit(db, project, [prediction(segments[0], ids["billing"], 0.1)]) == []  # no config
    configure(client, org, project, enabled=False)
    assert submit(db, project, [prediction(segments[0], ids["billing"], 0.1)]) == []
    configure(client, org, project, enabled=True, threshold=0.5)  # all classes, nobody
    both = {
        "document_id": segments[1][0],
        "segment_id": segments[1][1],
        "tags": [{"class_id": ids["quality"]}],
        "confidence": 0.45,
    }
    made = submit(db, project, [prediction(segments[0], ids["quality"], 0.2), both])
    assert [(seg, a, conf) for _, seg, a, conf in made] == [
        (segments[0][1], None, 0.2),
        (segments[1][1], None, 0.45),
    ]
    with db.session() as s:
        assert s.scalars(select(Delivery)).all() == []  # no webhook configured
        assert s.scalars(select(Notification)).all() == []  # nobody assigned

    other = make_project(db, org, name="Other")
    (foreign,) = add_documents(db, other, ["Elsewhere."])
    foreign_segment = segments_of(db, foreign)[0].id
    with pytest.raises(ValidationFailed) as bad:
        submit(db, project, [prediction((foreign, foreign_segment), ids["billing"], 0.1)])
    assert bad.value.details["segment_ids"] == [foreign_segment]
    with pytest.raises(ValidationFailed):  # a segment in another document than said
        submit(db, project, [prediction((segments[2][0], segments[3][1]), ids["billing"], 0.1)])
    with pytest.raises(ValueError, match="needs a confidence"):
        submit(db, project, [{"document_id": 1, "segment_id": 1, "tags": [{"class_id": 1}]}])


def test_an_assignee_who_lost_their_role_gets_no_more_items(client, db, org, project, segments):
    ids = class_ids(db, project)
    annotator = invite_and_join(client, org, "member")
    set_role(db, project, annotator, "ANNOTATOR")
    configure(client, org, project, assignee_ids=[annotator.user_id, org.user_id])
    with db.session() as s:
        member = s.scalar(
            select(TextProjectMember).where(TextProjectMember.user_id == annotator.user_id)
        )
        member.role = "VIEWER"
    made = submit(db, project, [prediction(segments[i], ids["billing"], 0.1) for i in range(3)])
    assert {a for *_, a, _ in made} == {org.user_id}


# --- the queue and reviewing ---------------------------------------------------------------


@pytest.fixture
def queue(client, db, org, project, segments):
    """Four items: the annotator's 0 and 2, the owner's 1 and 3."""
    ids = class_ids(db, project)
    annotator = invite_and_join(client, org, "member")
    set_role(db, project, annotator, "ANNOTATOR")
    configure(client, org, project, assignee_ids=[annotator.user_id, org.user_id])
    made = submit(db, project, [prediction(segments[i], ids["billing"], 0.2) for i in range(4)])
    return annotator, [item_id for item_id, *_ in made]


def test_reviewers_see_their_items_and_managers_all(client, db, org, project, queue):
    annotator, items = queue
    url = f"{API}/{project}/review/items"
    everything = client.get(url, headers=org.headers).json()
    assert [i["id"] for i in everything["items"]] == items and everything["total"] == 4
    mine = client.get(url, headers=annotator.headers).json()
    assert [i["id"] for i in mine["items"]] == [items[0], items[2]]
    item = mine["items"][0]
    assert item["status"] == "PENDING" and item["text"] == "Review number 0 says something."
    assert item["predicted"][0]["class"] == "billing" and item["final"] is None
    assert item["external_id"] == "r0" and item["start"] == 0 and item["end"] == len(item["text"])

    filtered = client.get(f"{url}?assignee={annotator.user_id}", headers=org.headers).json()
    assert [i["id"] for i in filtered["items"]] == [items[0], items[2]]
    assert client.get(f"{url}?status=ACCEPTED", headers=org.headers).json()["total"] == 0
    assert client.get(f"{url}?status=DONE", headers=org.headers).status_code == 422
    assert (
        client.get(f"{url}?limit=1&offset=1", headers=org.headers).json()["items"][0]["id"]
        == items[1]
    )

    assert client.get(f"{url}/{items[0]}", headers=annotator.headers).status_code == 200
    for path in ("", "/accept"):  # the owner's item does not exist for the annotator
        method = client.get if not path else client.post
        r = method(f"{url}/{items[1]}{path}", headers=annotator.headers)
        assert r.status_code == 404, r.text
    viewer = invite_and_join(client, org, "viewer")
    assert client.get(url, headers=viewer.headers).status_code == 403
    assert client.post(f"{url}/{items[0]}/accept", headers=viewer.headers).status_code == 403


def test_accept_and_correct_become_training_data_in_one_review_session(
    client, db, org, project, queue
):
    annotator, items = queue
    ids = class_ids(db, project)
    url = f"{API}/{project}/review/items"

    r = client.post(f"{url}/{items[0]}/accept", headers=annotator.headers)
    assert r.status_code == 200, r.text
    accepted = r.json()
    assert accepted["status"] == "ACCEPTED" and accepted["reviewed_by_id"] == annotator.user_id
    assert accepted["final"] == [
        {
            "class": "billing",
            "class_id": ids["billing"],
            "label": None,
            "label_id": None,
            "start": None,
            "end": None,
        }
    ]
    assert accepted["reviewed_at"] and accepted["review_session_id"]

    r = client.post(
        f"{url}/{items[1]}/correct", json={"tags": [{"class": "delivery"}]}, headers=org.headers
    )
    assert r.status_code == 200, r.text
    corrected = r.json()
    assert corrected["status"] == "CORRECTED" and corrected["final"][0]["class"] == "delivery"
    assert corrected["review_session_id"] == accepted["review_session_id"]

    with db.session() as s:
        (ts,) = s.scalars(select(TextSession).where(TextSession.project_id == project)).all()
        assert ts.mode == "REVIEW" and ts.document_count == 2
        notes = s.scalars(
            select(TextAnnotation)
            .where(TextAnnotation.session_id == ts.id)
            .order_by(TextAnnotation.id)
        ).all()
        assert [(a.source, a.annotator_key, a.tags[0]["class_id"]) for a in notes] == [
            ("review", f"user:{annotator.user_id}", ids["billing"]),
            ("review", f"user:{org.user_id}", ids["delivery"]),
        ]

    again = client.post(f"{url}/{items[0]}/correct", json={"tags": []}, headers=org.headers)
    assert again.status_code == 409
    assert again.json()["error"]["details"] == {
        "reason": "ALREADY_REVIEWED",
        "status": "ACCEPTED",
        "reviewed_by_id": annotator.user_id,
    }
    assert client.get(f"{url}?status=PENDING", headers=org.headers).json()["total"] == 2


def test_corrections_are_checked_as_session_tags(client, db, org, project, queue):
    _, items = queue
    url = f"{API}/{project}/review/items/{items[1]}/correct"
    other = make_project(db, org, name="Other")
    foreign = class_ids(db, other)["billing"]

    def correct(tags):
        return client.post(url, json={"tags": tags}, headers=org.headers)

    assert correct([{"class": "nope"}]).status_code == 422
    r = correct([{"class_id": foreign}])  # another project's class
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "UNKNOWN_TAG"
    r = correct([{"class": "billing"}, {"class": "delivery"}])  # CLASS: one class
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "TYPE_RULE"
    r = correct([{"class": "billing", "start": 0, "end": 999}])
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "BAD_SPAN"
    assert correct([{"klass": "billing"}]).status_code == 422
    assert client.post(url, json={}, headers=org.headers).status_code == 422
    ok = correct([{"class": "quality", "start": 0, "end": 6}])
    assert ok.status_code == 200, ok.text
    assert ok.json()["final"][0]["start"] == 0 and ok.json()["final"][0]["end"] == 6


def test_two_reviewers_racing_on_one_item_one_wins_the_other_409(db, org, project, queue):
    annotator, items = queue
    target = items[0]
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def review_it(who: Principal, correct_to: str | None):
        with db.session() as s:  # both read the item while it is pending ...
            item = review.get_item(s, who, s.get(TextProject, project), target)
        barrier.wait()
        with db.session() as s:  # ... then both settle it at once
            project_row = s.get(TextProject, project)
            try:
                if correct_to is None:
                    review.accept(s, who, project_row, item)
                else:
                    body = ReviewCorrect.model_validate({"tags": [{"class": correct_to}]})
                    review.correct(s, who, project_row, item, body)
                outcomes.append("won")
            except Conflict:
                outcomes.append("409")

    threads = [
        threading.Thread(target=review_it, args=(principal(annotator, Role.member), None)),
        threading.Thread(target=review_it, args=(principal(org), "quality")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["409", "won"]
    with db.session() as s:
        item = s.get(TextReviewItem, target)
        assert item.status in ("ACCEPTED", "CORRECTED")
        notes = s.scalars(select(TextAnnotation)).all()
        assert len(notes) == 1 and notes[0].annotator_id == item.reviewed_by_id
        assert len(s.scalars(select(TextSession)).all()) == 1


def test_a_big_batch_lists_its_first_items_and_says_how_many(
    client, db, org, project, segments, monkeypatch
):
    ids = class_ids(db, project)
    monkeypatch.setattr(review, "WEBHOOK_ITEMS", 2)
    configure(client, org, project, webhook_url="http://127.0.0.1:9/hook")
    made = submit(db, project, [prediction(segments[i], ids["billing"], 0.1) for i in range(5)])
    with db.session() as s:
        body = s.scalars(select(Delivery)).one().payload["json"]
    assert body["count"] == 5 and body["truncated"] is True
    assert [i["id"] for i in body["items"]] == [item_id for item_id, *_ in made[:2]]


def test_dropping_the_webhook_channel_before_the_project_goes(client, db, org, project):
    configure(client, org, project, webhook_url="http://127.0.0.1:9/hook")
    with db.session() as s:
        review.drop_webhook_channel(s, s.get(TextProject, project))
    with db.session() as s:
        assert s.scalars(select(Channel)).all() == []
        review.drop_webhook_channel(s, s.get(TextProject, project))  # none left: a no-op


# --- the webhook, sent --------------------------------------------------------------------


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def signed_by(secret: str, request: dict) -> bool:
    """The receiver's check, written from the docs: ``t=<t>,v1=<hex>`` where hex is the
    HMAC-SHA256 of ``"<t>." + body`` with the secret."""
    header = request["headers"]["x-augury-signature"]
    fields = dict(part.split("=", 1) for part in header.split(","))
    message = fields["t"].encode() + b"." + request["body"]
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def test_each_batch_is_one_signed_webhook_sent_through_the_outbox_with_retries(
    client, db, org, project, segments, receiver
):
    ids = class_ids(db, project)
    secret = configure(client, org, project, webhook_url=f"{receiver.url}/review")["webhook_secret"]
    made = submit(db, project, [prediction(segments[i], ids["billing"], 0.2) for i in range(3)])
    dispatcher = client.app.state.dispatcher
    receiver.answers = [(503, 0.0)]  # down at first: the outbox keeps the message
    assert dispatcher.drain() == 1
    with db.session() as s:
        delivery = s.scalars(select(Delivery)).one()
        assert (delivery.status, delivery.attempts, delivery.status_code) == ("pending", 1, 503)
        due = delivery.next_attempt_at
    dispatcher.run_once(wait=True, now=due + 1)
    with db.session() as s:
        delivery = s.scalars(select(Delivery)).one()
        assert (delivery.status, delivery.attempts) == ("sent", 2)

    refused, sent = receiver.requests
    assert [refused["status"], sent["status"]] == [503, 200]
    assert refused["body"] == sent["body"] and sent["path"] == "/review"
    assert sent["headers"]["x-augury-event"] == "review"
    assert sent["headers"]["x-augury-delivery"] == str(delivery.id)
    assert sent["headers"]["content-type"].startswith("application/json")
    assert signed_by(secret, sent) and not signed_by(secret + "x", sent)
    assert verify_signature(secret, sent["headers"]["x-augury-signature"], sent["body"])
    body = json.loads(sent["body"])
    assert body["event"] == "review.items_created" and body["count"] == 3
    assert [item["id"] for item in body["items"]] == [item_id for item_id, *_ in made]

    rotated = client.post(f"{API}/{project}/review/config/rotate-secret", headers=org.headers)
    new_secret = rotated.json()["webhook_secret"]
    submit(db, project, [prediction(segments[4], ids["billing"], 0.1)])
    assert dispatcher.drain() == 1
    latest = receiver.requests[-1]
    assert latest["status"] == 200 and json.loads(latest["body"])["count"] == 1
    assert signed_by(new_secret, latest) and not signed_by(secret, latest)
