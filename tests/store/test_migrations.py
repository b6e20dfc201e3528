"""Every migration runs up and down on the test dialect, and matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from augury.runtime import wiring
from augury.store import migrate
from augury.store.db import Database
from tests.fixtures.db import TEST_DB_URL

# On PostgreSQL both tests use the one augury_migrations database: one worker runs them.
pytestmark = [pytest.mark.xdist_group("migrations"), pytest.mark.database]


def _fresh_db(tmp_path) -> Database:
    if TEST_DB_URL:
        db = Database(TEST_DB_URL.rsplit("/", 1)[0] + "/augury_migrations")
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        return db
    return Database(f"sqlite:///{tmp_path / 'm.db'}")


def test_upgrade_downgrade_upgrade_and_models_match(tmp_path):
    db = _fresh_db(tmp_path)
    migrate.upgrade(db.engine)
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in wiring.metadata().sorted_tables} <= tables
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": migrate.include_name}
            ),
            wiring.metadata(),
        )
    assert diff == [], diff
    migrate.downgrade(db.engine, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(db.engine)
    db.dispose()


def test_0008_adds_the_anomaly_index_a_database_at_0005_never_got(tmp_path):
    """The index was once added to 0005 after it shipped; 0008 adds it where missing
    and leaves it where that edited 0005 made it."""
    index = "ix_metric_anomaly_org_state"
    db = _fresh_db(tmp_path)

    def has_index() -> bool:
        return index in {ix["name"] for ix in inspect(db.engine).get_indexes("metric_anomaly")}

    migrate.upgrade(db.engine, "0007")
    assert not has_index()  # 0005 as it shipped
    migrate.upgrade(db.engine)
    assert has_index()
    migrate.downgrade(db.engine, "0007")
    assert not has_index()
    with db.engine.begin() as conn:  # what the edited 0005 had made
        conn.execute(text(f"CREATE INDEX {index} ON metric_anomaly (org_id, state)"))
    migrate.upgrade(db.engine)
    assert has_index()
    db.dispose()
