"""Demo data for `make run`: an organization, its owner, an example job and metrics.

The metrics are a week of 5-minute points ending at the moment of seeding, with daily
and weekly cycles and noise (generated with a fixed seed), stored through the same
writer as the ingestion routes; an alert on latency (mailed to the outbox) fires on the
week's latency spike once detection has run. The shop's orders of the last quarter are
a dataset (its dates day-first, as a European shop's export has them). Later domains
add their demo data here.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from sqlalchemy import select

from augury.accounts import organizations, users
from augury.accounts.models import User
from augury.accounts.principal import Principal
from augury.config import Settings
from augury.datasets import service as datasets_service
from augury.datasets.schemas import DatasetMeta
from augury.jobs import service as jobs_service
from augury.metrics import writer
from augury.metrics.ingest.points import ParseResult, Sample
from augury.store.db import Database

log = logging.getLogger("augury.demo")

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "augury-demo"


def seed_demo(db: Database, settings: Settings) -> bool:
    """Create the demo account once; returns False when it already exists."""
    with db.session() as session:
        if session.scalar(select(User.id).where(User.email == DEMO_EMAIL)):
            return False
        user = users.create_user(
            session=session,
            settings=settings,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            name="Demo User",
        )
        org = organizations.create_organization(session=session, owner=user, name="Demo")
        jobs_service.create(
            session=session,
            org_id=org.id,
            type="demo.work",
            user_id=user.id,
            params={"steps": 5, "step_seconds": 0.2, "kind": "cpu"},
        )
        writer.write(
            session,
            org_id=org.id,
            result=demo_metrics(time.time()),
            cache=writer.MetricCache(),
            source="demo",
            max_lateness_s=None,
        )
        seed_alerts(session, org.id, user.id, time.time())
        seed_dataset(session, settings, org.id, user.id)
    log.warning("demo account: %s / %s", DEMO_EMAIL, DEMO_PASSWORD)
    return True


def seed_dataset(session, settings: Settings, org_id: int, user_id: int) -> None:
    """The shop's orders of the last quarter as a dataset, profiled by a job at start."""
    principal = Principal(org_id=org_id, user_id=user_id)
    meta = DatasetMeta(
        name="orders",
        description="Web-shop orders of the last quarter: one row per order line.",
        tags=["demo", "sales"],
    )
    staged = datasets_service.stage_records(settings, demo_orders())
    datasets_service.add_version(
        session=session, principal=principal, settings=settings, meta=meta, staged=staged
    )


def demo_orders(rows: int = 3000, seed: int = 7) -> list[dict]:
    """Order lines with a few regions, products and channels, seasonal by weekday."""
    rng = np.random.default_rng(seed)
    products = {"Kettle": 39.0, "Toaster": 29.5, "Blender": 74.9, "Mug": 8.5, "Grinder": 54.0}
    regions = ["North", "South", "East", "West"]
    start = time.time() - 91 * 86400
    out = []
    for i in range(rows):
        ts = start + float(rng.uniform(0, 91 * 86400))
        product = str(rng.choice(list(products)))
        units = int(rng.integers(1, 6))
        out.append(
            {
                "order_id": 100_000 + i,
                "date": time.strftime("%d/%m/%Y", time.gmtime(ts)),
                "region": regions[int(rng.choice(4, p=[0.4, 0.25, 0.2, 0.15]))],
                "channel": "web" if rng.random() < 0.7 else "app",
                "product": product,
                "units": units,
                "price": products[product],
                "discount": None
                if rng.random() < 0.05
                else round(float(rng.choice([0, 0.1, 0.2])), 2),
                "email": f"customer{int(rng.integers(1, 900))}@example.com",
                "returned": "yes" if rng.random() < 0.04 else "no",
            }
        )
    return out


def seed_alerts(session, org_id: int, user_id: int, now: float) -> None:
    """An email channel (the outbox, until SMTP is set), an alert on latency that the
    demo week's spike triggers once detection has run, and the deploy before it."""
    from augury.accounts.principal import Principal
    from augury.alerts import schemas as alert_schemas
    from augury.alerts.services import channels, configs, events

    # Seeded by augury, not changed by a person: no audit entries (audited=False).
    actor = Principal(org_id=org_id, user_id=user_id)
    channel = channels.create(
        session,
        actor,
        alert_schemas.ChannelCreate(
            name="ops mail", type="email", config={"to": ["ops@example.com"]}, enabled=True
        ),
        audited=False,
    )
    config = alert_schemas.AlertConfigCreate(
        title="Latency on {{host}}",
        description="Page latency left its usual band.",
        severity="high",
        expression="what=latency_ms",
        group_by=["host"],
        conditions=alert_schemas.Conditions(min_score=80),
        channel_ids=[channel.id],
    )
    configs.create(session, actor, config, audited=False)
    step = 300
    spike = math.floor(now / step) * step - 35 * step
    events.create(
        session,
        actor,
        alert_schemas.EventCreate(
            title="deploy web v2.3",
            description="",
            category="deployments",
            source="ci",
            type="display",
            start=spike - 600,
            end=None,
            properties={"service": "web"},
        ),
    )


def demo_metrics(now: float, days: int = 7, step: int = 300) -> ParseResult:
    """A week of 5-minute points for a small web shop (requests, latency, orders)."""
    rng = np.random.default_rng(7)
    end = math.floor(now / step) * step
    ts = np.arange(end - days * 86400, end + 1, step, dtype=float)
    hour = (ts % 86400) / 3600
    daily = 1 + 0.6 * np.sin((hour - 9) / 24 * 2 * math.pi)
    weekday = np.where(((ts // 86400) + 4) % 7 >= 5, 0.7, 1.0)  # 1970-01-01 was a Thursday
    series = {
        ("requests", "web-1", "counter"): 1200 * daily * weekday,
        ("requests", "web-2", "counter"): 900 * daily * weekday,
        ("latency_ms", "web-1", "gauge"): 80 + 25 * daily,
        ("latency_ms", "web-2", "gauge"): 95 + 30 * daily,
        ("orders", "web-1", "counter"): 40 * daily * weekday,
    }
    # Incidents to find: a latency spike on web-2 three hours ago, orders halved for
    # 40 minutes yesterday.
    spike = len(ts) - 36
    series[("latency_ms", "web-2", "gauge")][spike : spike + 3] *= 4
    drop = len(ts) - 288 - 8
    series[("orders", "web-1", "counter")][drop : drop + 8] *= 0.5
    result = ParseResult()
    for (what, host, target), level in series.items():
        values = level * (1 + 0.05 * rng.standard_normal(len(ts)))
        for t, v in zip(ts.tolist(), values.tolist(), strict=True):
            result.add(len(result.samples), Sample(what, {"host": host}, t, round(v, 2), target))
    return result
