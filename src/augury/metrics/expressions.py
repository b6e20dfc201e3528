"""Metric expressions: ``what=cpu* AND host=web-1``, with OR, NOT, ``!=`` and parentheses.

Grammar (keywords are case-insensitive; AND binds tighter than OR; two terms side by
side mean AND)::

    expr   := and ("OR" and)*
    and    := unary (["AND"] unary)*
    unary  := "NOT" unary | "(" expr ")" | term
    term   := key ("=" | "!=") value | value        # a bare value matches ``what``

``key`` is ``what`` or a dimension name. ``value`` is a bare word or a double-quoted
string (``\\"`` inside); ``*`` matches any run of characters and ``?`` one character.
Matching is case-sensitive. A dimension term never matches a metric that lacks the
dimension; ``key!=value`` is ``NOT key=value`` (so it matches such metrics).

An expression is at most :data:`MAX_LENGTH` characters, and parentheses and ``NOT``
nest at most :data:`MAX_DEPTH` levels (``NOT (NOT a)`` is 3): the parser checks the
depth before going one level deeper, so no text can exhaust the stack (here, in
:func:`matches` or when the tree becomes SQL); it raises :class:`ExpressionError` for
anything it cannot read. What users send also has at most :data:`MAX_TERMS` terms.

This module is pure: :func:`parse` builds the tree and :func:`matches` evaluates it on
one metric; the metrics service turns the same tree into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MAX_LENGTH = 2000
"""Characters in an expression."""
MAX_DEPTH = 32
"""Levels of parentheses and ``NOT`` nested in one another."""
MAX_TERMS = 50
"""Terms (``key=value`` or a bare value): each dimension term is one SQL subquery."""


class ExpressionError(ValueError):
    """The text is not a valid expression; ``position`` is where reading stopped."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    pattern: str
    """The value with its wildcards (``*``, ``?``) as written."""

    @property
    def has_wildcards(self) -> bool:
        return "*" in self.pattern or "?" in self.pattern


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]


Expr = Term | Not | And | Or

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) | (?P<neq>!=) | (?P<eq>=)
      | "(?P<quoted>(?:[^"\\]|\\.)*)"
      | (?P<word>[^\s()="!]+)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not"}


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            raise ExpressionError(f"unexpected character {text[start]!r}", start)
        kind = match.lastgroup or ""
        value = match.group(kind)
        start = match.start(kind) - (1 if kind == "quoted" else 0)
        if kind == "quoted":
            value = re.sub(r"\\(.)", r"\1", value)
        elif kind == "word" and value.lower() in _KEYWORDS:
            kind = value.lower()
        tokens.append((kind, value, start))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, max_terms: int | None = None):
        self.text = text
        self.max_terms = max_terms
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0
        self.terms = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def position(self) -> int:
        return self.tokens[self.i][2] if self.i < len(self.tokens) else len(self.text)

    def expr(self) -> Expr:
        operands = [self.and_()]
        while self.peek() == "or":
            self.take()
            operands.append(self.and_())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_(self) -> Expr:
        operands = [self.unary()]
        while self.peek() in ("and", "not", "lparen", "word", "quoted"):
            if self.peek() == "and":
                self.take()
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def deeper(self) -> None:
        """One more level of ``(`` or ``NOT``: refused past :data:`MAX_DEPTH`, before
        the parser recurses into it."""
        if self.depth >= MAX_DEPTH:
            raise ExpressionError(
                f"nested deeper than {MAX_DEPTH} levels of parentheses and NOT", self.position()
            )
        self.depth += 1

    def unary(self) -> Expr:
        kind = self.peek()
        if kind == "not":
            self.deeper()
            self.take()
            operand = self.unary()
            self.depth -= 1
            return Not(operand)
        if kind == "lparen":
            self.deeper()
            self.take()
            inner = self.expr()
            if self.peek() != "rparen":
                raise ExpressionError("missing ')'", self.position())
            self.take()
            self.depth -= 1
            return inner
        if kind in ("word", "quoted"):
            if self.max_terms is not None and self.terms >= self.max_terms:
                raise ExpressionError(f"more than {self.max_terms} terms", self.position())
            self.terms += 1
            _, key, _ = self.take()
            if self.peek() in ("eq", "neq"):
                op = self.take()[0]
                if self.peek() not in ("word", "quoted"):
                    raise ExpressionError(f"a value must follow {key}=", self.position())
                value = self.take()[1]
                term = Term(key, value)
                return Not(term) if op == "neq" else term
            return Term("what", key)
        if kind is None:
            raise ExpressionError("the expression ends too early", self.position())
        raise ExpressionError(f"unexpected {self.tokens[self.i][1]!r}", self.position())


def parse(text: str, *, max_terms: int | None = None) -> Expr | None:
    """The tree of ``text``; ``None`` for an empty expression (every metric matches).

    ``max_terms``: refuse more terms. What users send is read with :data:`MAX_TERMS`
    (``metrics.service.parse_expression``); expressions stored before that limit existed
    are read without it, so detection and alert evaluation go on with them."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(text, max_terms)
    if not parser.tokens:
        return None
    tree = parser.expr()
    if parser.i != len(parser.tokens):
        raise ExpressionError(f"unexpected {parser.tokens[parser.i][1]!r}", parser.position())
    return tree


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """``*``/``?`` pattern as an anchored regular expression."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def like_pattern(pattern: str) -> str:
    """``*``/``?`` pattern as a SQL LIKE pattern with ``\\`` as the escape character."""
    out = []
    for c in pattern:
        if c in "%_\\":
            out.append("\\" + c)
        elif c == "*":
            out.append("%")
        elif c == "?":
            out.append("_")
        else:
            out.append(c)
    return "".join(out)


def matches(tree: Expr | None, what: str, dimensions: Mapping[str, str]) -> bool:
    """Whether the metric ``what`` with ``dimensions`` matches ``tree``."""
    if tree is None:
        return True
    if isinstance(tree, Term):
        value = what if tree.key == "what" else dimensions.get(tree.key)
        if value is None:
            return False
        if not tree.has_wildcards:
            return value == tree.pattern
        return wildcard_regex(tree.pattern).fullmatch(value) is not None
    if isinstance(tree, Not):
        return not matches(tree.operand, what, dimensions)
    if isinstance(tree, And):
        return all(matches(t, what, dimensions) for t in tree.operands)
    return any(matches(t, what, dimensions) for t in tree.operands)
