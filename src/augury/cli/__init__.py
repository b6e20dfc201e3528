"""The `augury` command: serve, worker, db, user, keys, outbox, jobs, data, text, model,
webhooks, chat, detect, forecast, profile, ask.

Commands other than `serve` act on the database directly (as the operator of this
machine), so they work before any account exists and without the server running.
`detect` and `forecast` need no database at all: they read a CSV file and write one.
`data` talks to a running server through its API, with an API key.

One module per command group: `server` (serve, worker), `files` (detect, forecast, profile),
`db`, `users`, `keys`, `outbox`, `jobs`, `data` and `text` (the offline `text train|predict`
in `text`, the server's projects, classes, labels, documents and sessions in `text_api`,
its models and analyses in `text_models_api`) and `model` (the offline `model train|predict`
in `model`, the server's predictive models, applications and subscriptions in `model_api`)
and `chat` (the server's chatbots: list, create, ask);
`app` holds the root Typer app and the
helpers they share. The groups are added here, in the order `augury --help` lists them.
"""

from __future__ import annotations

from augury.cli.app import app
from augury.cli.ask import ask_app
from augury.cli.chat import chat_app
from augury.cli.collect import collect_app
from augury.cli.data import data_app
from augury.cli.db import db_app
from augury.cli.files import files_app
from augury.cli.jobs import jobs_app
from augury.cli.keys import keys_app
from augury.cli.model import model_app
from augury.cli.model_api import model_api_app, subscriptions_app
from augury.cli.outbox import outbox_app
from augury.cli.server import server_app
from augury.cli.text import text_app
from augury.cli.text_api import (
    classes_app,
    documents_app,
    labels_app,
    projects_app,
    sessions_app,
)
from augury.cli.text_models_api import analyses_app, analyze_app, models_app
from augury.cli.users import user_app
from augury.cli.webhooks import webhooks_app

__all__ = ["app", "main"]

# Nameless groups put their commands on the root itself: serve, worker, detect, forecast,
# profile.
app.add_typer(server_app)
app.add_typer(files_app)
app.add_typer(ask_app)
for sub, name in (
    (db_app, "db"),
    (user_app, "user"),
    (keys_app, "keys"),
    (outbox_app, "outbox"),
    (jobs_app, "jobs"),
    (data_app, "data"),
    (text_app, "text"),
    (model_app, "model"),
    (webhooks_app, "webhooks"),
    (chat_app, "chat"),
    (collect_app, "collect"),
):
    app.add_typer(sub, name=name)
for sub, name in (
    (projects_app, "projects"),
    (classes_app, "classes"),
    (labels_app, "labels"),
    (documents_app, "documents"),
    (sessions_app, "sessions"),
    (models_app, "models"),
    (analyses_app, "analyses"),
):
    text_app.add_typer(sub, name=name)
text_app.add_typer(analyze_app)  # nameless: `augury text analyze`
# `augury model`: the offline train and predict, then the server's commands beside them.
model_app.add_typer(model_api_app)
model_app.add_typer(subscriptions_app, name="subscriptions")
text_app.info.help = (
    "Text: train a model on a labeled file and predict a file with it, offline (train, "
    "predict); and a server's text projects, with an API key (projects, classes, labels, "
    "documents, sessions, models, analyses, analyze)."
)


def main() -> None:
    app()
