"""Build an index from a corpus: embed (or reuse) and BM25-index the answerable passages, then write atomically."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..encode.embed import TextEncoder
from ..ingest.context import in_context
from ..ingest.corpus import Corpus
from ..ingest.dedupe import duplicate_groups
from ..ingest.sentences import split_all
from ..records import Passage
from .index import BuiltParts, IndexManifest, write_index
from .lexical import Lexical
from .reuse import CONTEXTS, PASSAGES, SENTENCES, Previous, previous_vectors, text_hashes
from .sentences import SentenceTable

LOG = logging.getLogger(__name__)


def build_index(corpus: Corpus, encoder: TextEncoder, index_dir: Path, sources_path: Path,
                progress: bool = True, reuse: bool = True, index_kind: str = "auto",
                vectors_from: Path | None = None) -> IndexManifest:
    """Index every answerable passage and replace the index at `index_dir` only once the new one is complete.
    Passages whose indexed text the live build (or the one at `vectors_from`) already embedded with this model
    are not embedded again."""
    start = time.perf_counter()
    reuse_from = Path(vectors_from or index_dir) if reuse else None
    parts = build_parts(corpus, encoder, index_kind, progress,
                        lambda files: reuse_from and previous_vectors(reuse_from, encoder.identity, files))
    return write_index(corpus, parts, encoder.identity, index_dir, sources_path, time.perf_counter() - start)


def build_parts(corpus: Corpus, encoder: TextEncoder, index_kind: str, progress: bool,
                previous: Callable[[tuple[str, str]], Previous | None]) -> BuiltParts:
    """Embed (or take from `previous`, asked with PASSAGES, CONTEXTS or SENTENCES) and BM25-index the answerable
    passages, each also in its context, and their sentences, whichever store will hold them. Each document the
    corpus skipped is warned about here, once a build (the manifest keeps the list)."""
    for skipped in corpus.skipped:
        LOG.warning("skipped %s", skipped)
    passages = corpus.answerable()
    texts = index_texts(corpus, passages)
    hashes = text_hashes(texts)
    offsets, spans, sentences = split_all([p.text for p in passages])
    sentence_hashes = text_hashes(sentences)
    vectors, embedded = embed(texts, hashes, encoder, previous(PASSAGES), progress, "Embedding passages")
    contexts = in_context(passages, texts)
    context_hashes = text_hashes(contexts)
    context_vectors = vectors.copy()  # a passage first in its document, or long, is its own context
    framed = [i for i, (context, text) in enumerate(zip(contexts, texts, strict=True)) if context != text]
    context_vectors[framed], _ = embed([contexts[i] for i in framed], context_hashes[framed], encoder,
                                       previous(CONTEXTS), progress, "Embedding passages in context")
    sentence_vectors, _ = embed(sentences, sentence_hashes, encoder, previous(SENTENCES), progress,
                                "Embedding sentences")
    return BuiltParts(vectors, hashes, Lexical.build(texts), duplicate_groups(passages), embedded, index_kind,
                      SentenceTable(offsets, spans, sentence_vectors), sentence_hashes, texts,
                      context_vectors, context_hashes)


def embed(texts: list[str], hashes: np.ndarray, encoder: TextEncoder, previous: Previous | None,
          progress: bool, label: str) -> tuple[np.ndarray, int]:
    """Vectors for every text, taken from the live build where its text is unchanged; (vectors, how many new)."""
    found = previous.lookup(hashes) if previous else [None] * len(texts)
    missing = [i for i, row in enumerate(found) if row is None]
    dimension = previous.vectors.shape[1] if previous and previous.rows else encoder.dimension
    vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    for i, row in enumerate(found):
        if row is not None:
            vectors[i] = previous.vectors[row]
    with tqdm(total=len(missing), desc=label, unit="text", disable=not (progress and missing)) as bar:
        if missing:
            vectors[missing] = encoder.encode([texts[i] for i in missing], on_batch=bar.update)
    return vectors, len(missing)


def index_texts(corpus: Corpus, passages: list[Passage]) -> list[str]:
    """What is embedded and BM25-indexed for each passage: its text, led by the document's title when the
    passage is the document's whole body (an abstract, a note), since the title then speaks for it alone."""
    bodies: dict[str, int] = {}
    for passage in passages:
        bodies[passage.source_id] = bodies.get(passage.source_id, 0) + 1
    return [f"{corpus.sources[p.source_id].title} {p.text}"
            if bodies[p.source_id] == 1 and corpus.sources[p.source_id].title != p.source_id else p.text
            for p in passages]
