"""embed: wordllama's token vectors mean-pooled, unit length, the same alone or in a
batch, from any thread, for texts of any size."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from augury.engines.text import embed as embed_module
from augury.engines.text.embed import WORDLLAMA, default_embedder, embed


def test_rows_are_unit_length_and_zero_without_tokens():
    vectors = embed(["my card has not arrived", "", "   ", "🙂", "Ma carte n'est pas arrivée"])
    assert vectors is not None and vectors.shape == (5, 256) and vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    assert np.allclose(norms[[0, 3, 4]], 1.0, atol=1e-5)
    assert norms[1] == 0.0  # no token at all (whitespace is a token: row 2 is not zero)


def test_similar_texts_are_closer_than_unrelated_ones():
    a, b, c = embed(["my card has not arrived", "where is my new card", "I love pizza"])
    assert a @ b > a @ c


def test_a_text_embeds_the_same_alone_in_a_batch_and_across_chunks(monkeypatch):
    texts = [f"text number {i} about cards and refunds" for i in range(50)]
    together = embed(texts)
    alone = np.vstack([embed([t]) for t in texts[:5]])
    assert np.allclose(together[:5], alone, atol=1e-6)
    monkeypatch.setattr(embed_module, "_CHUNK_CHARS", 100)
    assert np.allclose(embed(texts), together, atol=1e-6)


def test_threads_share_one_embedder():
    texts = [f"card {i} never arrived" for i in range(200)]
    expected = embed(texts)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: embed(texts), range(8)))
    assert all(np.array_equal(r, expected) for r in results)


def test_a_100000_character_document_is_one_row():
    (row,) = embed(["the food was great. " * 5_000])
    assert abs(np.linalg.norm(row) - 1) < 1e-5


def test_the_builtin_model_names_itself_and_its_weights():
    model = default_embedder()
    assert model.name == WORDLLAMA and model.dim == 256
    assert len(model.fingerprint) == 16 and int(model.fingerprint, 16) >= 0
    assert model is default_embedder()
