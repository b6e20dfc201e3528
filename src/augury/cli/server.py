"""`augury serve` and `augury worker`: the long-running processes.

`serve` runs the API and web UI (and, unless --api-only, the job runner); `worker`
runs the job runner, the metrics stream processor and the alert dispatcher next to
API-only servers.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from augury.cli.app import open_db
from augury.config import Settings

# Nameless: `augury.cli` adds these commands to the root app itself.
server_app = typer.Typer()


KEEP_ALIVE_S = 75
"""Seconds an idle HTTP connection stays open: longer than clients keep theirs for reuse
(httpx and requests 5 s, nginx's upstream pools 60 s). At uvicorn's default of 5 s the
server could close a connection just as a client sent its next request on it, and the
client saw "connection reset by peer"."""


@server_app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Create the demo account at start.")] = False,
    api_only: Annotated[bool, typer.Option(help="Do not run jobs here (workers do).")] = False,
    workers: Annotated[int, typer.Option(help="HTTP worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run the API, the web UI and (unless --api-only) the job runner."""
    import uvicorn

    from augury.app import create_app
    from augury.runtime import logs

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logs.install()  # no credential in any log line (?token= in the access log above all)
    settings = Settings(demo=demo or Settings().demo)
    if api_only:
        settings.jobs.enabled = False
    if warning := settings.resolve_base_url(host, port):
        logging.getLogger("augury").warning(warning)
    if workers > 1:
        typer.echo(
            "several HTTP workers: run `augury serve --api-only` per worker behind a balancer"
        )
    typer.echo(f"augury on http://{host}:{port}  (data: {settings.data_dir.resolve()})")
    if settings.demo:
        from augury.demo import DEMO_EMAIL, DEMO_PASSWORD

        typer.echo(f"demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
    # proxy_headers off: uvicorn would believe X-Forwarded-For from any loopback client;
    # augury reads it only from AUGURY_TRUSTED_PROXIES (api/clientip.py).
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level.lower(),
        log_config=logs.uvicorn_log_config(),
        proxy_headers=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )


@server_app.command()
def worker(
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run the job runner, the metrics stream processor, the alert sender and the
    collector (next to `serve --api-only`)."""
    import signal
    import threading

    from augury.runtime import logs, wiring
    from augury.runtime.jobs import JobRunner

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logs.install()
    wiring.install()
    settings = Settings()
    db = open_db(settings)
    runner = JobRunner(settings, db)
    loops = [
        runner,
        wiring.stream_processor(db, settings),
        wiring.dispatch_loop(wiring.dispatcher(db, settings)),
        wiring.collector_loop(db, settings),
    ]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for loop in loops:
        loop.start()
    typer.echo(
        f"worker on {runner.host}: running jobs, metric rollups, detection, alerts and "
        "data streams "
        "(Ctrl-C to stop)"
    )
    stop.wait()
    for loop in reversed(loops):
        loop.stop()
