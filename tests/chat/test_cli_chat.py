"""`augury chat use-cases|create|ask` against a real augury server over HTTP, with an
API key. The group is mounted on an app of the test's own."""

from __future__ import annotations

import itertools
import json
import re

import pytest
import typer
from typer.testing import CliRunner

from augury.cli.chat import chat_app
from augury.client import Client, NotFoundError

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

app = typer.Typer()
app.add_typer(chat_app, name="chat")


@pytest.fixture
def owner(live_server):
    with Client(live_server.url) as c:
        c.signup(f"cli-chat{next(_seq)}@example.com", PASSWORD, organization_name="Manolo")
        yield c


@pytest.fixture
def run(live_server, owner):
    """Run `augury chat ARGS...` against the live server; the exit code is checked."""
    runner = CliRunner()
    key = owner.keys.create("cli", scopes=["read", "write"])["key"]
    env = {"AUGURY_URL": live_server.url, "AUGURY_API_KEY": key}

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(app, ["chat", *args], env=env)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return invoke


def test_create_list_and_ask(run, owner, tmp_path):
    assert run("use-cases").output == "no use cases\n"
    faq = tmp_path / "faq.md"
    faq.write_text("# Parking\nParking is free in the garage behind the restaurant.\n")
    out = run(
        "create",
        "Manolo",
        "--welcome",
        "Hi!",
        "--sentence",
        "The restaurant opens at nine in the morning.",
        "-s",
        "Paella is served on Sundays.",
        "--file",
        str(faq),
    ).output
    m = re.fullmatch(
        r"use case (\d+) 'Manolo' created: 3 passages, (\d+) tokens, hash (\S+)\n", out
    )
    assert m, out
    uc_id, hash_ = int(m.group(1)), m.group(3)
    listed = run("use-cases").output.splitlines()
    assert listed[0].split() == ["ID", "NAME", "STATUS", "PASSAGES", "TOKENS", "HASH", "UPDATED"]
    assert listed[1].split()[:4] == [str(uc_id), "Manolo", "open", "3"]
    as_json = json.loads(run("use-cases", "--json").output)
    assert as_json["items"][0]["hash"] == hash_

    # A use case that does not exist, and a closed one: a clear error, exit 2.
    result = run("ask", "Nobody", "hello?", code=2)
    assert "error: No use case 'Nobody'" in result.output
    owner.request("POST", f"/chat/use-cases/{uc_id}/close")
    result = run("ask", hash_, "hello?", code=2)
    assert "is closed" in result.output
    owner.request("POST", f"/chat/use-cases/{uc_id}/open")

    for ref in (str(uc_id), hash_, "Manolo"):
        out = run("ask", ref, "When does the restaurant open?").output
        assert "nine" in out, out
        assert "[1] #1 sentence: The restaurant opens at nine in the morning." in out, out


def test_ask_without_a_server(run):
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["chat", "ask", "1", "hi"],
        env={"AUGURY_URL": "http://127.0.0.1:9", "AUGURY_API_KEY": "aug_x"},
    )
    assert result.exit_code == 1 and "cannot reach" in result.output


def test_not_found_is_the_clients_error(owner):
    from augury.client.chat import Chat

    with pytest.raises(NotFoundError):
        Chat(owner).use_cases.find("404")
