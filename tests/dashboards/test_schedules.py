"""Scheduled exports: a due schedule mails the dashboard as PDF to each recipient (the
outbox, no SMTP server being set), once per due time, then waits for the next one."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

from pypdf import PdfReader
from sqlalchemy import select

from augury.dashboards.schedules import ScheduledExports
from augury.jobs.models import Job
from augury.mail import read_outbox
from tests.dashboards.test_api import create, make_chart
from tests.text.helpers import run_job


def mails(settings) -> list:
    return [
        BytesParser(policy=policy.default).parsebytes(open(m["path"], "rb").read())
        for m in read_outbox(settings.outbox_dir)
    ]


def run_queued(db, settings) -> list[dict]:
    """Run the export jobs the task queued, here (the frozen clock holds in this process)."""
    with db.session() as s:
        ids = s.scalars(
            select(Job.id).where(Job.type == "dashboards.export", Job.status == "pending")
        ).all()
    return [run_job(db, settings, job_id) for job_id in ids]


def test_a_due_schedule_mails_the_pdf_then_waits(client, owner, settings, db, frozen_clock):
    frozen_clock.set(datetime(2026, 3, 2, 7, 30, tzinfo=UTC))  # a Monday
    chart = make_chart(client, owner)
    d = create(client, owner, name="Weekly", tiles=[{"type": "chart", "chart_id": chart}]).json()
    body = {
        "cron": "0 9 * * 1",
        "timezone": "Europe/Berlin",
        "recipients": ["ana@example.com", "ops@example.com"],
        "page_size": "letter",
    }
    r = client.post(f"/api/v1/dashboards/{d['id']}/schedules", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    schedule = r.json()
    # 09:00 in Berlin is 08:00 UTC in winter.
    assert schedule["next_run_at"] == "2026-03-02T08:00:00Z"
    task = ScheduledExports(settings)

    assert task.run(db) == 0 and mails(settings) == []
    frozen_clock.advance(31 * 60)
    assert task.run(db) == 1
    # queued: the stream processor renders and mails nothing itself
    assert mails(settings) == []
    listed = client.get(f"/api/v1/dashboards/{d['id']}/schedules", headers=owner.headers).json()
    assert listed["items"][0]["last_status"] == "queued"
    assert run_queued(db, settings) == [{"sent": 2}]
    sent = mails(settings)
    assert sorted(m["To"] for m in sent) == ["ana@example.com", "ops@example.com"]
    for m in sent:
        assert m["Subject"] == "Dashboard: Weekly (2026-03-02)"
        (attachment,) = list(m.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "weekly-2026-03-02.pdf"
        pdf = PdfReader(io.BytesIO(attachment.get_content()))
        assert len(pdf.pages) == 1
        assert sorted(float(v) for v in pdf.pages[0].mediabox[2:]) == [612.0, 792.0]

    listed = client.get(f"/api/v1/dashboards/{d['id']}/schedules", headers=owner.headers).json()
    (row,) = listed["items"]
    assert row["last_status"] == "ok" and row["last_error"] is None
    assert row["last_run_at"] == "2026-03-02T08:01:00Z"
    assert row["next_run_at"] == "2026-03-09T08:00:00Z"
    # Not again until next Monday.
    frozen_clock.advance(86400)
    assert task.run(db) == 0 and run_queued(db, settings) == [] and len(mails(settings)) == 2


def test_a_disabled_schedule_sends_nothing_and_bad_crons_are_422(
    client, owner, settings, db, frozen_clock
):
    d = create(client, owner).json()
    url = f"/api/v1/dashboards/{d['id']}/schedules"
    for cron, tz in (("61 * * * *", "UTC"), ("0 9 * * 1", "Mars/Olympus")):
        body = {"cron": cron, "timezone": tz, "recipients": ["a@example.com"]}
        r = client.post(url, json=body, headers=owner.headers)
        assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR", r.text
    body = {"cron": "*/5 * * * *", "recipients": ["a@example.com"], "enabled": False}
    schedule = client.post(url, json=body, headers=owner.headers).json()
    # A due time passed, but the schedule is off. (At most 6 + 5 minutes pass in all:
    # the owner's access token, issued at the start, lasts 15.)
    frozen_clock.advance(360)
    assert ScheduledExports(settings).run(db) == 0 and mails(settings) == []
    r = client.patch(f"{url}/{schedule['id']}", json={"enabled": True}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["enabled"] is True
    frozen_clock.set(datetime.fromisoformat(r.json()["next_run_at"]) + timedelta(seconds=1))
    assert ScheduledExports(settings).run(db) == 1
    assert run_queued(db, settings) == [{"sent": 1}] and len(mails(settings)) == 1
    assert client.delete(f"{url}/{schedule['id']}", headers=owner.headers).status_code == 204
    assert client.get(url, headers=owner.headers).json()["items"] == []
