"""The lexical (BM25) side of hybrid retrieval: an in-RAM tantivy index over the catalog.

Dense retrieval blurs brand names, model numbers, SKUs and GTINs; this index finds them exactly. It is
rebuilt from the catalog at start-up and kept in step by `upsert`/`remove` from the change feed; changes
become visible to `search` only after `commit`. Searches may run from many threads while one background
task writes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from operator import itemgetter

import tantivy

from ranking.documents import IndexedProduct, attribute_text
from ranking.fusion import QueryProfile, classify
from ranking.query_text import words as text_words

TEXT_ANALYZER = "agora_text"  # words made by ranking.query_text, lowercased, accents folded
PARTS_ANALYZER = "agora_parts"  # same split, no stemming: "1200x" must stay "1200x"
EXACT_ANALYZER = "agora_exact"  # whole whitespace-delimited ids, lowercased: "tr-1200x" as one token

# Per-field boosts. A typed SKU also scores its parts ("tr", "1200x") in titles (x3 each) and SKU parts
# (x2), so an accessory titled "Laces for TR 1200X" collects ~10 boost units without the id itself;
# the whole-id match must outweigh that, hence 10 rather than 5 (measured: 5 lost to the accessory).
TEXT_FIELDS = {"title": 3.0, "brand": 2.0, "category": 1.5, "attributes": 1.0, "description": 0.5}
PARTS_BOOST = 2.0
EXACT_BOOST = 10.0
# A query word no title has (28% of real shoppers' queries hold one, mostly misspelt) is also looked up as
# the title words within one edit (two for long words), at this share of a title match.
FUZZY_SHARE = 0.5
FUZZY_MIN_CHARS = 5

MAX_TOKEN_CHARS = 40  # longer "words" are noise (or an attack); tantivy's default analyzer drops them too
MAX_QUERY_TERMS = 32  # bounds the query tree a 5,000-character query can build
_TRIM = "\"'`()[]{}<>,;:.!?*+^~|\\/=&"  # punctuation around a typed id, not part of it


def _analyzer(tokenizer: tantivy.Tokenizer, fold: bool = False) -> tantivy.TextAnalyzer:
    builder = tantivy.TextAnalyzerBuilder(tokenizer).filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
    builder = builder.filter(tantivy.Filter.lowercase())
    if fold:
        builder = builder.filter(tantivy.Filter.ascii_fold())
    return builder.build()


def _normalised(text: str) -> str:
    """Text fields are indexed as ranking.query_text's words (measures, dimensions, model numbers, light
    plural fold), split on the spaces between them; queries go through the same function."""
    return " ".join(text_words(text)) if text else ""


def _exact_tokens(text: str) -> list[str]:
    """Whitespace chunks stripped of surrounding punctuation; only those with something alphanumeric."""
    chunks = (chunk.strip(_TRIM).lower() for chunk in text.split())
    return [c for c in chunks if c and len(c) <= MAX_TOKEN_CHARS and any(ch.isalnum() for ch in c)]


def _dedup(tokens: Iterable[str], limit: int) -> list[str]:
    return list(dict.fromkeys(tokens))[:limit]


class LexicalIndex:
    def __init__(self) -> None:
        builder = tantivy.SchemaBuilder()
        # i64, not u64: delete_documents_by_term turns a Python int into an i64 term, which silently
        # matches nothing in a u64 field (tantivy 0.27 bindings), so upserts would duplicate.
        builder.add_integer_field("product_id", stored=False, indexed=True, fast=True)
        # "freq" (no positions): we never run phrase queries, and it keeps the RAM index smaller.
        for name in TEXT_FIELDS:
            builder.add_text_field(name, tokenizer_name=TEXT_ANALYZER, index_option="freq")
        builder.add_text_field("sku_parts", tokenizer_name=PARTS_ANALYZER, index_option="freq")
        builder.add_text_field("sku_exact", tokenizer_name=EXACT_ANALYZER, index_option="freq")
        self._schema = builder.build()
        self._index = tantivy.Index(self._schema)  # no path: in RAM
        # Analyzers are registered on the index and kept here so queries are tokenized the same way.
        self._text = _analyzer(tantivy.Tokenizer.whitespace(), fold=True)
        self._parts = _analyzer(tantivy.Tokenizer.simple())
        self._exact = _analyzer(tantivy.Tokenizer.whitespace())
        self._index.register_tokenizer(TEXT_ANALYZER, self._text)
        self._index.register_tokenizer(PARTS_ANALYZER, self._parts)
        self._index.register_tokenizer(EXACT_ANALYZER, self._exact)
        # Manual reload: only commit() decides when readers see changes.
        self._index.config_reader(reload_policy="Manual")
        # One indexing thread: with several, which document lands in which segment depends on the threads'
        # timing, and tantivy orders equal scores by that position, so which of a tie makes the top k
        # differed from one process (or run) to the next over the same catalog. Building documents (in
        # Python) is most of the indexing time anyway: 100,000 products in 7.2 s against 5.1-5.6 s on two.
        self._writer = self._index.writer(heap_size=64_000_000, num_threads=1)
        self._lock = threading.Lock()
        self._searcher = self._index.searcher()

    def _document(self, product: IndexedProduct) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_integer("product_id", product.product_id)
        doc.add_text("title", _normalised(product.title))
        doc.add_text("brand", _normalised(product.brand))
        doc.add_text("category", _normalised(" ".join(product.category_parts)))
        doc.add_text(
            "attributes", _normalised(attribute_text(product.attributes)) if product.attributes else ""
        )
        doc.add_text("description", _normalised(product.description))
        for code in (product.external_id, product.gtin):
            if code:
                doc.add_text("sku_parts", code)
                # Trimmed exactly as queries are, so `"TR-1200X",` typed by a shopper still matches.
                doc.add_text("sku_exact", " ".join(_exact_tokens(code)))
        return doc

    def upsert(self, products: Iterable[IndexedProduct]) -> None:
        docs = [(p.product_id, self._document(p)) for p in products]  # build outside the lock
        with self._lock:
            for product_id, doc in docs:
                # A delete applies to every earlier add, so upserting one id twice before a commit
                # still leaves a single live document.
                self._writer.delete_documents_by_term("product_id", product_id)
                self._writer.add_document(doc)

    def remove(self, product_ids: Iterable[int]) -> None:
        ids = list(product_ids)
        with self._lock:
            for product_id in ids:
                self._writer.delete_documents_by_term("product_id", product_id)

    def commit(self) -> None:
        with self._lock:
            self._writer.commit()
            self._index.reload()
            # Searches in flight keep the old searcher, which stays valid on its own segment set.
            self._searcher = self._index.searcher()

    def __len__(self) -> int:
        with self._lock:
            searcher = self._searcher
        return searcher.num_docs

    def _build_query(self, text: str, searcher: tantivy.Searcher) -> tantivy.Query | None:
        # We build the query tree ourselves rather than feed shopper text to tantivy's query parser:
        # the parser gives meaning to + - : " ( ) ^ ~ * and AND/OR/NOT, so a SKU like "TR-1200X" would
        # turn into "TR but NOT 1200X", and escaping every operator is fragile. A flat OR (Occur.Should)
        # of boosted per-field term queries is plain BM25F-style scoring: every matched word adds its
        # field-weighted BM25, so documents matching more (and rarer) words rank first, and nothing the
        # shopper types can raise or silently switch to a match-nothing query.
        words = _dedup(self._text.analyze(_normalised(text)), MAX_QUERY_TERMS)
        parts = _dedup(self._parts.analyze(text), MAX_QUERY_TERMS)
        exact = _dedup(_exact_tokens(text), MAX_QUERY_TERMS)
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []

        def add(field: str, term: str, boost: float) -> None:
            query = tantivy.Query.term_query(self._schema, field, term, index_option="freq")
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(query, boost)))

        for word in words:
            for field, boost in TEXT_FIELDS.items():
                add(field, word, boost)
            if len(word) >= FUZZY_MIN_CHARS and word.isalpha() and not searcher.doc_freq("title", word):
                near = tantivy.Query.fuzzy_term_query(
                    self._schema, "title", word, distance=1 if len(word) < 8 else 2
                )
                clauses.append(
                    (
                        tantivy.Occur.Should,
                        tantivy.Query.boost_query(near, TEXT_FIELDS["title"] * FUZZY_SHARE),
                    )
                )
        for part in parts:
            add("sku_parts", part, PARTS_BOOST)
        for code in exact:
            add("sku_exact", code, EXACT_BOOST)
        return tantivy.Query.boolean_query(clauses) if clauses else None

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return self.search_profiled(query, k)[0]

    def search_profiled(self, query: str, k: int) -> tuple[list[tuple[int, float]], QueryProfile]:
        """The hits and what kind of query this is for this catalog (for fusion and the reranker)."""
        with self._lock:
            searcher = self._searcher
        return self._search(query, k, searcher), self._profile(query, searcher)

    def _profile(self, query: str, searcher: tantivy.Searcher) -> QueryProfile:
        words = _dedup(self._text.analyze(_normalised(query)), MAX_QUERY_TERMS)
        known = [any(searcher.doc_freq(field, word) for field in TEXT_FIELDS) for word in words]
        brand_only = bool(words) and len(words) <= 3 and all(searcher.doc_freq("brand", w) for w in words)
        return classify(_exact_tokens(query), sum(known) / len(known) if known else 1.0, brand_only)

    def _search(self, query: str, k: int, searcher: tantivy.Searcher) -> list[tuple[int, float]]:
        if k <= 0 or not query or not query.strip():
            return []
        built = self._build_query(query, searcher)
        if built is None:
            return []
        hits = searcher.search(built, limit=k, count=False).hits
        if not hits:
            return []
        ids = searcher.fast_field_values("product_id", [address for _, address in hits])
        found = [(int(pid), float(score)) for (score, _), pid in zip(hits, ids) if pid is not None]
        # Equal scores are common (titles alike in words and length), and tantivy orders them by where a
        # document sits in its segments, which can differ between processes that received the same
        # catalog changes in other batches: equal scores go by product id, so they rank alike. (Which of a
        # tie that spans the k-th place make the list can still differ then: settling that took 2 ms more
        # per search.)
        found.sort(key=itemgetter(0))
        found.sort(key=itemgetter(1), reverse=True)  # stable, reversed or not: ties stay in id order
        return found
