"""segment.split: sentences, paragraphs and whole texts as trimmed character spans."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augury.engines.text.segment import MODES, split


def _sentences(text, **kwargs):
    return [text[a:b] for a, b in split(text, **kwargs)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # abbreviations, titles and initials
        (
            "Mr. Smith went to Washington. He arrived at 5 p.m. on Monday.",
            ["Mr. Smith went to Washington.", "He arrived at 5 p.m. on Monday."],
        ),
        (
            "Dr. Who paid, i.e. nothing, vs. them. St. Louis is far.",
            ["Dr. Who paid, i.e. nothing, vs. them.", "St. Louis is far."],
        ),
        ("I live in the U.S. The weather is nice.", ["I live in the U.S.", "The weather is nice."]),
        ("The U.S. Army came.", ["The U.S. Army came."]),
        (
            "Apples, pears etc. and plums. Then etc. Fine.",
            ["Apples, pears etc. and plums.", "Then etc.", "Fine."],
        ),
        ("Apple Inc. reported. See No. 5 on p. 3.", ["Apple Inc. reported.", "See No. 5 on p. 3."]),
        ("J. R. R. Tolkien wrote it. E.g. this.", ["J. R. R. Tolkien wrote it.", "E.g. this."]),
        (
            "P.S. Please come. It has 2 oz. of cheese.",
            ["P.S. Please come.", "It has 2 oz. of cheese."],
        ),
        # numbers, versions, money, URLs and e-mails
        (
            "Pi is 3.14 and v2.0.1 is out. It costs $4.50. Cheap!",
            ["Pi is 3.14 and v2.0.1 is out.", "It costs $4.50.", "Cheap!"],
        ),
        (
            "Visit https://x.com/a.b?c=d. Mail a.b@c.de. Thanks.",
            ["Visit https://x.com/a.b?c=d.", "Mail a.b@c.de.", "Thanks."],
        ),
        # ellipses, quotes, brackets and repeated marks
        (
            "Wait... what? I waited... Then he came. Hmm… Okay.",
            ["Wait... what?", "I waited...", "Then he came.", "Hmm…", "Okay."],
        ),
        ('"He left." She stayed.', ['"He left."', "She stayed."]),
        ('"Stop!" she said. Really?! Yes!!', ['"Stop!" she said.', "Really?!", "Yes!!"]),
        ("(It was fine.) Then not.", ["(It was fine.)", "Then not."]),
        # emoji
        ("Love it 😀 Great price", ["Love it 😀 Great price"]),
        (
            "Love it! 😀 Great price. Fast 😀. Next",
            ["Love it! 😀", "Great price.", "Fast 😀.", "Next"],
        ),
        ("😀😀 🎉", ["😀😀 🎉"]),
        # lowercase after an ordinary word is a new (informal) sentence
        ("great product. would buy again", ["great product.", "would buy again"]),
        # line breaks and bullets
        (
            "Great product\nFast shipping\n- cheap\n- sturdy",
            ["Great product", "Fast shipping", "- cheap", "- sturdy"],
        ),
        (
            "This is a sentence that\ncontinues here. It ends with the\nNew York office.",
            ["This is a sentence that\ncontinues here.", "It ends with the\nNew York office."],
        ),
        (
            "1. First item\n2. Second item\nb. third",
            ["1. First item", "2. Second item", "b. third"],
        ),
        ("Pros:\nGreat battery\r\nCons:\nHeavy", ["Pros:", "Great battery", "Cons:", "Heavy"]),
        ("First.\n\nSecond\r\n \r\nThird", ["First.", "Second", "Third"]),
        # German, French, Spanish
        (
            "Das ist z.B. ein Test. Er kam am 3. Oktober. Dr. Müller sagt, es sei ca. 5 km weit.",
            [
                "Das ist z.B. ein Test.",
                "Er kam am 3. Oktober.",
                "Dr. Müller sagt, es sei ca. 5 km weit.",
            ],
        ),
        (
            "M. Dupont est arrivé. N'est-ce pas ? Oui. « Il est parti. » Elle reste.",
            ["M. Dupont est arrivé.", "N'est-ce pas ?", "Oui.", "« Il est parti. »", "Elle reste."],
        ),
        (
            "¿Dónde está el baño? ¡Aquí! Sr. García llegó.",
            ["¿Dónde está el baño?", "¡Aquí!", "Sr. García llegó."],
        ),
        # scripts without spaces after their marks, or without case
        ("我很好。你呢？我也是！", ["我很好。", "你呢？", "我也是！"]),
        ("「行こう。」と言った。次の日。", ["「行こう。」と言った。", "次の日。"]),
        ("すごい!次はどこ?", ["すごい!", "次はどこ?"]),
        ("मैं घर जा रहा हूँ। तुम कहाँ हो?", ["मैं घर जा रहा हूँ।", "तुम कहाँ हो?"]),
        ("كيف حالك؟ أنا بخير. شكرا", ["كيف حالك؟", "أنا بخير.", "شكرا"]),
    ],
)
def test_sentences(text, expected):
    assert _sentences(text) == expected


def test_spans_index_code_points_and_are_trimmed():
    text = "  😀 Hi there!  Bye.\n"
    assert split(text) == [(2, 13), (15, 19)]
    assert [text[2:13], text[15:19]] == ["😀 Hi there!", "Bye."]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t "])
@pytest.mark.parametrize("mode", MODES)
def test_blank_text_has_no_spans(text, mode):
    assert split(text, mode=mode) == []


def test_none_mode_is_the_whole_trimmed_text():
    text = "  Dr. No. Yes!\n\nMore.  "
    assert split(text, mode="none") == [(2, 21)]
    assert text[2:21] == "Dr. No. Yes!\n\nMore."


def test_paragraph_mode_splits_at_blank_lines_and_page_breaks_only():
    text = "One. Two.\nStill one.\n \nTwo here.\x0cPage three."
    assert _sentences(text, mode="paragraph") == [
        "One. Two.\nStill one.",
        "Two here.",
        "Page three.",
    ]


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of"):
        split("text", mode="word")


_PIECES = st.sampled_from(
    ["Dr.", "e.g.", "U.S.", "3.14", "!", "?", "...", "…", '"', ")", "。", "？", "।", "؟", "😀",
     " ", "  ", "\n", "\n\n", "\r\n", "- ", "1. ", "word", "Word", "the", "¿", "\u2029", "\t"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=6), max_size=40).map("".join), st.sampled_from(MODES))
def test_spans_are_ordered_trimmed_and_cover_every_visible_character(text, mode):
    spans = split(text, mode=mode)
    end = 0
    for a, b in spans:
        assert end <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip()
        assert text[end:a].strip() == ""
        end = b
    assert text[end:].strip() == ""


def test_time_is_linear_in_the_text():
    # 1.2 MB with 200,000 marks: a quadratic splitter would take hours; this one a second.
    text = "word. Another one! " * 60_000 + "a. " * 20_000
    started = time.perf_counter()
    spans = split(text)
    assert time.perf_counter() - started < 10
    assert len(spans) == 120_000 + 1
