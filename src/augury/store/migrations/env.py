"""Alembic environment: runs on the connection or URL that augury.store.migrate passes.

Autogenerate compares the migrations with every domain's tables, which the composition
root gathers (augury.runtime.wiring.metadata); this entry script is the one module
of the store that may ask it.
"""

from alembic import context
from sqlalchemy import create_engine

from augury.runtime import wiring
from augury.store.migrate import include_name

metadata = wiring.metadata()

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("augury.store.migrate passes a connection or sqlalchemy.url")
    engine = create_engine(url)
    with engine.connect() as conn:
        _run_on(conn)


def _run_on(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
