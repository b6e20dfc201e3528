"""Sentence embeddings from a model folder on this machine, for a project that wants a
bigger model than the built-in one (:mod:`.embed`).

Two layouts load, both without any network access:

* **ONNX**: ``model.onnx`` (or ``onnx/model.onnx``, where sentence-transformers >= 3.2
  writes its ``backend="onnx"`` export) beside a HuggingFace ``tokenizer.json``. The
  graph runs in onnxruntime on the CPU (the ``local-models`` extra, imported only when
  such a folder is loaded, so a server without it starts and serves everything else).
  Its inputs are fed by the names it declares (``input_ids``, ``attention_mask``,
  ``token_type_ids``, ``position_ids``). A graph that gives a sentence embedding
  (``sentence_embedding``, [batch, dim]) is used as it is; one that gives token
  embeddings ([batch, tokens, dim]) is pooled as ``1_Pooling/config.json`` says (mean
  over the attention mask when there is no such file), so padding never counts.
* **sentence-transformers with PyTorch weights only**: run by the
  ``sentence_transformers`` package when it is installed; otherwise refused with a
  message saying how to export the model to ONNX.

Vectors are L2-normalised, which is what zero-shot's dot products and the classifiers'
standardisation expect, except for a model whose ``modules.json`` has no ``Normalize``
and whose ``config_sentence_transformers.json`` names ``dot`` as its similarity: there
the length carries meaning and is kept. Texts are truncated to the model's maximum
sequence length (``sentence_bert_config.json``, else the tokenizer's truncation, else
512 tokens), sorted by length and run in batches of at most ``max_batch_tokens``
padded tokens, so a batch of short texts never pays for one long one.

``name`` is ``local:<folder name>``; ``fingerprint`` is a SHA-256 over the bytes of the
weights and the tokenizer and the settings that shape the vectors (pooling,
normalisation, length), so a saved classifier refuses to load once any of them changed.
:func:`load_local` loads a folder once per process and loads it again only when one of
those files changed; a loaded embedder is never mutated, so threads may share it.

Refusals are :class:`~.model_errors.TextModelError` with these codes:
``LOCAL_MODEL_NOT_FOUND`` (no such directory), ``LOCAL_MODEL_NO_TOKENIZER``,
``LOCAL_MODEL_UNSUPPORTED`` (no weights augury can run, or a module such as ``Dense``
that the ONNX graph lacks), ``LOCAL_MODEL_RUNTIME_MISSING`` (onnxruntime is not
installed), ``LOCAL_MODEL_BAD_CONFIG`` (a configuration file that cannot be read) and
``LOCAL_MODEL_BAD_GRAPH`` (inputs it cannot feed, or outputs that are not float
[batch, tokens, dim] or [batch, dim]).

>>> hidden = np.array([[[1.0, 0.0], [3.0, 2.0], [9.0, 9.0]]], dtype=np.float32)
>>> mask = np.array([[1, 1, 0]])
>>> pool(hidden, mask, ("mean",)).tolist(), pool(hidden, mask, ("cls", "max")).tolist()
([[2.0, 1.0]], [[1.0, 0.0, 3.0, 2.0]])
"""

from __future__ import annotations

import hashlib
import json
import stat
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .model_errors import TextModelError

__all__ = [
    "LocalModelInfo",
    "OnnxEmbedder",
    "SentenceTransformersEmbedder",
    "inspect_local",
    "load_local",
    "pool",
]

ONNX, ST_ONNX, ST_TORCH = "onnx", "sentence-transformers-onnx", "sentence-transformers"
"""The layouts: a bare ONNX export, sentence-transformers' ONNX export, PyTorch weights."""

DEFAULT_MAX_LENGTH = 512
MAX_BATCH_TOKENS = 8_192
"""Padded tokens per forward pass: bounds the [batch, tokens, dim] array held at once."""

POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len", "weightedmean", "lasttoken")
"""In the order sentence-transformers concatenates them when several are on."""
_POOLING_KEYS = {
    "cls": "pooling_mode_cls_token",
    "max": "pooling_mode_max_tokens",
    "mean": "pooling_mode_mean_tokens",
    "mean_sqrt_len": "pooling_mode_mean_sqrt_len_tokens",
    "weightedmean": "pooling_mode_weightedmean_tokens",
    "lasttoken": "pooling_mode_lasttoken",
}
_KNOWN_MODULES = ("Transformer", "Pooling", "Normalize")
_TORCH_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_SENTENCE_OUTPUTS = ("sentence_embedding", "sentence_embeddings")
_TOKEN_OUTPUTS = ("last_hidden_state", "token_embeddings")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")
_INT_TYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}
_FLOAT_TYPES = ("tensor(float)", "tensor(float16)", "tensor(double)")
_PROBE = "A short sentence to check the model with."

_cache: dict[Path, tuple[tuple, Any]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class LocalModelInfo:
    """What a model folder is, read from its files without loading the weights;
    ``dim`` is None when no configuration file states it."""

    name: str
    layout: str
    dim: int | None


@dataclass(frozen=True)
class _Layout:
    directory: Path
    kind: str
    graph: Path | None
    tokenizer: Path | None
    weights: tuple[Path, ...]
    pooling: tuple[str, ...]
    normalize: bool
    max_length: int
    dim: int | None

    @property
    def name(self) -> str:
        return f"local:{self.directory.name}"

    def settings(self) -> dict[str, Any]:
        """What shapes the vectors besides the files' bytes (part of the fingerprint)."""
        return {
            "pooling": list(self.pooling),
            "normalize": self.normalize,
            "max_length": self.max_length,
        }


def inspect_local(directory: Path | str) -> LocalModelInfo:
    """The layout and (when stated) dimension of the model in ``directory``; raises
    :class:`TextModelError` for a folder that cannot be loaded as one."""
    layout = _read_layout(Path(directory))
    if layout.kind == ST_TORCH:
        _require_sentence_transformers(layout.directory)
    return LocalModelInfo(layout.name, layout.kind, layout.dim)


def load_local(directory: Path | str, *, threads: int | None = None) -> Any:
    """The embedder of the model in ``directory`` (an :class:`~.embed.Embedder`),
    loaded once per process and again only when its files change.

    ``threads`` bounds onnxruntime's threads per call (None: its default, one per core).
    """
    folder = Path(directory).expanduser().resolve()
    signature = (_stamp(folder), threads)
    with _cache_lock:
        found = _cache.get(folder)
        if found is not None and found[0] == signature:
            return found[1]
        layout = _read_layout(folder)
        if layout.kind == ST_TORCH:
            embedder: Any = SentenceTransformersEmbedder(layout)
        else:
            embedder = OnnxEmbedder(layout, threads=threads)
        _cache[folder] = (signature, embedder)
        return embedder


# --- reading a folder ------------------------------------------------------------------


def _read_layout(folder: Path) -> _Layout:
    if not folder.is_dir():
        raise TextModelError(
            "LOCAL_MODEL_NOT_FOUND",
            f"There is no model directory at {folder}.",
            {"directory": str(folder)},
        )
    modules = _modules(folder)
    pooling, pooled_dim = _pooling(folder, modules)
    normalize = _normalize(folder, modules)
    graph = _graph_file(folder)
    tokenizer = _first(
        folder / "tokenizer.json", graph.parent / "tokenizer.json" if graph else None
    )
    if graph is not None:
        kind = ST_ONNX if graph.parent.name == "onnx" else ONNX
        if tokenizer is None:
            raise TextModelError(
                "LOCAL_MODEL_NO_TOKENIZER",
                f"{folder.name} has an ONNX graph but no tokenizer.json beside it; save the "
                "model's tokenizer there (tokenizer.save_pretrained).",
                {"directory": str(folder)},
            )
        extra = _unknown_modules(modules)
        if extra:
            raise TextModelError(
                "LOCAL_MODEL_UNSUPPORTED",
                f"{folder.name} has sentence-transformers modules that its ONNX graph does "
                f"not run ({', '.join(extra)}); install sentence-transformers and remove "
                "the ONNX files, or export the whole pipeline into the graph.",
                {"directory": str(folder), "modules": extra},
            )
        weights = (graph, *_external_data(graph), tokenizer)
    else:
        torch_weights = _torch_weights(folder)
        if not torch_weights:
            raise TextModelError(
                "LOCAL_MODEL_UNSUPPORTED",
                f"{folder.name} holds no model weights augury can run: it needs model.onnx "
                "(or onnx/model.onnx) with tokenizer.json, or a sentence-transformers model.",
                {"directory": str(folder)},
            )
        if tokenizer is None and not (folder / "tokenizer_config.json").is_file():
            raise TextModelError(
                "LOCAL_MODEL_NO_TOKENIZER",
                f"{folder.name} has model weights but no tokenizer files.",
                {"directory": str(folder)},
            )
        kind, weights = ST_TORCH, tuple(torch_weights)
    return _Layout(
        directory=folder,
        kind=kind,
        graph=graph,
        tokenizer=tokenizer,
        weights=weights,
        pooling=pooling,
        normalize=normalize,
        max_length=_max_length(folder, tokenizer),
        dim=_stated_dim(folder, pooled_dim, len(pooling)),
    )


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TextModelError(
            "LOCAL_MODEL_BAD_CONFIG",
            f"{path.parent.name}/{path.name} cannot be read as JSON: {exc}",
            {"file": str(path)},
        ) from exc


def _optional_json(path: Path) -> Any:
    return _json(path) if path.is_file() else None


def _first(*paths: Path | None) -> Path | None:
    return next((p for p in paths if p is not None and p.is_file()), None)


def _modules(folder: Path) -> list[dict[str, Any]] | None:
    """``modules.json``'s entries, or None for a folder without one (a bare export)."""
    modules = _optional_json(folder / "modules.json")
    if modules is None:
        return None
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise TextModelError(
            "LOCAL_MODEL_BAD_CONFIG",
            f"{folder.name}/modules.json is not a list of modules.",
            {"directory": str(folder)},
        )
    return modules


def _module_kind(module: dict[str, Any]) -> str:
    return str(module.get("type", "")).rsplit(".", 1)[-1]


def _unknown_modules(modules: list[dict[str, Any]] | None) -> list[str]:
    return [_module_kind(m) for m in modules or [] if _module_kind(m) not in _KNOWN_MODULES]


def _pooling(
    folder: Path, modules: list[dict[str, Any]] | None
) -> tuple[tuple[str, ...], int | None]:
    """The pooling modes (mean when nothing says otherwise) and the token dimension the
    pooling configuration states."""
    declared = [
        folder / str(m.get("path", "")) / "config.json"
        for m in modules or []
        if _module_kind(m) == "Pooling"
    ]
    path = _first(*declared, folder / "1_Pooling" / "config.json")
    config = None if path is None else _json(path)
    if config is None:
        return ("mean",), None
    if not isinstance(config, dict):
        raise TextModelError(
            "LOCAL_MODEL_BAD_CONFIG", f"{folder.name}'s pooling configuration is not an object."
        )
    modes: tuple[str, ...]
    if config.get("pooling_mode"):  # the short form some exports write: "cls", "mean" ...
        modes = (str(config["pooling_mode"]).replace("_tokens", "").replace("_token", ""),)
    else:
        modes = tuple(mode for mode in POOLING_MODES if config.get(_POOLING_KEYS[mode]))
    unknown = [m for m in modes if m not in POOLING_MODES]
    if unknown:
        raise TextModelError(
            "LOCAL_MODEL_BAD_CONFIG",
            f"{folder.name}'s pooling mode {unknown[0]!r} is not one of "
            f"{', '.join(POOLING_MODES)}.",
        )
    dim = config.get("word_embedding_dimension")
    return modes or ("mean",), dim if isinstance(dim, int) and dim > 0 else None


def _normalize(folder: Path, modules: list[dict[str, Any]] | None) -> bool:
    """Unit length, except for a pipeline without Normalize meant for dot products."""
    if modules is None or any(_module_kind(m) == "Normalize" for m in modules):
        return True
    config = _optional_json(folder / "config_sentence_transformers.json")
    return not (isinstance(config, dict) and config.get("similarity_fn_name") == "dot")


def _graph_file(folder: Path) -> Path | None:
    found = _first(folder / "model.onnx", folder / "onnx" / "model.onnx")
    if found is not None:
        return found
    graphs = sorted(folder.glob("*.onnx")) or sorted((folder / "onnx").glob("*.onnx"))
    return graphs[0] if len(graphs) == 1 else None


def _external_data(graph: Path) -> list[Path]:
    """Weights an ONNX graph keeps beside it (``model.onnx_data``, ``model.onnx.data``)."""
    return sorted(p for p in graph.parent.glob(graph.name + "?data") if p.is_file())


def _torch_weights(folder: Path) -> list[Path]:
    found = []
    for name in _TORCH_WEIGHTS:
        stem, suffix = name.rsplit(".", 1)
        found += [p for p in folder.rglob(f"{stem}*.{suffix}") if p.is_file()]
    return sorted(set(found))


def _max_length(folder: Path, tokenizer: Path | None) -> int:
    config = _optional_json(folder / "sentence_bert_config.json")
    if isinstance(config, dict) and _positive(config.get("max_seq_length")):
        return int(config["max_seq_length"])
    if tokenizer is not None:
        try:  # an unreadable tokenizer is reported when it loads, as a tokenizer's fault
            truncation = json.loads(tokenizer.read_text(encoding="utf-8")).get("truncation")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            truncation = None
        if isinstance(truncation, dict) and _positive(truncation.get("max_length")):
            return int(truncation["max_length"])
    return DEFAULT_MAX_LENGTH


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _stated_dim(folder: Path, pooled: int | None, modes: int) -> int | None:
    if pooled is not None:
        return pooled * modes
    config = _optional_json(folder / "config.json")
    if isinstance(config, dict):
        for key in ("hidden_size", "d_model", "dim"):
            if _positive(config.get(key)):
                return int(config[key]) * modes
    return None


def _stamp(folder: Path) -> tuple:
    """Every file of the folder and of its sub-folders (onnx/, 1_Pooling/ ...) with its
    size, times and inode: a file replaced or rewritten changes it, and reading it costs
    a directory listing, not the configuration files (a tokenizer.json can be 20 MB)."""
    if not folder.is_dir():
        _read_layout(folder)  # the refusal of a missing folder
    stats = []
    for path in sorted([*folder.glob("*"), *folder.glob("*/*")]):
        try:
            info = path.stat()
        except OSError:  # removed while listed: the next call sees the change
            continue
        if stat.S_ISREG(info.st_mode):
            stats.append((str(path), info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino))
    return tuple(stats)


def _fingerprint(layout: _Layout) -> str:
    """The first 16 hex digits of a SHA-256 over the weight and tokenizer files' bytes
    and the pooling settings."""
    digest = hashlib.sha256()
    for path in layout.weights:
        digest.update(path.relative_to(layout.directory).as_posix().encode() + b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    digest.update(json.dumps(layout.settings(), sort_keys=True).encode())
    return digest.hexdigest()[:16]


# --- running a graph -------------------------------------------------------------------


class OnnxEmbedder:
    """An ONNX sentence-embedding graph and its tokenizer (see the module docstring)."""

    def __init__(self, layout: _Layout, *, threads: int | None = None):
        self.layout = layout
        self.name = layout.name
        self.tokenizer = _tokenizer(layout)
        self.session = _session(layout, threads)
        self.feeds = _feeds(layout, self.session)
        self.output, self.sentence_level = _output(layout, self.session)
        self._width: int | None = None
        self.dim = self._width = self._probe()
        self.fingerprint = _fingerprint(layout)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, float32: unit length unless the model says otherwise;
        zero for a text with no tokens at all."""
        if isinstance(texts, str):
            raise TypeError("texts is a list of strings, not one string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        encodings = self.tokenizer.encode_batch(["" if t is None else str(t) for t in texts])
        for rows in _batches([len(e.ids) for e in encodings], MAX_BATCH_TOKENS):
            batch = [encodings[i] for i in rows]
            if max(len(e.ids) for e in batch):
                out[rows] = self._run(batch)
        if self.layout.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            out /= norms
        return out

    def _run(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], types[row, :n], mask[row, :n] = e.ids, e.type_ids, 1
        arrays = {
            "input_ids": ids,
            "attention_mask": mask,
            "token_type_ids": types,
            "position_ids": np.broadcast_to(np.arange(width), ids.shape),
        }
        inputs = {name: arrays[role].astype(dtype) for name, role, dtype in self.feeds}
        (result,) = self.session.run([self.output], inputs)
        result = np.asarray(result)
        _check_result(self.layout, result, len(encodings), width, self.sentence_level)
        if self._width is not None and result.shape[-1] != self._width:
            raise TextModelError(
                "LOCAL_MODEL_BAD_GRAPH",
                f"{self.layout.directory.name}'s ONNX graph gave vectors of {result.shape[-1]} "
                f"dimensions where it gave {self._width} before.",
            )
        if self.sentence_level:
            return result.astype(np.float32)
        return pool(result.astype(np.float32), mask, self.layout.pooling)

    def _probe(self) -> int:
        """Run a long and a short text through the graph: its output's dimension, and a
        refusal at load rather than at the first prediction for a graph that gives
        something else (a [batch, tokens] score is told from a [batch, dim] embedding by
        its width following the texts' length)."""
        long, short = self.tokenizer.encode_batch([_PROBE, _PROBE.split()[0]])
        if not long.ids:
            raise TextModelError(
                "LOCAL_MODEL_NO_TOKENIZER",
                f"{self.layout.directory.name}'s tokenizer gives no tokens for plain English.",
            )
        dims = {
            int(self._run(batch).shape[1])
            for batch in ([long], [long, short], [short])
            if all(e.ids for e in batch)
        }
        if len(dims) > 1:
            raise TextModelError(
                "LOCAL_MODEL_BAD_GRAPH",
                f"{self.layout.directory.name}'s ONNX output {self.output!r} changes width "
                "with the texts' length: it is not a sentence embedding.",
                {"output": self.output, "widths": sorted(dims)},
            )
        return dims.pop()


def _tokenizer(layout: _Layout) -> Any:
    from tokenizers import Tokenizer  # wordllama's dependency, always installed

    try:
        tokenizer = Tokenizer.from_file(str(layout.tokenizer))
    except Exception as exc:  # a tokenizers error type is not exported
        raise TextModelError(
            "LOCAL_MODEL_NO_TOKENIZER",
            f"{layout.directory.name}'s tokenizer.json cannot be read: {exc}",
        ) from exc
    tokenizer.no_padding()  # batches are padded here, to their own longest text
    tokenizer.enable_truncation(layout.max_length)
    return tokenizer


def _session(layout: _Layout, threads: int | None) -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise TextModelError(
            "LOCAL_MODEL_RUNTIME_MISSING",
            f"{layout.directory.name} is an ONNX model, which needs onnxruntime: install "
            "augury[local-models] (pip install onnxruntime).",
        ) from exc
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    try:
        return onnxruntime.InferenceSession(
            str(layout.graph), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own, unexported, error types
        raise TextModelError(
            "LOCAL_MODEL_BAD_GRAPH",
            f"{layout.directory.name}'s ONNX graph cannot be loaded: {exc}",
        ) from exc


def _feeds(layout: _Layout, session: Any) -> list[tuple[str, str, Any]]:
    """``(input name, what it is fed, dtype)`` for each input the graph declares."""
    feeds = []
    for node in session.get_inputs():
        role = node.name if node.name in _INPUTS else None
        dtype = _INT_TYPES.get(node.type)
        if role is None or dtype is None:
            raise TextModelError(
                "LOCAL_MODEL_BAD_GRAPH",
                f"{layout.directory.name}'s ONNX graph wants an input {node.name!r} of "
                f"{node.type}; augury feeds integer input_ids, attention_mask, "
                "token_type_ids and position_ids.",
                {"input": node.name, "type": node.type},
            )
        feeds.append((node.name, role, dtype))
    if "input_ids" not in {role for _, role, _ in feeds}:
        raise TextModelError(
            "LOCAL_MODEL_BAD_GRAPH", f"{layout.directory.name}'s ONNX graph takes no input_ids."
        )
    return feeds


def _output(layout: _Layout, session: Any) -> tuple[str, bool]:
    """The output to read, and whether it is a sentence embedding already ([batch, dim])."""
    outputs = {node.name: node for node in session.get_outputs()}
    name = next(
        (n for n in (*_SENTENCE_OUTPUTS, *_TOKEN_OUTPUTS) if n in outputs),
        next(iter(outputs)),
    )
    node = outputs[name]
    rank = len(node.shape) if node.shape is not None else None
    if node.type not in _FLOAT_TYPES or rank not in (2, 3):
        raise TextModelError(
            "LOCAL_MODEL_BAD_GRAPH",
            f"{layout.directory.name}'s ONNX output {name!r} is {node.type} of shape "
            f"{node.shape}; augury needs float [batch, tokens, dim] token embeddings or a "
            "[batch, dim] sentence embedding.",
            {"output": name, "type": node.type, "shape": [str(d) for d in node.shape or []]},
        )
    return name, rank == 2


def _check_result(
    layout: _Layout, result: np.ndarray, batch: int, width: int, sentence_level: bool
) -> None:
    expected = (batch,) if sentence_level else (batch, width)
    if (
        result.dtype.kind != "f"
        or result.shape[: len(expected)] != expected
        or (result.ndim != len(expected) + 1)
    ):
        raise TextModelError(
            "LOCAL_MODEL_BAD_GRAPH",
            f"{layout.directory.name}'s ONNX graph gave {result.dtype} {list(result.shape)} "
            f"for {batch} text(s) of {width} tokens; augury needs float "
            + ("[batch, dim]." if sentence_level else "[batch, tokens, dim]."),
            {"shape": list(result.shape)},
        )


def _batches(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Indices grouped so that a batch's size times its longest length stays within
    ``budget`` (one text per batch at least): texts of similar length together."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) + 1) * max(lengths[i], 1) > budget:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pool(hidden: np.ndarray, mask: np.ndarray, modes: Sequence[str]) -> np.ndarray:
    """Token embeddings [batch, tokens, dim] to one row per text, each mode's vector
    concatenated in ``modes``' order; padding (``mask`` 0) never counts, and a text with
    no tokens gets zeros."""
    mask_f = mask.astype(np.float32)[:, :, None]
    counts = mask_f.sum(axis=1)
    safe = np.maximum(counts, 1.0)
    parts = []
    for mode in modes:
        if mode == "cls":
            parts.append(hidden[:, 0] * (counts > 0))
        elif mode == "mean":
            parts.append((hidden * mask_f).sum(axis=1) / safe)
        elif mode == "mean_sqrt_len":
            parts.append((hidden * mask_f).sum(axis=1) / np.sqrt(safe))
        elif mode == "max":
            masked = np.where(mask_f > 0, hidden, -np.inf).max(axis=1)
            parts.append(np.where(counts > 0, masked, 0.0))
        elif mode == "weightedmean":
            weights = mask_f * np.arange(1, hidden.shape[1] + 1, dtype=np.float32)[None, :, None]
            parts.append((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0))
        elif mode == "lasttoken":
            last = np.maximum(mask.astype(bool).cumsum(axis=1).argmax(axis=1), 0)
            parts.append(hidden[np.arange(len(hidden)), last] * (counts > 0))
        else:
            raise ValueError(f"unknown pooling mode {mode!r}")
    return np.concatenate(parts, axis=1).astype(np.float32)


# --- PyTorch weights -------------------------------------------------------------------


def _require_sentence_transformers(folder: Path) -> Any:
    try:
        import sentence_transformers
    except ImportError as exc:
        raise TextModelError(
            "LOCAL_MODEL_UNSUPPORTED",
            f"{folder.name} has only PyTorch weights; install sentence-transformers, or "
            "export it to ONNX (SentenceTransformer(path, backend='onnx').save_pretrained"
            "(path) writes onnx/model.onnx) and load it again.",
            {"directory": str(folder)},
        ) from exc
    return sentence_transformers


class SentenceTransformersEmbedder:
    """A model with PyTorch weights only, run by the sentence-transformers package on
    the CPU (which pools and normalises as the model's own modules say)."""

    def __init__(self, layout: _Layout):
        package = _require_sentence_transformers(layout.directory)
        self.layout = layout
        self.name = layout.name
        try:
            self.model = package.SentenceTransformer(
                str(layout.directory), device="cpu", local_files_only=True
            )
        except Exception as exc:  # whatever torch or transformers raise
            raise TextModelError(
                "LOCAL_MODEL_UNSUPPORTED",
                f"sentence-transformers cannot load {layout.directory.name}: {exc}",
            ) from exc
        self.dim = int(self.model.get_sentence_embedding_dimension() or 0)
        self.fingerprint = _fingerprint(layout)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, float32, as the model's pipeline computes it."""
        if isinstance(texts, str):
            raise TypeError("texts is a list of strings, not one string")
        vectors = self.model.encode(
            ["" if t is None else str(t) for t in texts], convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
