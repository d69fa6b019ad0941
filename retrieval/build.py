"""Build an index from a corpus: embed and BM25-index the answerable passages, then write them atomically."""

from __future__ import annotations

import time
from pathlib import Path

from tqdm import tqdm

from .corpus import Corpus
from .dedupe import duplicate_groups
from .embed import Encoder
from .index import BuiltParts, IndexManifest, write_index
from .lexical import Lexical
from .records import Passage


def build_index(corpus: Corpus, encoder: Encoder, index_dir: Path, sources_path: Path,
                progress: bool = True) -> IndexManifest:
    """Index every answerable passage and replace the index at `index_dir` only once the new one is complete."""
    start = time.perf_counter()
    passages = corpus.answerable()
    texts = index_texts(corpus, passages)
    with tqdm(total=len(texts), desc="Embedding passages", unit="passage", disable=not progress) as bar:
        vectors = encoder.encode(texts, on_batch=bar.update)
    parts = BuiltParts(vectors, Lexical.build(texts), duplicate_groups(passages))
    return write_index(corpus, parts, encoder.identity, index_dir, sources_path, time.perf_counter() - start)


def index_texts(corpus: Corpus, passages: list[Passage]) -> list[str]:
    """What is embedded and BM25-indexed for each passage: its text, led by the document's title when the
    passage is the document's whole body (an abstract, a note), since the title then speaks for it alone."""
    bodies: dict[str, int] = {}
    for passage in passages:
        bodies[passage.source_id] = bodies.get(passage.source_id, 0) + 1
    return [f"{corpus.sources[p.source_id].title} {p.text}"
            if bodies[p.source_id] == 1 and corpus.sources[p.source_id].title != p.source_id else p.text
            for p in passages]
