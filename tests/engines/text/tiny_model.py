"""A sentence-embedding model small enough to build in a test: a 30-word WordLevel
tokenizer and an ONNX graph whose token embeddings are rows of a planted table.

With no weights to download, this is how the local-model loader is tested: every
vector it gives can be computed from the table by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

SPECIAL = ["[PAD]", "[UNK]", "[CLS]"]
CARD_WORDS = ["my", "card", "has", "not", "arrived", "where", "is", "it", "the", "new"]
REFUND_WORDS = ["i", "want", "a", "refund", "please", "give", "me", "money", "back"]
OTHER_WORDS = ["delivery", "still", "waiting", "return", "purchase", "when", "will", "come"]
WORDS = CARD_WORDS + REFUND_WORDS + OTHER_WORDS
VOCAB = {token: i for i, token in enumerate(SPECIAL + WORDS)}
DIM = 8
assert len(VOCAB) == 30


def table(seed: int = 0) -> np.ndarray:
    """The planted token embeddings, one row per vocabulary entry."""
    return np.random.default_rng(seed).normal(size=(len(VOCAB), DIM)).astype(np.float32)


def token_ids(text: str, *, cls: bool = False, max_length: int | None = None) -> list[int]:
    """What the tokenizer gives for ``text`` (words lower-cased, unknown ones [UNK])."""
    ids = ([VOCAB["[CLS]"]] if cls else []) + [VOCAB.get(w, 1) for w in text.lower().split()]
    return ids[:max_length] if max_length else ids


def save_tokenizer(path: Path, *, cls: bool = False) -> None:
    tokenizer = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    if cls:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="[CLS] $A", special_tokens=[("[CLS]", VOCAB["[CLS]"])]
        )
    tokenizer.save(str(path))


def save_graph(
    path: Path,
    weights: np.ndarray,
    *,
    output: str = "token",
    input_names: tuple[str, ...] = ("input_ids", "attention_mask", "token_type_ids"),
    id_type: int = TensorProto.INT64,
) -> None:
    """An ONNX graph over ``weights``, indexed by the first of ``input_names``.

    ``output="token"`` gives last_hidden_state [batch, tokens, dim] (a Gather);
    ``"sentence"`` gives sentence_embedding [batch, dim], the mean over the attention
    mask computed in the graph; ``"int"`` gives the ids back (not floats) and
    ``"per_token"`` a float [batch, tokens] (not an embedding)."""
    inputs = [
        helper.make_tensor_value_info(name, id_type, ["batch", "tokens"]) for name in input_names
    ]
    nodes = [helper.make_node("Gather", ["table", input_names[0]], ["hidden"], axis=0)]
    initializers = [numpy_helper.from_array(weights, "table")]
    if output == "token":
        nodes.append(helper.make_node("Identity", ["hidden"], ["last_hidden_state"]))
        out = helper.make_tensor_value_info(
            "last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", weights.shape[1]]
        )
    elif output == "sentence":
        initializers.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"))
        initializers.append(numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"))
        nodes += [
            helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["mask_f", "axis2"], ["mask3"]),
            helper.make_node("Mul", ["hidden", "mask3"], ["masked"]),
            helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
            helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
            helper.make_node("Div", ["summed", "count"], ["sentence_embedding"]),
        ]
        out = helper.make_tensor_value_info(
            "sentence_embedding", TensorProto.FLOAT, ["batch", weights.shape[1]]
        )
    elif output == "int":
        nodes.append(helper.make_node("Identity", [input_names[0]], ["ids_out"]))
        out = helper.make_tensor_value_info("ids_out", id_type, ["batch", "tokens"])
    elif output == "per_token":
        initializers.append(numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"))
        nodes.append(helper.make_node("ReduceSum", ["hidden", "axis2"], ["scores"], keepdims=0))
        out = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", "tokens"])
    else:
        raise ValueError(output)
    graph = helper.make_graph(nodes, "tiny", inputs, [out], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def build(
    folder: Path,
    weights: np.ndarray | None = None,
    *,
    layout: str = "sentence-transformers",
    pooling: str = "mean",
    normalize: bool = True,
    similarity: str | None = None,
    max_seq_length: int | None = None,
    extra_modules: tuple[str, ...] = (),
    **graph: object,
) -> Path:
    """A model folder: ``layout="onnx"`` is model.onnx and tokenizer.json alone;
    ``"sentence-transformers"`` is onnx/model.onnx with modules.json, 1_Pooling/config.json
    (``pooling``: mean, cls or max), a Normalize module when ``normalize`` and
    sentence_bert_config.json when ``max_seq_length`` is given."""
    weights = table() if weights is None else weights
    folder.mkdir(parents=True, exist_ok=True)
    save_tokenizer(folder / "tokenizer.json", cls=pooling == "cls")
    if layout == "onnx":
        save_graph(folder / "model.onnx", weights, **graph)  # type: ignore[arg-type]
        return folder
    save_graph(folder / "onnx" / "model.onnx", weights, **graph)  # type: ignore[arg-type]
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling",
        },
    ]
    for kind in extra_modules:
        modules.append(
            {
                "idx": len(modules),
                "name": str(len(modules)),
                "path": f"{len(modules)}_{kind}",
                "type": f"sentence_transformers.models.{kind}",
            }
        )
    if normalize:
        modules.append(
            {
                "idx": len(modules),
                "name": str(len(modules)),
                "path": f"{len(modules)}_Normalize",
                "type": "sentence_transformers.models.Normalize",
            }
        )
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": int(weights.shape[1]),
                "pooling_mode_cls_token": pooling == "cls",
                "pooling_mode_mean_tokens": pooling == "mean",
                "pooling_mode_max_tokens": pooling == "max",
                "pooling_mode_mean_sqrt_len_tokens": False,
            }
        )
    )
    if max_seq_length is not None:
        (folder / "sentence_bert_config.json").write_text(
            json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False})
        )
    if similarity is not None:
        (folder / "config_sentence_transformers.json").write_text(
            json.dumps({"similarity_fn_name": similarity})
        )
    return folder
