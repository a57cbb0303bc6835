"""The ONNX Runtime encoder gives the same vectors as sentence-transformers, and its export is cached."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from market.demo_catalog import generate_products
from ranking import onnx_embedding
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


def test_export_takes_token_ids_and_gives_token_embeddings(onnx_file: Path) -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    assert {i.name for i in session.get_inputs()} == {"input_ids", "attention_mask", "token_type_ids"}
    assert [o.name for o in session.get_outputs()] == ["last_hidden_state"]
    assert not list(onnx_file.parent.glob(".*.tmp"))  # the temporary file was renamed, not left behind


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
    assert first == second == tmp_path / "cache" / f"{model_id(model_dir)}.onnx"
    assert exported == [first] and second.stat().st_mtime_ns == mtime
    OnnxEncoder(model_dir, second).encode(["still a working model"])


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
