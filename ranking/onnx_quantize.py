"""The int8 query graph: a quantised copy of the fused ONNX export (`ranking.onnx_embedding`) for embedding
search queries faster, used only while its vectors stay close to the fp32 ones.

`query_onnx_file_for` keeps one per export in the export's cache directory (named by `QUERY_GRAPH_FORMAT`),
made on first use by `quantize_for_queries`; when it cannot be made, or strays, queries are embedded in fp32.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path

import numpy as np

from ranking.onnx_embedding import OnnxEncoder, onnx_file_for, quiet_optimizer

# The int8 query graph's own format number (see `quantize_for_queries`), part of its cache file's name.
QUERY_GRAPH_FORMAT = 1
# How close an int8 query vector must stay to the fp32 one on every probe (measured: 0.989 at worst over
# 300 seed queries, 0.995 on average) for the int8 graph to be used.
MIN_QUERY_COSINE = 0.98
QUERY_PROBES = (
    "blue trail running shoes",
    "wireless noise cancelling headphones under $200",
    "cast iron skillet 12 inch",
    "kids waterproof rain jacket",
    "4k hdmi cable",
    "organic green tea",
    "SW-TR1200",
    "gift for a coffee lover",
)

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _without_root_records_from(folder: str):
    """Drops what modules under `folder` log straight to the root logger (the quantizer's advice to
    pre-process its input, which does not apply to an already optimised graph)."""

    def elsewhere(record: logging.LogRecord) -> bool:
        return folder not in record.pathname.replace(os.sep, "/")

    root = logging.getLogger()
    root.addFilter(elsewhere)
    try:
        yield
    finally:
        root.removeFilter(elsewhere)


def query_onnx_file_for(model_dir: Path, cache_dir: Path) -> Path | None:
    """The int8 query graph of `model_dir` in `cache_dir`, made from its export on first use; None (with a
    warning) when it cannot be made or strays from the fp32 vectors: queries are then embedded in fp32."""
    graph = onnx_file_for(model_dir, cache_dir)
    target = graph.with_name(f"{graph.stem}-q{QUERY_GRAPH_FORMAT}.onnx")
    if target.is_file() or quantize_for_queries(model_dir, graph, target):
        return target
    return None


def quantize_for_queries(model_dir: Path, graph: Path, target: Path) -> bool:
    """Writes an int8 copy of the fused `graph` for embedding queries to `target` (atomically); False if not.

    Dynamic int8 (ONNX Runtime's `quantize_dynamic`): weights per output channel, in 7 bits (`reduce_range`,
    so that AVX2's 16-bit sums do not saturate on CPUs without VNNI), of every MatMul and fused Attention but
    the first layer's, which is where quantising cost the most. The result must stay within
    MIN_QUERY_COSINE of the fp32 vectors on QUERY_PROBES, or it is not used.
    """
    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        model = onnx.load(str(graph))
        nodes = model.graph.node
        attention = [node.name for node in nodes if node.op_type == "Attention"]
        if len(attention) < 2:
            log.warning("%s: queries are embedded in fp32: the graph has no fused attention", model_dir)
            return False
        first_layer = []  # nodes are in topological order: the first layer ends where the second's attention starts
        for node in nodes:
            if node.name == attention[1]:
                break
            if node.op_type in ("MatMul", "Attention"):
                first_layer.append(node.name)
        # Given the model rather than its path: from a path, the quantizer writes a shape-inferred copy
        # beside the graph, which another worker quantising the same graph at the same time would delete.
        with quiet_optimizer(), _without_root_records_from("onnxruntime/quantization"):
            quantize_dynamic(
                model,
                str(temp),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul", "Attention"],
                per_channel=True,
                reduce_range=True,
                nodes_to_exclude=first_layer,
                # the fused graph's contrib ops defeat shape inference: say what its tensors hold
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        fp32 = OnnxEncoder(model_dir, graph, threads=1).encode(QUERY_PROBES)
        int8 = OnnxEncoder(model_dir, temp, threads=1).encode(QUERY_PROBES)
        cosine = float(np.min(np.sum(fp32 * int8, axis=1)))
        if cosine < MIN_QUERY_COSINE:
            log.warning(
                "%s: queries are embedded in fp32: int8 vectors stray (cosine %.4f)", model_dir, cosine
            )
            return False
        os.replace(temp, target)
        return True
    except Exception as error:  # noqa: BLE001 - any failure of an optional speed-up: queries stay fp32
        log.warning(
            "%s: queries are embedded in fp32: quantising failed (%s: %s)",
            model_dir,
            type(error).__name__,
            error,
        )
        return False
    finally:
        temp.unlink(missing_ok=True)
