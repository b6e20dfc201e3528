"""Demo data for `make run`: an organization, its owner and a finished example job.

Later domains add their demo data here (metrics with anomalies, a table, texts).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from augury.accounts import service as accounts_service
from augury.accounts.models import User
from augury.config import Settings
from augury.jobs import service as jobs_service
from augury.store.db import Database

log = logging.getLogger("augury.demo")

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "augury-demo"


def seed_demo(db: Database, settings: Settings) -> bool:
    """Create the demo account once; returns False when it already exists."""
    with db.session() as session:
        if session.scalar(select(User.id).where(User.email == DEMO_EMAIL)):
            return False
        user = accounts_service.create_user(
            session=session,
            settings=settings,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            name="Demo User",
        )
        org = accounts_service.create_organization(session=session, owner=user, name="Demo")
        jobs_service.create(
            session=session,
            org_id=org.id,
            type="demo.work",
            user_id=user.id,
            params={"steps": 5, "step_seconds": 0.2, "kind": "cpu"},
        )
    log.warning("demo account: %s / %s", DEMO_EMAIL, DEMO_PASSWORD)
    return True
