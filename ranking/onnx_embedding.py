"""Sentence embeddings through ONNX Runtime: the same vectors as sentence-transformers, in about a third of the time.

Search latency is dominated by embedding the query: all-MiniLM-L6-v2 through sentence-transformers (PyTorch)
takes ~14 ms for a short query on a 2-core machine, the same model exported to ONNX and run by ONNX Runtime
(fp32, so the vectors agree to ~1e-6) ~5 ms; bulk catalog embedding gains too. sentence-transformers' own ONNX
backend cannot be installed beside sentence-transformers 6, so we export the model ourselves:

- `export_onnx` traces the model's transformer (the BERT-like body of a "transformer + mean pooling +
  normalize" sentence-transformers model) to an ONNX file whose output is the token embeddings;
- `export_onnx` then fuses the graph with ONNX Runtime's transformer optimizer (opt_level 1: hardware-
  independent rewrites, so the cached graph suits any CPU): each layer's attention becomes one Attention op,
  the embeddings, residual layer norms and GELUs become EmbedLayerNormalization, SkipLayerNormalization and
  BiasGelu (the session's own optimisations leave this export's attention unfused). The query embedding is
  the largest stage of a search; fused, it measured ~20% faster on a quiet machine (one thread: a short query
  10.0 -> 8.1 ms, 64 long texts 2.65 -> 2.20 s), ~7% per query on a busy one. Still fp32: vectors move by
  ~2e-7. Only BERT-like configs are fused, and the result must have one Attention op per layer and the plain
  graph's outputs on a test batch; otherwise, or if the optimizer fails, the plain export is kept with a
  warning: the same vectors, only slower;
- `OnnxEncoder` tokenizes with the model's own fast tokenizer, runs the graph, and does the mean pooling and
  L2 normalisation in numpy, batching by length as sentence-transformers does;
- `onnx_file_for` keeps one export per model (named by `model_id` and `GRAPH_FORMAT`) in a cache directory.

The int8 copy of the export that embeds queries is made in `ranking.onnx_quantize`.

Needs `onnxruntime` to encode and `onnx` (used by torch's exporter) to export.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ranking.model_files import model_id

OPSET = 17
# Part of the cache file's name, so that a cached export is only served by code that makes the same graph:
# bump it whenever `export_onnx` changes what it writes. 2: fused by ONNX Runtime's transformer optimizer.
GRAPH_FORMAT = 2
_TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Config `model_type`s whose exports ONNX Runtime's optimizer fuses, to the optimizer's name for them.
_FUSED_MODEL_TYPES = {"bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "camembert": "bert"}

log = logging.getLogger(__name__)


def _check_mean_pooling(model_dir: Path) -> None:
    """Refuses models whose modules are not transformer + mean pooling (+ normalize), which we could not match."""
    modules_file = model_dir / "modules.json"
    if not modules_file.is_file():
        return  # a bare transformers model: sentence-transformers would add mean pooling itself
    kinds = [module["type"].rsplit(".", 1)[-1] for module in json.loads(modules_file.read_text())]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ValueError(f"{model_dir}: modules {kinds} are not transformer + pooling (+ normalize)")
    pooling = next(m for m in json.loads(modules_file.read_text()) if m["type"].endswith("Pooling"))
    config = json.loads((model_dir / pooling["path"] / "config.json").read_text())
    if "pooling_mode" in config:  # sentence-transformers 6 writes the mode by name
        if config["pooling_mode"] != "mean":
            raise ValueError(f"{model_dir}: pooling {config['pooling_mode']!r} is not plain mean pooling")
        return
    modes = sorted(key for key, on in config.items() if key.startswith("pooling_mode") and on is True)
    if modes != ["pooling_mode_mean_tokens"]:
        raise ValueError(f"{model_dir}: pooling {modes} is not plain mean pooling")


def _load_tokenizer(model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)


def max_seq_length(model_dir: Path, tokenizer=None) -> int:
    """The token limit sentence-transformers truncates to: its config's max_seq_length, capped by the model's."""
    config = json.loads((model_dir / "config.json").read_text())
    limit = config.get("max_position_embeddings", 512)
    st_config = model_dir / "sentence_bert_config.json"
    if st_config.is_file() and (value := json.loads(st_config.read_text()).get("max_seq_length")):
        return min(int(value), limit)
    tokenizer = tokenizer or _load_tokenizer(model_dir)
    return min(int(tokenizer.model_max_length), limit)


def export_onnx(model_dir: Path, target: Path) -> Path:
    """Exports the transformer of the model in `model_dir` to `target` (atomically); output: token embeddings."""
    import torch
    from transformers import AutoModel

    model_dir, target = Path(model_dir), Path(target)
    _check_mean_pooling(model_dir)
    names = [n for n in _TEXT_INPUTS if n in _load_tokenizer(model_dir).model_input_names]
    model = AutoModel.from_pretrained(
        str(model_dir), attn_implementation="eager", local_files_only=True
    ).eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs))).last_hidden_state

    # A padded batch, so the attention mask is traced as data rather than found all-ones and dropped.
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3])
    dummy = {
        "input_ids": torch.full((2, 8), 1000) * mask,
        "attention_mask": mask,
        "token_type_ids": torch.zeros((2, 8), dtype=torch.long),
    }
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice and tracer chatter
            torch.onnx.export(
                TokenEmbeddings(),
                tuple(dummy[n] for n in names),
                str(temp),
                dynamo=False,
                opset_version=OPSET,
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                do_constant_folding=True,
            )
        _fuse_transformer_ops(model_dir, temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def quiet_optimizer():
    """Silences the optimizer's prints and its modules' logging; we report what matters ourselves."""
    import onnxruntime.transformers.optimizer  # imports its helper modules, so their loggers exist

    folder = str(Path(onnxruntime.transformers.optimizer.__file__).parent)
    loggers = [
        logging.getLogger(name)
        for name, module in list(sys.modules.items())
        if (getattr(module, "__file__", None) or "").startswith(folder)
    ]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _token_embeddings_agree(plain: Path, fused: Path, config: dict) -> bool:
    """Whether the two graphs give the same token embeddings (fp32 rounding aside) for a padded batch."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    rng = np.random.default_rng(0)
    mask = np.ones((3, 24), dtype=np.int64)
    mask[1, 9:], mask[2, 3:] = 0, 0
    ids = np.where(
        mask == 1,
        rng.integers(0, config.get("vocab_size", 1000), mask.shape),
        config.get("pad_token_id") or 0,
    )
    arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(mask)}
    outputs = []
    for graph in (plain, fused):
        session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        feeds = {i.name: arrays[i.name] for i in session.get_inputs()}
        outputs.append(session.run(["last_hidden_state"], feeds)[0][mask == 1])  # padding is never pooled
    return bool(np.allclose(*outputs, rtol=1e-4, atol=1e-4))


def _keep_plain(model_dir: Path, why: str, *args: object) -> bool:
    log.warning("%s: serving the plain ONNX export (the same vectors, slower): " + why, model_dir, *args)
    return False


def _fuse_transformer_ops(model_dir: Path, graph: Path) -> bool:
    """Rewrites the exported `graph` with ONNX Runtime's fused transformer ops, in place; False if it stays plain.

    It stays plain, with a warning, for a model type the optimizer does not fuse, when the optimizer fails,
    fuses fewer attention blocks than the model has layers, or changes the outputs.
    """
    config = json.loads((model_dir / "config.json").read_text())
    fused = graph.with_name(f"{graph.name}.fused.tmp")
    try:
        from onnxruntime.transformers.optimizer import MODEL_TYPES, optimize_model

        kind = _FUSED_MODEL_TYPES.get(config.get("model_type"))
        if kind not in MODEL_TYPES:
            return _keep_plain(model_dir, "no graph fusion for model type %r", config.get("model_type"))
        with quiet_optimizer():
            optimizer = optimize_model(
                str(graph),
                model_type=kind,
                num_heads=int(config["num_attention_heads"]),
                hidden_size=int(config["hidden_size"]),
                opt_level=1,  # hardware-independent rewrites only: the cached graph may run on another CPU
                use_gpu=False,
            )
            attention = optimizer.get_fused_operator_statistics().get("Attention", 0)
            if attention != int(config["num_hidden_layers"]):
                return _keep_plain(
                    model_dir,
                    "fusion found %d of %s attention blocks",
                    attention,
                    config["num_hidden_layers"],
                )
            # One file, the weights inside: no external-data file to leave behind or to rename with it.
            optimizer.save_model_to_file(str(fused), use_external_data_format=False)
        if not _token_embeddings_agree(graph, fused, config):
            return _keep_plain(model_dir, "the fused graph's outputs differ from the plain one's")
        os.replace(fused, graph)
        return True
    except Exception as error:  # noqa: BLE001 - any failure of an optional speed-up: keep the plain graph
        return _keep_plain(model_dir, "graph fusion failed (%s: %s)", type(error).__name__, error)
    finally:
        fused.unlink(missing_ok=True)


def onnx_file_for(model_dir: Path, cache_dir: Path) -> Path:
    """The ONNX export of `model_dir` in `cache_dir`, exported on first use."""
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    target = Path(cache_dir) / f"{model_id(Path(model_dir))}-g{GRAPH_FORMAT}.onnx"
    return target if target.is_file() else export_onnx(model_dir, target)


class OnnxEncoder:
    """Texts to L2-normalised float32 vectors, equal to SentenceTransformer(model_dir).encode(normalized)."""

    def __init__(self, model_dir: Path, onnx_file: Path, *, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        self.model_dir, self.onnx_file = Path(model_dir), Path(onnx_file)
        _check_mean_pooling(self.model_dir)
        hf_tokenizer = _load_tokenizer(self.model_dir)
        self.max_seq_length = max_seq_length(self.model_dir, hf_tokenizer)
        # A private copy of the fast tokenizer: tokenizer.json may carry its own padding and truncation
        # (all-MiniLM-L6-v2's pads everything to 128), sentence-transformers pads to the batch's longest.
        self._tokenizer = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._tokenizer.enable_padding(
            pad_id=hf_tokenizer.pad_token_id or 0, pad_token=hf_tokenizer.pad_token
        )
        self.threads = threads
        self._session = self._build_session(threads)
        self._inputs = [i.name for i in self._session.get_inputs()]
        self.dim: int = int(json.loads((self.model_dir / "config.json").read_text())["hidden_size"])

    def _build_session(self, threads: int | None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(self.onnx_file), options, providers=["CPUExecutionProvider"])

    def set_threads(self, threads: int) -> None:
        """ORT fixes a session's thread pool when it is made, so a new count means a new session."""
        if threads != self.threads:
            self._session = self._build_session(threads)
            self.threads = threads

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (tokens,) = self._session.run(["last_hidden_state"], {name: arrays[name] for name in self._inputs})
        mask = arrays["attention_mask"].astype(np.float32)[:, :, None]
        pooled = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Vectors for `texts`, in order; batches are formed longest-first so that little is padding."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        starts = range(0, len(texts), batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Embedding (ONNX)", unit="batch")
        for start in starts:
            batch = order[start : start + batch_size]
            out[batch] = self._encode_batch([texts[i] for i in batch])
        return out
