"""Sentence segmentation: a text into half-open character spans, one per sentence.

Annotators label segments and classifiers score them, so a segment must be a sentence a
person would recognise: not cut after "Dr." or inside "3.14", "v2.0.1", "$4.50",
"https://x.com/a.b?c=d" or "a.b@c.de", and cut after "He left." even when a quote
closes it. :func:`split` finds every mark that can end a sentence with one regular
expression, then decides each from a few characters around it: the word before it (an
abbreviation, an initial, a number at the start of a list item) and the word after it
(lowercase goes on; a capital starts a sentence, except after a title or an initial
unless it is a word that usually opens one). Line breaks split lines that look like
separate sentences or bullets, and blank lines always split.

Scripts without spaces or case are covered by their own marks: Chinese and Japanese
``。！？`` end a sentence with no space after them, Hindi ``।``, Arabic ``؟`` and ``۔``
likewise. Spans index Python ``str`` characters (code points), are trimmed of
whitespace, never empty, in order and never overlapping. Each mark is looked at once
and its context is bounded, so time is linear in the text's length: 100,000 short
reviews take about a second, a 5 MB document well under one.

This is a rule-based splitter (in the spirit of Kiss & Strunk's Punkt abbreviations and
the Golden Rules of pySBD), tuned for reviews and business text; a word it does not know
as an abbreviation, followed by a capital, ends a sentence.

>>> text = 'Dr. Smith paid $4.50 at 5 p.m. on Friday. "Great!" Would buy again 😀'
>>> [text[a:b] for a, b in split(text)]
['Dr. Smith paid $4.50 at 5 p.m. on Friday.', '"Great!"', 'Would buy again 😀']
>>> split("今日は晴れです。明日は雨でしょう。")
[(0, 8), (8, 17)]
>>> split("  one span, untouched.  ", mode="none"), split("   ")
([(2, 22)], [])
"""

from __future__ import annotations

import re

__all__ = ["MODES", "split"]

MODES = ("sentence", "paragraph", "none")
"""``sentence`` (the default), ``paragraph`` (blank lines split) and ``none`` (the whole
text as one span)."""

_LATIN_END = ".!?…‼⁇⁈⁉"
"""Marks that end a sentence only before whitespace (or, for ``!?``, a CJK character)."""
_HARD_END = "。！？｡।॥؟۔։።။჻"
"""Marks that end a sentence wherever they stand: scripts that put no space after them."""
_CLOSERS = "\"'”’“‘»›«‹)]}」』）】〕〉》〗〙〛"
_OPENERS = "\"'“‘„‚«‹»›([{¿¡*_"
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u200d\ufe0f\u20e3\U000e0020-\U000e007f"
_LINE_BREAKS = "\n\r\x0b\x85\u2028"
_PARAGRAPH_BREAKS = "\x0c\u2029"

_CANDIDATE = re.compile(
    rf"(?P<marks>[{_LATIN_END}{_HARD_END}]+)"
    rf"(?P<close>(?:[{re.escape(_CLOSERS)}]|[ \u00a0\u202f]»)*)"
    rf"(?:[^\S\n]*[{_EMOJI}]+)*"
    rf"(?:(?=\s|[^\x00-\u02ff])|\Z|(?<=[{_HARD_END}{re.escape(_CLOSERS)}]))"
)
"""A run of end marks, the quotes and brackets that close on it, and the emoji that
trail it (``Great! 😀 Next`` keeps the emoji with the first sentence), before a space,
the end, or a character of another script: the dots of "3.14" and "a.b@c.de" are not
even looked at."""
_NEXT = re.compile(rf"\s*[{re.escape(_OPENERS)}]*(?P<word>[^\W_]*)")
_PARAGRAPH = re.compile(
    rf"[{_PARAGRAPH_BREAKS}]|(?>\r\n|[{_LINE_BREAKS}])"
    rf"(?:[^\S{_LINE_BREAKS}{_PARAGRAPH_BREAKS}]*(?>\r\n|[{_LINE_BREAKS}]))+"
)
"""A blank line (line breaks with only spaces between them) or a page or paragraph
separator."""
_ANY_BREAK = re.compile(f"[{_LINE_BREAKS}{_PARAGRAPH_BREAKS}]")
_LINE = re.compile(rf"(?>\r\n|[{_LINE_BREAKS}])[^\S{_LINE_BREAKS}{_PARAGRAPH_BREAKS}]*(?=\S)")
"""A single line break before a line that holds text (blank lines are paragraphs)."""
_HSPACE = "".join(
    c for c in map(chr, range(0x3001)) if c.isspace() and c not in _LINE_BREAKS + _PARAGRAPH_BREAKS
)
"""Every whitespace character that does not break a line."""
_BULLET = re.compile(r"(?:[-*+•·‣▪◦●○■□➢➤►–—]|\(?(?:\d{1,3}|[A-Za-z])[.)])\s")
_LETTER_DOTS = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")
"""``U.S``, ``e.g``, ``i.e``, ``z.B``, ``EE.UU``, ``p.ej``: the token before the last dot."""
_ROMAN = re.compile(r"[ivxlcIVXLC]{1,4}")
_HIRAGANA = re.compile(r"[\u3040-\u309f]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TITLES = _words(
    "Mr Mrs Ms Mx Messrs Dr Prof Rev Hon Gen Capt Cpt Sgt Lt Col Maj Cmdr Adm Gov Sen Rep "
    "Pres Supt Msgr Fr Hr Hrn Frl Mme Mlle Mmes Mgr Pr Sra Srta Sres Dra Lic Ing Sig Sig.ra "
    "Dott"
)
"""Titles before a name: never the end of a sentence."""
_INNER = _words(
    "e.g i.e vs cf viz approx ca incl esp resp fig figs eq eqs vol vols no nos nr p pp ch "
    "chap sec secs para dept oz lb lbs tbsp tsp hr hrs mins qty al a.m p.m "
    "jan feb apr jun jul aug sep sept oct nov dec mon tue tues thu thur thurs fri "
    "st ave blvd mt ft jr sr inc ltd corp co bros llc plc "
    "z.b d.h u.a bzw evtl ggf inkl vgl sog str tel abs bd jh jhd mio mrd zzgl bspw "
    "p.ex env av éd p.ej pág págs núm aprox ud uds vd vds avda dto cía pag"
)
"""Abbreviations found inside sentences: a capital after them starts a sentence only
when it is a word that usually does (:data:`_STARTERS`)."""
_FINAL = _words("etc usw usf ecc")
"""Abbreviations that often end a sentence: any capital after them starts one."""
_NOTES = _words("p.s p.p.s n.b")
"""``P.S.``: a note's opening, never the end of a sentence."""
_STARTERS = _words(
    "the this that these those there here it its i we you he she they my our your his her "
    "their a an but and so then however also in on at after before when while if as what "
    "why how who where which please thanks thank yes not all some one each every now "
    "today overall finally first next still although though because since for "
    "der die das es er sie wir ich ein eine aber und dann auch im am wenn man dies diese "
    "le la les il elle ils elles nous je on ce cette mais et puis un une "
    "el los las él ella yo pero y una"
)
"""Words that usually open a sentence, lowercased."""
_MONTHS = _words(
    "januar jänner februar märz april mai juni juli august september oktober november dezember"
)
"""German months: ``am 3. Oktober`` is a date, not a sentence ending in "3."."""
_OPEN_ENDINGS = frozenset(",;(&/-–—")
_HARD_SET = frozenset(_HARD_END)
_FUNCTION_WORDS = _words(
    "a an the and or but of to in on at for with by from as that which who is are was were "
    "be not if than so very my your our their his her its this these those "
    "und oder der die das den dem des ein eine mit von zu im et ou le la les un une de du "
    "des y o el los las una con por para que"
)
"""Words a line does not end a sentence on: the next line carries on the sentence."""


def split(text: str, *, mode: str = "sentence") -> list[tuple[int, int]]:
    """The spans ``[start, end)`` of ``text``'s sentences (or paragraphs, or all of it).

    >>> text = "I live in the U.S. The weather is nice, e.g. in May. Right?!"
    >>> [text[a:b] for a, b in split(text)]
    ['I live in the U.S.', 'The weather is nice, e.g. in May.', 'Right?!']
    >>> text = "First paragraph. Still first.\\n\\nSecond one."
    >>> [text[a:b] for a, b in split(text, mode="paragraph")]
    ['First paragraph. Still first.', 'Second one.']
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "none":
        return _trimmed(text, [len(text)])
    lines = _ANY_BREAK.search(text) is not None
    cuts = [m.start() for m in _PARAGRAPH.finditer(text)] if lines else []
    if mode == "sentence":
        cuts += [m.end() for m in _CANDIDATE.finditer(text) if _ends_sentence(text, m)]
        if lines:
            cuts += [m.start() for m in _LINE.finditer(text) if _line_splits(text, m)]
        cuts.sort()
    cuts.append(len(text))
    return _trimmed(text, cuts)


def _trimmed(text: str, cuts: list[int]) -> list[tuple[int, int]]:
    """The non-blank pieces between consecutive cuts, trimmed of whitespace."""
    spans = []
    start = 0
    for cut in cuts:
        if cut <= start:
            continue
        piece = text[start:cut]
        left = len(piece) - len(piece.lstrip())
        if left < len(piece):
            spans.append((start + left, start + len(piece.rstrip())))
        start = cut
    return spans


def _ends_sentence(text: str, m: re.Match[str]) -> bool:
    """Whether the marks ``m`` matched end a sentence, from the words around them."""
    end = m.end()
    if end >= len(text):
        return True
    marks, close = m.group("marks", "close")
    follow = text[end]
    if not _HARD_SET.isdisjoint(marks):
        # 「行こう。」と言った: a quotation the sentence goes on after.
        return not (close and _HIRAGANA.match(follow))
    if not follow.isspace():
        # "x.日本" goes on; "すごい!次は" starts a sentence.
        return marks[-1] in "!?‼⁇⁈⁉" and _CJK.match(follow) is not None
    word = _NEXT.match(text, end)["word"]  # type: ignore[index]
    first = word[:1]
    lower = first.islower()
    capital = first.isalpha() and not lower
    if marks[-1] == "…" or marks.endswith(".."):
        return capital
    if close and lower:
        return False  # '"Stop!" she said': the quote is inside the sentence.
    if marks != ".":
        return True
    token = _token_before(text, m.start())
    if len(token) <= 4 and _is_enumerator(text, m.start(), token):
        return False
    kind = _abbreviation(token)
    if kind is None:
        return not (capital and token.isdigit() and word.lower() in _MONTHS)
    if kind == "title" or lower or first.isdigit():
        return False
    return kind == "final" or not word or word.lower() in _STARTERS


def _token_before(text: str, pos: int) -> str:
    """The word just before ``pos`` (at most 40 characters), opening quotes removed."""
    piece = text[max(0, pos - 40) : pos]
    if not piece or piece[-1].isspace():
        return ""
    return piece.rsplit(None, 1)[-1].lstrip(_OPENERS)


def _abbreviation(token: str) -> str | None:
    """``"title"``, ``"inner"`` or ``"final"`` for an abbreviation, else None."""
    if not token or not token[0].isalpha():
        return None
    if (token.capitalize() if token.isupper() else token) in _TITLES:
        return "title"
    lowered = token.lower()
    if lowered in _NOTES:
        return "title"
    if lowered in _FINAL:
        return "final"
    if lowered in _INNER or len(token) == 1 or _LETTER_DOTS.fullmatch(token):
        return "inner"
    return None


def _is_enumerator(text: str, pos: int, token: str) -> bool:
    """Whether ``token.`` at ``pos`` numbers a list item: "1." or "b." or "iv." at the
    start of a line."""
    if not (token.isdigit() and len(token) <= 3 or len(token) == 1 or _ROMAN.fullmatch(token)):
        return False
    i = pos - len(token)
    stop = max(0, i - 8)
    while i > stop and text[i - 1] in " \t":
        i -= 1
    return i == 0 or text[i - 1] in _LINE_BREAKS + _PARAGRAPH_BREAKS


def _line_splits(text: str, m: re.Match[str]) -> bool:
    """Whether a single line break ends a sentence: before a bullet always; after a
    line that ends with a mark never (the mark decides); else when the next line starts
    with a capital and the line before does not end mid-phrase."""
    after = m.end()
    if _BULLET.match(text, after):
        return True
    before = text[max(0, m.start() - 64) : m.start()].rstrip(_HSPACE)
    if not before or before[-1] in _LINE_BREAKS or before[-1] in _PARAGRAPH_BREAKS:
        return False
    last = before[-1]
    if last in _CLOSERS:
        inner = before.rstrip(_CLOSERS)
        if inner and (inner[-1] in _LATIN_END or inner[-1] in _HARD_SET):
            return False
    elif last in _LATIN_END or last in _HARD_SET or last in _OPEN_ENDINGS:
        return False
    if text[after].islower():
        return False
    if not last.isalpha():
        return True
    token = _token_before(before, len(before))
    return token.lower() not in _FUNCTION_WORDS and _abbreviation(token) != "title"
