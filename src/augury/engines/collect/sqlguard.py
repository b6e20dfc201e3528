"""A user's SQL checked to be one read-only statement: the first, clear refusal.

A data stream may run a query its user wrote. This check refuses, with a message that
says why, anything but a single ``SELECT`` (or ``WITH ... SELECT``, ``VALUES``,
``TABLE t``): a second statement, ``INSERT``/``UPDATE``/``DELETE``/``MERGE``, DDL,
``COPY``, ``CALL``, ``SET``, ``SELECT ... INTO``, row locks (``FOR UPDATE``), a
data-modifying CTE (``WITH d AS (DELETE ...)``) and a few server functions that read
files or change state (``pg_read_file``, ``lo_export``, ``set_config``, ``nextval`` ...).

**It is not the guard.** SQL is too large a language to bless by reading it: a
function the user may call can write (``SELECT my_func()``), and dialects differ. The
service runs every stream query in a *read-only transaction* (``SET TRANSACTION READ
ONLY``; ``START TRANSACTION READ ONLY`` on MySQL; SQLite opened ``mode=ro``) with a
*statement timeout* at the driver, as a database user that can only read; this check
only answers early and clearly. Its rule is therefore to refuse what it cannot be sure
of, even when the database would have allowed it: a column named ``update`` must be
quoted (``"update"``).

The text is read by a tokenizer that knows comments (``--``, ``#`` on MySQL, nested
``/* */``), string literals (``''`` doubling, ``E'\\''`` and MySQL's backslash escapes,
PostgreSQL ``$tag$`` quoting) and quoted identifiers, so a keyword inside a string or
a comment is not a false alarm, and a ``;`` inside one does not split the statement.
Where dialects read the same text differently (is ``\\'`` the end of a string?), the
default ``dialect="any"`` reads it both ways and must find it safe both times.
MySQL's executable comments ``/*! ... */`` run their content and are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DIALECTS", "UnsafeQuery", "check_read_only"]

DIALECTS = ("any", "postgresql", "mysql", "sqlite")

_STARTS = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})
"""First keywords of a read-only statement."""

_WRITES = frozenset(
    {
        "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "TRUNCATE",
        "CREATE", "ALTER", "DROP", "RENAME", "COMMENT", "GRANT", "REVOKE",
        "COPY", "CALL", "EXEC", "EXECUTE", "DO", "SET", "RESET", "INTO", "LOCK",
        "UNLOCK", "VACUUM", "ANALYZE", "REINDEX", "CLUSTER", "REFRESH", "ATTACH",
        "DETACH", "PRAGMA", "LOAD", "IMPORT", "HANDLER", "PREPARE", "DEALLOCATE",
        "DISCARD", "LISTEN", "NOTIFY", "UNLISTEN", "CHECKPOINT", "BEGIN", "START",
        "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "DECLARE", "FETCH", "MOVE",
        "CLOSE", "EXPLAIN", "SHOW", "USE", "KILL", "FLUSH", "OPTIMIZE", "REPAIR",
        "INSTALL", "UNINSTALL", "SHUTDOWN", "OUTFILE", "DUMPFILE", "SECURITY",
    }
)  # fmt: skip
"""Keywords of statements that are not reads. Refused anywhere outside strings and
quoted identifiers, except the few (``SET``, ``REPLACE``, ``DO``, ...) that also name
functions or occur in reads, which :data:`_CONTEXTUAL` lets through there."""

_CONTEXTUAL = frozenset(
    {
        "REPLACE", "SET", "DO", "LOAD", "CLOSE", "MOVE", "FETCH", "SHOW", "USE", "START",
        "RELEASE", "RESET", "ANALYZE", "COMMENT", "KILL", "SECURITY", "CLUSTER", "COMMIT",
        "HANDLER", "CHECKPOINT", "DISCARD",
    }
)  # fmt: skip
"""Write keywords that are also a function name (``replace(s, 'a', 'b')``), part of a
read (``CHARACTER SET``, ``FETCH FIRST 10 ROWS``, ``ON CONFLICT DO``) or a common column
name: refused only where a statement starts (first word, after ``(``)."""

_FUNCTIONS = frozenset(
    {
        "PG_READ_FILE", "PG_READ_BINARY_FILE", "PG_LS_DIR", "PG_STAT_FILE", "LO_IMPORT",
        "LO_EXPORT", "LO_UNLINK", "LO_FROM_BYTEA", "LO_PUT", "DBLINK", "DBLINK_EXEC",
        "PG_TERMINATE_BACKEND", "PG_CANCEL_BACKEND", "PG_RELOAD_CONF", "PG_ROTATE_LOGFILE",
        "SET_CONFIG", "SETVAL", "NEXTVAL", "PG_ADVISORY_LOCK", "PG_ADVISORY_XACT_LOCK",
        "PG_SWITCH_WAL", "PG_CREATE_RESTORE_POINT", "PG_PROMOTE", "QUERY_TO_XML",
        "LOAD_FILE", "SYS_EXEC", "SYS_EVAL", "LOAD_EXTENSION", "READFILE", "WRITEFILE",
        "EDIT", "FTS3_TOKENIZER",
    }
)  # fmt: skip
"""Server functions that read the server's files, reach other servers or change state:
refused when called (a name followed by ``(``). Not exhaustive: privileges are."""


class UnsafeQuery(ValueError):
    """The query is not one read-only statement; ``position`` is the offending offset."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # word, quoted, string, number, punct
    text: str
    pos: int


_WORD = re.compile(r"[^\W\d]\w*", re.UNICODE)
_NUMBER = re.compile(r"\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?")
_DOLLAR = re.compile(r"\$([^\W\d]\w*)?\$", re.UNICODE)


def _end_of_string(sql: str, start: int, quote: str, backslash: bool) -> int:
    """Index just after the string literal opened at ``start``; quotes double, and with
    ``backslash`` a backslash escapes the next character."""
    i = start + 1
    n = len(sql)
    while i < n:
        ch = sql[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    raise UnsafeQuery(f"Unterminated {quote} quoted text starting at offset {start}.", start)


def _end_of_block_comment(sql: str, start: int, nested: bool) -> int:
    depth, i, n = 1, start + 2, len(sql)
    while i < n:
        if nested and sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    raise UnsafeQuery(f"Unterminated comment starting at offset {start}.", start)


def _line_comment(sql: str, i: int, mysql: bool) -> bool:
    """A ``--`` comment starts at ``i`` (MySQL wants a space after it: ``1--1`` is
    arithmetic there), or MySQL's ``#`` comment."""
    if mysql and sql[i] == "#":
        return True
    if not sql.startswith("--", i):
        return False
    return not mysql or i + 2 >= len(sql) or sql[i + 2].isspace()


def _tokens(sql: str, dialect: str) -> list[_Token]:
    """The tokens of ``sql`` read as ``dialect`` (comments dropped)."""
    mysql, pg = dialect == "mysql", dialect == "postgresql"
    out: list[_Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif _line_comment(sql, i, mysql):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            if mysql and sql.startswith("/*!", i):
                raise UnsafeQuery("MySQL executable comments (/*! ... */) are refused.", i)
            i = _end_of_block_comment(sql, i, nested=pg)
        elif ch == "'":
            # MySQL reads \' as an escaped quote; PostgreSQL (standard strings) and
            # SQLite end the string there. E'...' is PostgreSQL's escape string.
            prefix_e = bool(out) and out[-1].text.upper() == "E" and out[-1].pos + 1 == i
            if prefix_e and pg:
                out.pop()
            end = _end_of_string(sql, i, "'", backslash=mysql or (pg and prefix_e))
            out.append(_Token("string", sql[i:end], i))
            i = end
        elif ch == '"':
            end = _end_of_string(sql, i, '"', backslash=mysql)
            out.append(_Token("string" if mysql else "quoted", sql[i:end], i))
            i = end
        elif ch == "`":  # MySQL and SQLite quoting; a syntax error elsewhere
            end = _end_of_string(sql, i, "`", backslash=False)
            out.append(_Token("quoted", sql[i:end], i))
            i = end
        elif ch == "[" and dialect == "sqlite":
            end = sql.find("]", i)
            if end < 0:
                raise UnsafeQuery(f"Unterminated [identifier] at offset {i}.", i)
            out.append(_Token("quoted", sql[i : end + 1], i))
            i = end + 1
        elif ch == "$" and pg and (m := _DOLLAR.match(sql, i)):
            tag = m.group()
            end = sql.find(tag, m.end())
            if end < 0:
                raise UnsafeQuery(f"Unterminated {tag} quoted text at offset {i}.", i)
            out.append(_Token("string", sql[i : end + len(tag)], i))
            i = end + len(tag)
        elif m := _WORD.match(sql, i):
            out.append(_Token("word", m.group(), i))
            i = m.end()
        elif m := _NUMBER.match(sql, i):
            out.append(_Token("number", m.group(), i))
            i = m.end()
        else:
            out.append(_Token("punct", ch, i))
            i += 1
    return out


def _check_tokens(tokens: list[_Token]) -> None:
    # one statement: a trailing ';' may end it, nothing may follow
    semis = [t for t in tokens if t.kind == "punct" and t.text == ";"]
    if semis:
        if semis[0] is not tokens[-1] or len(semis) > 1:
            first = semis[0]
            raise UnsafeQuery(
                f"Only one statement is allowed; a second one starts after ';' at offset "
                f"{first.pos}.",
                first.pos,
            )
        tokens = tokens[:-1]
    if not tokens:
        raise UnsafeQuery("The query is empty.", 0)
    lead = next((t for t in tokens if not (t.kind == "punct" and t.text == "(")), tokens[0])
    if lead.kind != "word" or lead.text.upper() not in _STARTS:
        raise UnsafeQuery(
            f"A stream query is one SELECT (or WITH ... SELECT); it starts with {lead.text!r}.",
            lead.pos,
        )
    for index, token in enumerate(tokens):
        before = tokens[index - 1] if index else None
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        called = after is not None and after.kind == "punct" and after.text == "("
        name = token.text.strip('"`[]').upper() if token.kind == "quoted" else token.text.upper()
        if called and token.kind in ("word", "quoted") and name in _FUNCTIONS:
            # checked before the qualified-name rule: pg_catalog.pg_read_file() too
            raise UnsafeQuery(
                f"The function {token.text}() reads server files or changes state; "
                f"it is not allowed in a stream query (offset {token.pos}).",
                token.pos,
            )
        if token.kind != "word":
            continue
        if before is not None and before.kind == "punct" and before.text == ".":
            continue  # a qualified name: t.update, schema.delete
        starts_statement = before is None or (before.kind == "punct" and before.text == "(")
        if name in _WRITES and (name not in _CONTEXTUAL or (starts_statement and not called)):
            raise UnsafeQuery(_why(name, token), token.pos)
        if name == "SHARE" and before is not None and before.text.upper() in ("FOR", "KEY"):
            raise UnsafeQuery(
                f"FOR SHARE locks rows: a stream query only reads (offset {token.pos}).",
                token.pos,
            )


def _why(word: str, token: _Token) -> str:
    if word == "INTO":
        what = "SELECT ... INTO writes a table, a file or a variable"
    elif word in ("UPDATE", "LOCK", "UNLOCK"):
        what = f"{word} writes or locks rows"
    else:
        what = f"{word} is not a read"
    return (
        f"{what}: a stream query only reads (offset {token.pos}). "
        f'If {token.text} is a column name, quote it ("{token.text}").'
    )


def check_read_only(sql: str, dialect: str = "any") -> str:
    """``sql`` without surrounding space and a final ``;`` if it is one read-only
    statement, else :class:`UnsafeQuery` saying why.

    >>> check_read_only("SELECT ts, count(*) FROM events -- DROP TABLE events\\n GROUP BY ts;")
    'SELECT ts, count(*) FROM events -- DROP TABLE events\\n GROUP BY ts'
    >>> check_read_only("SELECT 'a; DELETE FROM t' AS note")
    "SELECT 'a; DELETE FROM t' AS note"
    >>> check_read_only("SELECT 1; DELETE FROM t")
    Traceback (most recent call last):
    ...
    augury.engines.collect.sqlguard.UnsafeQuery: Only one statement is allowed; a second \
one starts after ';' at offset 8.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"dialect is one of {', '.join(DIALECTS)}")
    if "\x00" in sql:
        raise UnsafeQuery("The query holds a NUL character.", sql.index("\x00"))
    readings = ("postgresql", "mysql", "sqlite") if dialect == "any" else (dialect,)
    last: list[_Token] = []
    for reading in readings:
        last = _tokens(sql, reading)
        _check_tokens(last)
    tail = last[-1]
    body = sql
    if tail.kind == "punct" and tail.text == ";":
        # the final ';' and what follows it (space, comments) go: the service may wrap
        # the query in its own SELECT * FROM (<query>) ... WHERE
        body, tail = sql[: tail.pos], last[-2]
    text = body.strip()
    if tail.pos + len(tail.text) < len(body.rstrip()):
        text += "\n"  # it ends in a comment: a -- comment would swallow a wrapper's ')'
    return text
