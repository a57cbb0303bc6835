"""The ONNX Runtime encoder gives the same vectors as sentence-transformers, and its export is cached."""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from market.taxonomy.demo_catalog import generate_products
from ranking import embedder as embedder_module
from ranking import onnx_embedding, onnx_quantize
from ranking.documents import IndexedProduct, embedding_text
from ranking.embedder import Embedder, default_model_path, model_id
from ranking.onnx_embedding import OnnxEncoder, export_onnx, onnx_file_for

QUERIES = [
    "red running shoes",
    "wireless noise cancelling headphones",
    "dog bed",
    "cast iron skillet 12 inch",
    "lego",
    "waterproof hiking jacket for women",
    "usb-c charger 65w",
    "yoga mat",
    "Baby Stroller!",
    "é",
]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return default_model_path()


@pytest.fixture(scope="module")
def onnx_file(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_onnx(model_dir, tmp_path_factory.mktemp("onnx") / "model.onnx")


@pytest.fixture(scope="module")
def plain_onnx_file(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export made while ONNX Runtime's transformer optimizer fails."""
    from onnxruntime.transformers import optimizer

    def broken(*args, **kwargs):
        raise RuntimeError("optimizer broke")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "optimize_model", broken)
        return export_onnx(model_dir, tmp_path_factory.mktemp("plain-onnx") / "model.onnx")


@pytest.fixture(scope="module")
def encoder(model_dir: Path, onnx_file: Path) -> OnnxEncoder:
    return OnnxEncoder(model_dir, onnx_file, threads=2)


@pytest.fixture(scope="module")
def reference(model_dir: Path) -> Embedder:
    return Embedder(model_dir, backend="torch")


@pytest.fixture(scope="module")
def product_texts() -> list[str]:
    return [
        embedding_text(
            IndexedProduct(
                product_id=i,
                title=p["title"],
                category=p["category"],
                brand=p["brand"],
                description=p["description"],
                attributes=p["attributes"],
            )
        )
        for i, p in enumerate(generate_products(48, seed=11))
    ]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def op_counts(onnx_file: Path) -> Counter[str]:
    import onnx

    return Counter(node.op_type for node in onnx.load(str(onnx_file)).graph.node)


def layers(model_dir: Path) -> int:
    return json.loads((model_dir / "config.json").read_text())["num_hidden_layers"]


def test_export_takes_token_ids_and_gives_token_embeddings(onnx_file: Path) -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    assert {i.name for i in session.get_inputs()} == {"input_ids", "attention_mask", "token_type_ids"}
    assert [o.name for o in session.get_outputs()] == ["last_hidden_state"]
    # One file: the temporary ones were renamed or removed, and the weights are inside (no external data).
    assert [path.name for path in onnx_file.parent.iterdir()] == [onnx_file.name]


def test_the_export_is_fused_into_one_attention_op_per_layer(
    model_dir, onnx_file, encoder, reference
) -> None:
    ops = op_counts(onnx_file)
    assert ops["Attention"] == layers(model_dir) and ops["EmbedLayerNormalization"] == 1
    assert ops["SkipLayerNormalization"] == 2 * layers(model_dir) and ops["BiasGelu"] == layers(model_dir)
    assert ops["Softmax"] == ops["Erf"] == ops["LayerNormalization"] == 0  # nothing left unfused
    # Still fp32 and the same vectors (the tests below compare more texts through this fused graph).
    assert cosines(encoder.encode(QUERIES), reference.embed_texts(QUERIES)).min() >= 0.9999


def test_a_failing_optimizer_leaves_the_plain_graph_with_the_same_vectors(
    model_dir, plain_onnx_file, encoder, reference, product_texts
) -> None:
    ops = op_counts(plain_onnx_file)
    assert ops["Attention"] == 0 and ops["Softmax"] == layers(model_dir)
    assert [path.name for path in plain_onnx_file.parent.iterdir()] == [plain_onnx_file.name]
    texts = QUERIES + product_texts[:8]
    plain = OnnxEncoder(model_dir, plain_onnx_file, threads=2).encode(texts)
    np.testing.assert_allclose(plain, encoder.encode(texts), atol=1e-5)
    assert cosines(plain, reference.embed_texts(texts)).min() >= 0.9999


@pytest.mark.parametrize(
    "change", [{"model_type": "mpnet"}, {"num_hidden_layers": 7}], ids=["other-model-type", "fewer-fused"]
)
def test_a_graph_the_optimizer_cannot_fully_fuse_stays_plain(
    change, model_dir, plain_onnx_file, tmp_path, caplog
) -> None:
    other = tmp_path / "model"
    other.mkdir()
    config = json.loads((model_dir / "config.json").read_text())
    (other / "config.json").write_text(json.dumps(config | change))
    graph = shutil.copyfile(plain_onnx_file, tmp_path / "model.onnx")
    with caplog.at_level(logging.WARNING, logger=onnx_embedding.__name__):
        assert onnx_embedding._fuse_transformer_ops(other, graph) is False
    assert "serving the plain ONNX export" in caplog.text
    assert graph.read_bytes() == plain_onnx_file.read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model", "model.onnx"]


@pytest.mark.parametrize("kind", ["products", "queries"])
def test_same_vectors_as_sentence_transformers(kind, encoder, reference, product_texts) -> None:
    texts = product_texts if kind == "products" else QUERIES
    ours, theirs = encoder.encode(texts, batch_size=16), reference.embed_texts(texts)
    assert ours.shape == theirs.shape == (len(texts), encoder.dim) == (len(texts), reference.dim)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert cosines(ours, theirs).min() >= 0.9999


def test_order_is_kept_when_lengths_differ(encoder, product_texts) -> None:
    texts = [QUERIES[0], product_texts[0], "a", product_texts[1] * 3, QUERIES[5], "", product_texts[2][:40]]
    together = encoder.encode(texts, batch_size=3)
    alone = np.vstack([encoder.encode([text]) for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_long_text_is_truncated_not_an_error(encoder, reference, product_texts) -> None:
    long = " ".join(product_texts[:20])  # thousands of tokens, far past the 256 the model reads
    assert encoder.max_seq_length == 256
    ours = encoder.encode([long, long + " completely different words at the end"])
    assert cosines(ours[:1], ours[1:])[0] > 0.99999  # the tail past the limit is never read
    assert cosines(ours[:1], reference.embed_texts([long]))[0] >= 0.9999


def test_ranking_matches(encoder, reference, product_texts) -> None:
    candidates = product_texts[:12]
    for query in QUERIES[:4]:
        ours = encoder.encode(candidates) @ encoder.encode([query])[0]
        theirs = reference.embed_texts(candidates) @ reference.embed_texts([query])[0]
        assert list(np.argsort(-ours)[:5]) == list(np.argsort(-theirs)[:5])


def test_set_threads_rebuilds_the_session(encoder) -> None:
    before = encoder.encode(QUERIES)
    encoder.set_threads(1)
    try:
        np.testing.assert_allclose(encoder.encode(QUERIES), before, atol=1e-6)
    finally:
        encoder.set_threads(2)


def test_onnx_file_for_exports_once(model_dir, onnx_file, tmp_path, monkeypatch) -> None:
    exported: list[Path] = []

    def fake_export(source: Path, target: Path) -> Path:
        exported.append(target)
        target.write_bytes(onnx_file.read_bytes())
        return target

    monkeypatch.setattr(onnx_embedding, "export_onnx", fake_export)
    first = onnx_file_for(model_dir, tmp_path / "cache")
    mtime = first.stat().st_mtime_ns
    second = onnx_file_for(model_dir, tmp_path / "cache")
    assert (
        first == second == tmp_path / "cache" / f"{model_id(model_dir)}-g{onnx_embedding.GRAPH_FORMAT}.onnx"
    )
    assert exported == [first] and second.stat().st_mtime_ns == mtime
    OnnxEncoder(model_dir, second).encode(["still a working model"])


def test_an_export_cached_in_an_older_graph_format_is_not_reused(model_dir, tmp_path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    old = cache / f"{model_id(model_dir)}.onnx"  # where format 1, the plain graph, was cached
    old.write_bytes(b"a plain export")
    exported: list[Path] = []

    def fake_export(source: Path, target: Path) -> Path:
        exported.append(target)
        target.write_bytes(b"a fused export")
        return target

    monkeypatch.setattr(onnx_embedding, "export_onnx", fake_export)
    current = onnx_file_for(model_dir, cache)
    assert exported == [current] and current != old and current.read_bytes() == b"a fused export"


def test_refuses_models_without_mean_pooling(model_dir, onnx_file, tmp_path) -> None:
    other = tmp_path / "cls-model"
    (other / "1_Pooling").mkdir(parents=True)
    for name in ("config.json", "modules.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        (other / name).write_bytes((model_dir / name).read_bytes())
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    (other / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    with pytest.raises(ValueError, match="mean pooling"):
        OnnxEncoder(other, onnx_file)


# -- the int8 query graph -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def query_onnx_file(onnx_file: Path) -> Path:
    target = onnx_file.with_name("queries.onnx")
    assert onnx_quantize.quantize_for_queries(default_model_path(), onnx_file, target)
    return target


def test_the_int8_query_graph_keeps_the_first_layer_in_fp32_and_stays_near_the_fp32_vectors(
    model_dir, onnx_file, query_onnx_file, encoder, product_texts
) -> None:
    ops = op_counts(query_onnx_file)
    # every layer's attention but the first is an int8 one, and so are the dense layers after it
    assert ops["QAttention"] == layers(model_dir) - 1 and ops["Attention"] == 1
    assert ops["MatMulInteger"] == 3 * (layers(model_dir) - 1) and ops["MatMul"] == 3
    assert query_onnx_file.stat().st_size < 0.8 * onnx_file.stat().st_size
    int8 = OnnxEncoder(model_dir, query_onnx_file, threads=2)
    queries = int8.encode(QUERIES)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)
    assert cosines(queries, encoder.encode(QUERIES)).min() >= onnx_quantize.MIN_QUERY_COSINE
    # among fp32 product vectors every product's score moves by hundredths at most, so only near-ties
    # change places: fp32's best product is int8's first or second
    products = encoder.encode(product_texts)
    for query in QUERIES:
        ours, theirs = products @ int8.encode([query])[0], products @ encoder.encode([query])[0]
        assert np.abs(ours - theirs).max() < 0.03, query
        assert np.argmax(theirs) in np.argsort(-ours)[:2], query


def test_a_query_graph_that_strays_from_the_fp32_vectors_is_not_used(
    model_dir, onnx_file, tmp_path, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(onnx_quantize, "MIN_QUERY_COSINE", 0.99999)
    target = tmp_path / "queries.onnx"
    with caplog.at_level(logging.WARNING, logger=onnx_quantize.__name__):
        assert onnx_quantize.quantize_for_queries(model_dir, onnx_file, target) is False
    assert "queries are embedded in fp32: int8 vectors stray" in caplog.text
    assert list(tmp_path.iterdir()) == []  # nothing half-made left behind


def test_a_graph_without_fused_attention_gets_no_query_graph(
    model_dir, plain_onnx_file, tmp_path, caplog
) -> None:
    with caplog.at_level(logging.WARNING, logger=onnx_quantize.__name__):
        assert onnx_quantize.quantize_for_queries(model_dir, plain_onnx_file, tmp_path / "q.onnx") is False
    assert "no fused attention" in caplog.text and list(tmp_path.iterdir()) == []


def test_the_embedder_embeds_queries_in_int8_and_products_in_fp32_unless_told(
    model_dir, onnx_file, query_onnx_file, encoder, product_texts, tmp_path, monkeypatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    # the cache as the first start leaves it: the export and its query graph, under their names
    exported = shutil.copyfile(
        onnx_file, cache / f"{model_id(model_dir)}-g{onnx_embedding.GRAPH_FORMAT}.onnx"
    )
    shutil.copyfile(
        query_onnx_file, exported.with_name(f"{exported.stem}-q{onnx_quantize.QUERY_GRAPH_FORMAT}.onnx")
    )
    monkeypatch.setattr(embedder_module, "_onnx_encoders", {})  # this test's cache, not another test's
    int8 = Embedder(model_dir, cache_dir=cache)
    fp32 = Embedder(model_dir, cache_dir=cache, query_precision="fp32")
    assert (int8.query_precision, fp32.query_precision) == ("int8", "fp32")
    expected = OnnxEncoder(model_dir, query_onnx_file).encode(["blue running shoes"])[0]
    np.testing.assert_allclose(int8.embed_query("Blue  running shoes"), expected, atol=1e-6)
    np.testing.assert_allclose(
        fp32.embed_query("blue running shoes"), encoder.encode(["blue running shoes"])[0], atol=1e-5
    )
    products = [IndexedProduct(product_id=1, title="Trail running shoes", brand="Stridewell")]
    np.testing.assert_array_equal(int8.embed_products(products), fp32.embed_products(products))
    with pytest.raises(ValueError, match="query precision"):
        Embedder(model_dir, cache_dir=cache, query_precision="int4")


def test_without_a_query_graph_queries_are_embedded_in_fp32(
    model_dir, onnx_file, tmp_path, monkeypatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copyfile(onnx_file, cache / f"{model_id(model_dir)}-g{onnx_embedding.GRAPH_FORMAT}.onnx")
    monkeypatch.setattr(embedder_module, "_onnx_encoders", {})
    monkeypatch.setattr(onnx_quantize, "quantize_for_queries", lambda *args: False)  # e.g. it strayed
    embedder = Embedder(model_dir, cache_dir=cache)
    assert embedder.query_precision == "fp32"
    np.testing.assert_allclose(
        embedder.embed_query("dog bed"), OnnxEncoder(model_dir, onnx_file).encode(["dog bed"])[0], atol=1e-5
    )


def test_two_processes_quantising_the_same_graph_at_once_both_succeed(model_dir, onnx_file, tmp_path) -> None:
    # what several workers do on their first start over one cache dir
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    targets = [tmp_path / "first.onnx", tmp_path / "second.onnx"]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        made = list(pool.map(onnx_quantize.quantize_for_queries, [model_dir] * 2, [onnx_file] * 2, targets))
    assert made == [True, True]
    assert targets[0].read_bytes() == targets[1].read_bytes()
