"""The demo organization `make run` creates: its week of metrics has incidents that
detection finds, and its latency alert reaches the mail outbox."""

from __future__ import annotations

from sqlalchemy import select

from augury.alerts.evaluate import evaluate
from augury.alerts.models import AlertTrigger
from augury.audit.models import AuditEvent
from augury.demo import seed_demo
from augury.mail import read_outbox
from augury.runtime import wiring
from augury.store import migrate
from augury.store.db import Database


def test_demo_week_triggers_the_latency_alert_into_the_outbox(settings):
    wiring.install()  # as create_app does before seeding: the demo's job is a demo.work
    db = Database(settings.db_url)
    migrate.upgrade(db.engine)
    assert seed_demo(db, settings) is True
    assert seed_demo(db, settings) is False  # once
    wiring.stream_processor(db, settings).drain()
    evaluate(db, base_url=settings.base_url)
    wiring.dispatcher(db, settings).drain()
    with db.session() as s:
        triggers = list(s.scalars(select(AlertTrigger)))
        # augury made the channel and the alert, no person: nothing for the audit log
        assert not list(
            s.scalars(
                select(AuditEvent.action).where(AuditEvent.target_type.in_(("alert", "channel")))
            )
        )
    assert [t.title for t in triggers] == ["Latency on web-2"]
    mails = read_outbox(settings.outbox_dir)  # the spike came and went: open, then close
    assert {m["to"] for m in mails} == {"ops@example.com"}
    assert all("Latency on web-2" in m["subject"] for m in mails) and len(mails) == 2
    opened = next(m for m in mails if "Closed" not in m["subject"])
    assert "deploy web v2.3" in opened["text"]  # the deploy ten minutes before
    db.dispose()


def test_demo_orders_dataset_reads_day_first_dates_and_yes_no(settings):
    from augury.datasets import service as datasets_service
    from augury.datasets.models import Dataset, DatasetVersion
    from augury.engines.tabular.profile import profile

    wiring.install()
    db = Database(settings.db_url)
    migrate.upgrade(db.engine)
    seed_demo(db, settings)
    with db.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.name == "orders")).one()
        version = s.scalars(select(DatasetVersion)).one()
        assert dataset.tags == ["demo", "sales"] and version.rows == 3000
        assert version.profile_status == "pending" and version.profile_job_id
        path = datasets_service.path_of(settings, version)
    columns = {c["name"]: c for c in profile(path)["columns"]}
    assert columns["date"]["type"] == "date" and columns["date"]["parse"] == "strptime:%d/%m/%Y"
    assert columns["returned"]["type"] == "boolean"
    assert columns["email"]["semantic"] == "email"
    assert columns["order_id"]["semantic"] == "identifier"
    assert columns["discount"]["nulls"] > 0
    db.dispose()
