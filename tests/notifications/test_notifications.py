"""Notifications: a person's own, in the organization they act in; read and unread;
and the one a finished job leaves when its type opts in."""

from __future__ import annotations

from augury.notifications import service
from augury.notifications.models import Notification
from augury.store.pagination import PageParams
from tests.fixtures.factories import invite_and_join, make_key

URL = "/api/v1/notifications"


def leave(db, account, n: int = 1, **fields) -> list[int]:
    with db.session() as s:
        ids = [
            service.notify(
                s,
                org_id=account.org_id,
                user_id=account.user_id,
                kind=fields.get("kind", "text.upload"),
                title=fields.get("title", f"Upload {i} segmented"),
                body=fields.get("body", ""),
                link=fields.get("link", "/text/projects/1"),
                data=fields.get("data", {"i": i}),
            ).id
            for i in range(n)
        ]
    return ids


def test_list_newest_first_with_unread_filter_count_and_pages(client, db, owner):
    ids = leave(db, owner, 3)
    r = client.get(URL, headers=owner.headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert [n["id"] for n in page["items"]] == ids[::-1]
    assert page["total"] == 3 and page["has_more"] is False
    first = page["items"][-1]
    assert first["title"] == "Upload 0 segmented" and first["kind"] == "text.upload"
    assert first["link"] == "/text/projects/1" and first["data"] == {"i": 0}
    assert first["read"] is False and first["read_at"] is None

    r = client.post(f"{URL}/{ids[1]}/read", headers=owner.headers)
    assert r.status_code == 200 and r.json()["read"] is True and r.json()["read_at"]
    unread = client.get(f"{URL}?unread=true", headers=owner.headers).json()
    assert [n["id"] for n in unread["items"]] == [ids[2], ids[0]]
    assert client.get(f"{URL}/unread-count", headers=owner.headers).json() == {"unread": 2}

    two = client.get(f"{URL}?limit=2&offset=1", headers=owner.headers).json()
    assert [n["id"] for n in two["items"]] == [ids[1], ids[0]] and two["total"] == 3


def test_read_keeps_its_first_time_unread_undoes_and_read_all_counts(client, db, owner):
    a, b, _ = leave(db, owner, 3)
    first = client.post(f"{URL}/{a}/read", headers=owner.headers).json()["read_at"]
    again = client.post(f"{URL}/{a}/read", headers=owner.headers).json()["read_at"]
    assert again == first

    r = client.post(f"{URL}/{a}/unread", headers=owner.headers)
    assert r.status_code == 200 and r.json()["read"] is False
    assert client.get(f"{URL}/{a}", headers=owner.headers).json()["read_at"] is None

    client.post(f"{URL}/{b}/read", headers=owner.headers)
    r = client.post(f"{URL}/read-all", headers=owner.headers)
    assert r.status_code == 200 and r.json() == {"marked": 2}
    assert client.get(f"{URL}/unread-count", headers=owner.headers).json() == {"unread": 0}
    assert client.post(f"{URL}/read-all", headers=owner.headers).json() == {"marked": 0}
    assert all(n["read"] for n in client.get(URL, headers=owner.headers).json()["items"])


def test_a_person_sees_and_changes_only_their_own(client, db, owner, other_org_owner):
    colleague = invite_and_join(client, owner, "member")
    (mine,) = leave(db, owner, title="mine")
    (theirs,) = leave(db, colleague, title="theirs")
    (elsewhere,) = leave(db, other_org_owner, title="elsewhere")

    assert [n["title"] for n in client.get(URL, headers=owner.headers).json()["items"]] == ["mine"]
    for path in ("", "/read", "/unread"):
        method = client.get if path == "" else client.post
        for other in (theirs, elsewhere):
            r = method(f"{URL}/{other}{path}", headers=owner.headers)
            assert r.status_code == 404, (path, r.text)
            assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert client.post(f"{URL}/read-all", headers=owner.headers).json() == {"marked": 1}
    assert client.get(f"{URL}/unread-count", headers=colleague.headers).json() == {"unread": 1}
    assert client.get(f"{URL}/{mine}", headers=colleague.headers).status_code == 404
    assert client.get(f"{URL}/unread-count", headers=other_org_owner.headers).json() == {
        "unread": 1
    }


def test_an_api_key_reads_its_authors_notifications(client, db, owner):
    leave(db, owner, title="for the script")
    key = make_key(client, owner, ["read"])
    r = client.get(URL, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    assert [n["title"] for n in r.json()["items"]] == ["for the script"]
    assert client.get(URL).status_code == 401


def test_bad_ids_and_long_text(client, db, owner):
    assert client.get(f"{URL}/0", headers=owner.headers).status_code == 422
    assert client.post(f"{URL}/99999/read", headers=owner.headers).status_code == 404
    (long_one,) = leave(db, owner, title="t" * 1000, kind="k" * 80, link="/x" * 400)
    n = client.get(f"{URL}/{long_one}", headers=owner.headers).json()
    assert len(n["title"]) == 300 and n["title"].endswith("…")
    assert len(n["kind"]) == 50 and len(n["link"]) == 500


class Train:
    name = "text.train"
    title = "Model training"
    notify = True


class Quiet:
    name = "demo.work"
    title = "Demo work"


class Described(Train):
    def notification(self, status: str, result: dict) -> dict:
        return {
            "title": f"Model {result['model']} is ready",
            "link": f"/text/models/{result['id']}",
        }


class Broken(Train):
    def notification(self, status: str, result: dict) -> dict:
        raise RuntimeError("a bug in the hook")


def finish(db, account, job_type, status, job_id=7, **kw):
    with db.session() as s:
        made = service.job_finished(
            s,
            job_type=job_type,
            job_id=job_id,
            org_id=account.org_id,
            user_id=kw.pop("user_id", account.user_id),
            status=status,
            **kw,
        )
        return None if made is None else (made.kind, made.title, made.body, made.link, made.data)


def test_a_finished_job_notifies_its_starter_when_its_type_opts_in(db, owner):
    assert finish(db, owner, Train(), "succeeded") == (
        "job.succeeded",
        "Model training finished",
        "",
        "/jobs/7",
        {"job_id": 7, "job_type": "text.train", "status": "succeeded"},
    )
    assert finish(db, owner, Train(), "failed", job_id=8, error="ValueError: one class") == (
        "job.failed",
        "Model training failed",
        "ValueError: one class",
        "/jobs/8",
        {"job_id": 8, "job_type": "text.train", "status": "failed"},
    )
    assert finish(db, owner, Quiet(), "succeeded") is None
    assert finish(db, owner, Train(), "aborted") is None
    assert finish(db, owner, Train(), "succeeded", user_id=None) is None
    with db.session() as s:
        rows, total = service.list_page(
            s, org_id=owner.org_id, user_id=owner.user_id, page=PageParams()
        )
        assert total == 2 and all(isinstance(r, Notification) for r in rows)


def test_a_job_type_may_describe_its_notification_and_a_failing_hook_is_ignored(db, owner):
    made = finish(db, owner, Described(), "succeeded", result={"model": "v2", "id": 3})
    assert made is not None and made[1:4] == ("Model v2 is ready", "", "/text/models/3")
    made = finish(db, owner, Broken(), "succeeded")
    assert made is not None and made[1] == "Model training finished"
