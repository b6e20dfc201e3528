"""Model folders: data only (no pickle), checked whole when loaded; a model of another
kind, format or embedder, or one changed on disk, is a clear error."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from tests.engines.text.planted import REVIEWS, intents_split

from augury.engines.text import absa, artifact, classify
from augury.engines.text.embed import StaticEmbedder, default_embedder
from augury.engines.text.model_errors import TextModelError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    train_x, train_y, _, _ = intents_split()
    folder = tmp_path_factory.mktemp("model") / "classifier"
    classify.train(train_x, train_y).save(folder)
    return folder


def _copy(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def _code(call):
    with pytest.raises(TextModelError) as err:
        call()
    return err.value.code


def test_the_files_are_json_and_arrays_without_pickle(saved):
    header = json.loads((saved / "model.json").read_text())
    assert header["format"] == "augury-text-model" and header["format_version"] == 1
    assert header["kind"] == "text-classifier"
    assert header["content_hash"].startswith("sha256:") and len(header["content_hash"]) == 71
    meta = header["meta"]
    assert meta["classes"] == sorted(meta["info"]["class_counts"])
    assert meta["features"]["settings"]["word_ngrams"] == [1, 2]
    assert meta["features"]["embedder"]["name"] == "wordllama/l2_supercat_256"
    with np.load(saved / "arrays.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(header["arrays"])
        assert all(npz[name].dtype.kind in "biuf" for name in npz.files)
    vocabulary = json.loads((saved / "vocabulary.json").read_text())
    assert set(vocabulary) == {"word_vocabulary", "char_vocabulary"}


def test_a_changed_byte_is_caught_by_the_content_hash(saved, tmp_path):
    folder = _copy(saved, tmp_path / "m")
    header = json.loads((folder / "model.json").read_text())
    header["meta"]["classes"][0] = "renamed"
    (folder / "model.json").write_text(json.dumps(header))
    assert _code(lambda: classify.load(folder)) == "MODEL_CORRUPT"

    folder = _copy(saved, tmp_path / "v")
    vocabulary = json.loads((folder / "vocabulary.json").read_text())
    vocabulary["word_vocabulary"][0] = "changed"
    (folder / "vocabulary.json").write_text(json.dumps(vocabulary))
    assert _code(lambda: classify.load(folder)) == "MODEL_CORRUPT"

    folder = _copy(saved, tmp_path / "a")
    with np.load(folder / "arrays.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["coef"] = arrays["coef"] * 2
    np.savez(folder / "arrays.npz", **arrays)
    assert _code(lambda: classify.load(folder)) == "MODEL_CORRUPT"


def test_a_pickled_array_is_never_unpickled(saved, tmp_path):
    folder = _copy(saved, tmp_path / "m")
    with np.load(folder / "arrays.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"run": "code"}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(folder / "arrays.npz", "w") as z:
        for name, a in arrays.items():
            if name != "coef":
                member = io.BytesIO()
                np.save(member, a)
                z.writestr(f"{name}.npy", member.getvalue())
        z.writestr("coef.npy", buffer.getvalue())
    assert _code(lambda: classify.load(folder)) == "MODEL_CORRUPT"

    header = json.loads((folder / "model.json").read_text())
    header["arrays"]["coef"]["dtype"] = "|O"
    (folder / "model.json").write_text(json.dumps(header))
    assert _code(lambda: classify.load(folder)) == "MODEL_FORMAT"


def test_a_model_of_another_kind_is_refused_by_name(saved, tmp_path):
    with pytest.raises(TextModelError) as err:
        absa.load_absa(saved)
    assert err.value.code == "MODEL_KIND"
    assert "'text-classifier' model, not 'text-absa'" in err.value.message
    absa.train_absa(REVIEWS).save(tmp_path / "absa")
    assert _code(lambda: classify.load(tmp_path / "absa")) == "MODEL_KIND"


def test_what_is_not_a_model_is_a_clear_error(saved, tmp_path):
    assert _code(lambda: classify.load(tmp_path)) == "MODEL_NOT_FOUND"
    (tmp_path / "model.json").write_text('{"format": "augury-tabular-model"}')
    assert _code(lambda: classify.load(tmp_path)) == "MODEL_FORMAT"
    (tmp_path / "model.json").write_text("not json")
    assert _code(lambda: classify.load(tmp_path)) == "MODEL_FORMAT"
    folder = _copy(saved, tmp_path / "newer")
    header = json.loads((folder / "model.json").read_text())
    header["format_version"] = 99
    (folder / "model.json").write_text(json.dumps(header))
    with pytest.raises(TextModelError) as err:
        classify.load(folder)
    assert err.value.code == "MODEL_FORMAT" and "Upgrade augury" in err.value.message
    folder = _copy(saved, tmp_path / "cut")
    (folder / "arrays.npz").write_bytes((folder / "arrays.npz").read_bytes()[:100])
    assert _code(lambda: classify.load(folder)) == "MODEL_CORRUPT"


def test_a_model_refuses_an_embedder_it_was_not_fitted_on(saved):
    builtin = default_embedder()
    other = StaticEmbedder(
        "tiny-test-embedder",
        np.random.default_rng(0).normal(size=(len(builtin.vectors), 8)),
        builtin.tokenizer,
    )
    with pytest.raises(TextModelError) as err:
        classify.load(saved, embedder=other)
    assert err.value.code == "EMBEDDER_MISMATCH"
    assert err.value.details["found"]["name"] == "tiny-test-embedder"


def test_a_model_trained_on_another_embedder_uses_it(tmp_path):
    builtin = default_embedder()
    tiny = StaticEmbedder(
        "tiny-test-embedder",
        np.random.default_rng(1).normal(size=(len(builtin.vectors), 16)),
        builtin.tokenizer,
    )
    train_x, train_y, test_x, _ = intents_split()
    model = classify.train(train_x, train_y, embedder=tiny)
    model.save(tmp_path / "m")
    assert _code(lambda: classify.load(tmp_path / "m")) == "EMBEDDER_MISMATCH"
    again = classify.load(tmp_path / "m", embedder=tiny)
    assert np.allclose(again.predict_proba(test_x), model.predict_proba(test_x), atol=1e-6)


def test_the_declared_size_is_bounded_before_reading(saved, tmp_path):
    folder = _copy(saved, tmp_path / "m")
    header = json.loads((folder / "model.json").read_text())
    header["arrays"]["coef"]["shape"] = [1 << 20, 1 << 20]
    (folder / "model.json").write_text(json.dumps(header))
    assert _code(lambda: classify.load(folder)) == "MODEL_FORMAT"


def test_save_refuses_arrays_that_are_not_numbers(tmp_path):
    with pytest.raises(TypeError):
        artifact.save(tmp_path, "demo", {}, {"bad": np.array(["text"])})
