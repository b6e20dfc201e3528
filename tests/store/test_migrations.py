"""Every migration runs up and down on the test dialect, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from augury.runtime import wiring
from augury.store import migrate
from augury.store.db import Database
from tests.fixtures.db import TEST_DB_URL


def _fresh_db(tmp_path) -> Database:
    if TEST_DB_URL:
        from sqlalchemy import text

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
            MigrationContext.configure(conn, opts={"compare_type": True}), wiring.metadata()
        )
    assert diff == [], diff
    migrate.downgrade(db.engine, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(db.engine)
    db.dispose()
