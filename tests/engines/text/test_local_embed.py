"""A local sentence-embedding model (ONNX or sentence-transformers layout) built in the
test: its vectors are the planted table's rows pooled by hand, and the classifiers
train on it and refuse it once its weights change."""

from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pytest
from onnx import TensorProto
from tests.engines.text import tiny_model
from tests.engines.text.tiny_model import build, table, token_ids

from augury.engines.text import classify, local_embed
from augury.engines.text.local_embed import inspect_local, load_local
from augury.engines.text.model_errors import TextModelError

TEXTS = ["my card has not arrived", "refund please", "where is my new card", "zebra money"]


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def planted_mean(text: str, weights: np.ndarray, **kw) -> np.ndarray:
    return weights[token_ids(text, **kw)].mean(axis=0)


@pytest.mark.parametrize("layout", ["onnx", "sentence-transformers"])
def test_mean_of_the_planted_rows_without_the_padding(tmp_path, layout):
    weights = table(1)
    model = load_local(build(tmp_path / "tiny", weights, layout=layout))
    vectors = model.embed(TEXTS)  # one batch: the short texts are padded to the longest
    expected = unit(np.vstack([planted_mean(t, weights) for t in TEXTS]))
    assert vectors.shape == (4, tiny_model.DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    alone = np.vstack([model.embed([t]) for t in TEXTS])
    np.testing.assert_allclose(vectors, alone, atol=1e-6)
    assert model.name == "local:tiny" and model.dim == tiny_model.DIM
    assert inspect_local(tmp_path / "tiny").layout == (
        "onnx" if layout == "onnx" else "sentence-transformers-onnx"
    )


def test_cls_and_max_pooling_follow_the_pooling_config(tmp_path):
    weights = table(2)
    cls = load_local(build(tmp_path / "cls", weights, pooling="cls"))
    vectors = cls.embed(TEXTS)
    np.testing.assert_allclose(vectors, unit(np.tile(weights[2], (4, 1))), atol=1e-6)
    biggest = load_local(build(tmp_path / "max", weights, pooling="max"))
    expected = unit(np.vstack([weights[token_ids(t)].max(axis=0) for t in TEXTS]))
    np.testing.assert_allclose(biggest.embed(TEXTS), expected, atol=1e-6)


def test_unit_length_unless_the_model_is_meant_for_dot_products(tmp_path):
    weights = table(3)
    raw = load_local(build(tmp_path / "dot", weights, normalize=False, similarity="dot"))
    expected = np.vstack([planted_mean(t, weights) for t in TEXTS])
    np.testing.assert_allclose(raw.embed(TEXTS), expected, atol=1e-6)
    assert not np.allclose(np.linalg.norm(expected, axis=1), 1.0)
    cosine = load_local(build(tmp_path / "cos", weights, normalize=False))
    np.testing.assert_allclose(np.linalg.norm(cosine.embed(TEXTS), axis=1), 1.0, atol=1e-6)
    assert raw.fingerprint != cosine.fingerprint  # same bytes, other vectors


def test_a_graph_that_pools_itself_is_used_as_it_is(tmp_path):
    weights = table(4)
    model = load_local(build(tmp_path / "pooled", weights, layout="onnx", output="sentence"))
    expected = unit(np.vstack([planted_mean(t, weights) for t in TEXTS]))
    np.testing.assert_allclose(model.embed(TEXTS), expected, atol=1e-5)


def test_texts_are_truncated_to_the_max_sequence_length(tmp_path):
    weights = table(5)
    model = load_local(build(tmp_path / "short", weights, max_seq_length=3))
    text = "the new card has not arrived"
    np.testing.assert_allclose(
        model.embed([text])[0], unit(planted_mean(text, weights, max_length=3)), atol=1e-6
    )


def test_batches_bounded_by_tokens_give_the_same_vectors(tmp_path, monkeypatch):
    model = load_local(build(tmp_path / "tiny"))
    texts = [" ".join(tiny_model.WORDS[: 1 + i % 9]) for i in range(40)] + ["", "   "]
    together = model.embed(texts)
    monkeypatch.setattr(local_embed, "MAX_BATCH_TOKENS", 5)
    np.testing.assert_allclose(model.embed(texts), together, atol=1e-6)
    assert not together[-2:].any()  # no tokens: zeros, as the built-in embedder gives
    assert model.embed([]).shape == (0, tiny_model.DIM)


def test_int32_inputs_and_no_token_types(tmp_path):
    weights = table(6)
    model = load_local(
        build(
            tmp_path / "int32",
            weights,
            layout="onnx",
            id_type=TensorProto.INT32,
            input_names=("input_ids", "attention_mask"),
        )
    )
    np.testing.assert_allclose(
        model.embed(["refund please"])[0], unit(planted_mean("refund please", weights)), atol=1e-6
    )


def test_loaded_once_per_folder_and_shared_by_threads(tmp_path):
    folder = build(tmp_path / "tiny")
    model = load_local(folder)
    assert load_local(str(folder)) is model
    expected = model.embed(TEXTS * 20)
    results: list[np.ndarray] = []

    def work():
        results.append(model.embed(TEXTS * 20))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_a_changed_configuration_loads_the_folder_again(tmp_path):
    weights = table(10)
    folder = build(tmp_path / "tiny", weights)
    before = load_local(folder)
    config = folder / "1_Pooling" / "config.json"
    pooling = json.loads(config.read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    config.write_text(json.dumps(pooling))
    after = load_local(folder)
    assert after is not before and after.fingerprint != before.fingerprint
    expected = unit(np.vstack([weights[token_ids(t)].max(axis=0) for t in TEXTS]))
    np.testing.assert_allclose(after.embed(TEXTS), expected, atol=1e-6)


def test_the_fingerprint_is_the_weights_and_the_name_the_folder(tmp_path):
    first = load_local(build(tmp_path / "a"))
    copy = load_local(shutil.copytree(tmp_path / "a", tmp_path / "b"))
    assert first.fingerprint == copy.fingerprint and len(first.fingerprint) == 16
    assert (first.name, copy.name) == ("local:a", "local:b")
    other = load_local(build(tmp_path / "c", table(9)))
    assert other.fingerprint != first.fingerprint


def test_a_classifier_trains_on_it_and_refuses_it_once_changed(tmp_path):
    folder = build(tmp_path / "tiny")
    embedder = load_local(folder)
    texts = [
        "my card has not arrived",
        "where is my new card",
        "the card still not here",
        "when will my card come",
        "i want a refund",
        "give me my money back",
        "refund my purchase please",
        "return the money",
    ]
    targets = ["card"] * 4 + ["refund"] * 4
    model = classify.train(texts, targets, embedder=embedder)
    assert model.features.embedder is embedder
    model.save(tmp_path / "model")
    header = json.loads((tmp_path / "model" / "model.json").read_text())
    assert header["meta"]["features"]["embedder"] == {
        "name": "local:tiny",
        "dim": tiny_model.DIM,
        "fingerprint": embedder.fingerprint,
    }
    again = classify.load(tmp_path / "model", embedder=load_local(folder))
    probe = ["is my card here", "money back please"]
    np.testing.assert_allclose(again.predict_proba(probe), model.predict_proba(probe), atol=1e-6)
    assert [p.label for p in again.predict(probe)] == ["card", "refund"]

    build(folder, table(7))  # the same folder, other weights
    changed = load_local(folder)
    assert changed is not embedder and changed.fingerprint != embedder.fingerprint
    with pytest.raises(TextModelError) as err:
        classify.load(tmp_path / "model", embedder=changed)
    assert err.value.code == "EMBEDDER_MISMATCH"
    assert err.value.details["expected"]["fingerprint"] == embedder.fingerprint


# --- refusals ----------------------------------------------------------------------------


def refusal(folder) -> TextModelError:
    with pytest.raises(TextModelError) as err:
        load_local(folder)
    return err.value


def test_refuses_a_missing_directory(tmp_path):
    err = refusal(tmp_path / "nowhere")
    assert err.code == "LOCAL_MODEL_NOT_FOUND"
    with pytest.raises(TextModelError):
        inspect_local(tmp_path / "nowhere")


def test_refuses_a_graph_without_a_tokenizer(tmp_path):
    folder = build(tmp_path / "tiny", layout="onnx")
    (folder / "tokenizer.json").unlink()
    err = refusal(folder)
    assert err.code == "LOCAL_MODEL_NO_TOKENIZER" and "tokenizer.json" in err.message
    (folder / "tokenizer.json").write_text("{not json")
    assert refusal(folder).code == "LOCAL_MODEL_NO_TOKENIZER"


@pytest.mark.parametrize(
    ("graph", "words"),
    [
        ({"output": "int"}, "tensor(int64)"),
        ({"output": "per_token"}, "changes width"),
        ({"input_names": ("input_ids", "pixel_values")}, "pixel_values"),
        ({"input_names": ("attention_mask",)}, "input_ids"),
    ],
)
def test_refuses_a_graph_that_is_not_a_sentence_encoder(tmp_path, graph, words):
    err = refusal(build(tmp_path / "odd", layout="onnx", **graph))
    assert err.code == "LOCAL_MODEL_BAD_GRAPH" and words in err.message


def test_refuses_a_file_that_is_not_a_graph(tmp_path):
    folder = build(tmp_path / "tiny", layout="onnx")
    (folder / "model.onnx").write_bytes(b"not a graph")
    assert refusal(folder).code == "LOCAL_MODEL_BAD_GRAPH"


def test_refuses_modules_that_the_graph_does_not_run(tmp_path):
    err = refusal(build(tmp_path / "dense", extra_modules=("Dense",)))
    assert err.code == "LOCAL_MODEL_UNSUPPORTED" and "Dense" in err.message


def test_pytorch_weights_only_need_sentence_transformers(tmp_path):
    folder = tmp_path / "torch"
    folder.mkdir()
    tiny_model.save_tokenizer(folder / "tokenizer.json")
    (folder / "model.safetensors").write_bytes(b"\0" * 16)
    err = refusal(folder)
    assert err.code == "LOCAL_MODEL_UNSUPPORTED" and "sentence-transformers" in err.message


def test_refuses_a_folder_without_weights_and_a_broken_config(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert refusal(empty).code == "LOCAL_MODEL_UNSUPPORTED"
    folder = build(tmp_path / "tiny")
    (folder / "1_Pooling" / "config.json").write_text("[1, 2")
    assert refusal(folder).code == "LOCAL_MODEL_BAD_CONFIG"


def test_pool_counts_only_the_masked_tokens():
    hidden = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    mask = np.array([[1, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(
        local_embed.pool(hidden, mask, ("mean", "lasttoken", "mean_sqrt_len")),
        [
            [*(hidden[0, :2].mean(0)), *hidden[0, 1], *(hidden[0, :2].sum(0) / np.sqrt(2))],
            [0.0] * 12,
        ],
    )
    weighted = local_embed.pool(hidden, mask, ("weightedmean",))[0]
    np.testing.assert_allclose(weighted, (hidden[0, 0] + 2 * hidden[0, 1]) / 3)
