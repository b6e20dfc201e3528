"""tokens: offline counts with Llama 2's tokenizer from wordllama's wheel."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from augury.engines.chat import tokens


@pytest.mark.parametrize(
    "text",
    ["Hello world", "Café au lait — naïve 😀 text.", "línea\nnueva\n\n  espacios", "x" * 500],
)
def test_count_matches_the_tokenizers_own_encode(text):
    own = tokens.tokenizer().encode(text, add_special_tokens=False)
    assert tokens.count(text) == len(own.ids) > 0


def test_empty_text_is_no_tokens_and_a_name_is_recorded():
    assert tokens.count("") == 0
    assert tokens.count_messages([]) == 0
    assert "llama2" in tokens.TOKENIZER_NAME


def test_messages_add_a_documented_overhead_per_message():
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Where is my parcel?"},
        {"role": "assistant", "content": [{"type": "text", "text": "On its way."}]},
    ]
    content = sum(tokens.count(t) for t in ["Be brief.", "Where is my parcel?", "On its way."])
    assert tokens.count_messages(messages) == (
        content + 3 * tokens.PER_MESSAGE + tokens.REPLY_PRIMING
    )


def test_truncate_keeps_at_most_max_tokens_and_whole_characters():
    text = "The quick brown fox jumps over the lazy dog 😀😀 again and again"
    for limit in range(0, tokens.count(text) + 2):
        cut = tokens.truncate(text, limit)
        assert text.startswith(cut)
        assert tokens.count(cut) <= limit
        assert "\ufffd" not in cut
    assert tokens.truncate(text, 1000) == text


def test_the_tokenizer_loads_once_and_is_shared_by_threads():
    texts = [f"message number {i} about refunds" for i in range(200)]
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(tokens.count, texts))
    assert counts == [tokens.count(t) for t in texts]
    assert tokens.tokenizer() is tokens.tokenizer()
