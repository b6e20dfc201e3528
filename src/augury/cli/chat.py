"""`augury chat use-cases|create|ask`: chatbots on an augury server, through its API.

Like `augury data`, these talk to a server (`--url`, or AUGURY_URL) with an API key
(`--api-key`, or AUGURY_API_KEY). `chat ask USECASE "question"` opens a chat with the
use case (named by its id, its public hash or its exact name) and prints the answer and
the knowledge it came from. A request the server refuses (a use case that does not
exist, or is closed) prints `error: ...` and exits 2; a server that cannot be reached
or fails exits 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from augury.cli.app import AsJson, Limit, echo_json
from augury.cli.data import DEFAULT_URL, ApiKey, Url, _fail, _server, _table, _when

chat_app = typer.Typer(
    no_args_is_help=True,
    help="Chatbots on an augury server: list and create use cases, ask one a question.",
)


@chat_app.command("use-cases")
def use_cases(
    search: Annotated[
        str | None, typer.Option(help="Text in the name.", show_default=False)
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """The organization's use cases, most recently changed first."""
    with _server(url, api_key) as client:
        page = client.chat.use_cases.list(q=search, limit=limit)
    if as_json:
        echo_json(page)
        return
    if not page["items"]:
        typer.echo("no use cases")
        return
    rows = [
        [
            u["id"],
            u["name"],
            u["status"],
            u["index"]["passages"],
            u["tokens"],
            u["hash"],
            _when(u["updated_at"]),
        ]
        for u in page["items"]
    ]
    _table(
        ["id", "name", "status", "passages", "tokens", "hash", "updated"],
        rows,
        right=[True, False, False, True, True],
    )
    if page["has_more"]:
        typer.echo(f"... {page['total'] - len(page['items'])} more (--limit)")


@chat_app.command("create")
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The use case's name.")],
    welcome: Annotated[
        str, typer.Option(help="The first message a chat shows.", show_default=False)
    ] = "",
    description: Annotated[str, typer.Option(help="What the chatbot is for.")] = "",
    sentence: Annotated[
        list[str] | None,
        typer.Option(
            "--sentence", "-s", help="A sentence of knowledge (repeat).", show_default=False
        ),
    ] = None,
    file: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            "-f",
            help="A file of knowledge: TXT, Markdown, HTML, PDF, DOCX, CSV ... (repeat).",
            exists=True,
            dir_okay=False,
            readable=True,
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Create a use case with its knowledge: sentences, then files, in the order given."""
    with _server(url, api_key) as client:
        chat = client.chat
        use_case = chat.use_cases.create(name, welcome=welcome, description=description)
        if sentence:
            chat.knowledge.add_sentences(use_case["id"], list(sentence))
        for path in file or []:
            chat.knowledge.upload(use_case["id"], path)
        use_case = chat.use_cases.get(use_case["id"])
    if as_json:
        echo_json(use_case)
        return
    index = use_case["index"]
    typer.echo(
        f"use case {use_case['id']} {use_case['name']!r} created: "
        f"{index['passages']} passages, {use_case['tokens']} tokens, hash {use_case['hash']}"
    )


@chat_app.command("ask")
def ask(
    use_case: Annotated[
        str, typer.Argument(metavar="USECASE", help="The use case's id, hash or name.")
    ],
    question: Annotated[str, typer.Argument(metavar="QUESTION")],
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Open a chat with the use case, ask QUESTION, print the answer and its sources."""
    with _server(url, api_key) as client:
        chat = client.chat
        found = chat.use_cases.find(use_case)
        if found["status"] != "open":
            _fail(
                f"the use case {found['name']!r} ({found['id']}) is closed: "
                f"`open` it first (POST /chat/use-cases/{found['id']}/open)"
            )
        opened = chat.chats.open(found["id"], visitor="cli")
        answered = chat.chats.send(opened["chat"]["id"], question)
        answer = answered.get("answer") or {}
        knowledge = chat.knowledge.list(found["id"])["items"] if answer else []
        pieces = {k["id"]: k for k in knowledge}
    if as_json:
        echo_json(answered)
        return
    typer.echo(answer.get("text", ""))
    sources = answer.get("sources") or []
    if sources:
        typer.echo("")
        for n, source in enumerate(sources, 1):
            typer.echo(f"[{n}] {_source(source, pieces.get(source.get('knowledge_id')))}")
    confidence = answer.get("confidence")
    if isinstance(confidence, int | float):
        typer.echo(f"confidence: {confidence:.2f}")


def _source(source: dict, piece: dict | None) -> str:
    """Where an answer came from, as a person reads it: the knowledge piece's place and
    kind, and its title or the start of its text."""
    if piece is None:
        return source.get("title") or f"knowledge {source.get('knowledge_id')}"
    words = piece.get("title") or " ".join((piece.get("text") or "").split())
    if len(words) > 70:
        words = words[:69] + "…"
    return f"#{piece['position']} {piece['kind']}: {words}"
