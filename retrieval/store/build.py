"""Build an index from a prepared corpus (ingest/prepared.py): embed (or reuse) and BM25-index its answerable
passages, then write atomically."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..encode.embed import TextEncoder, TokenEncoder
from ..records import PreparedCorpus
from .index import BuiltParts, IndexManifest, write_index
from .lexical import Lexical
from .reuse import CONTEXTS, PASSAGES, SENTENCES, Previous, previous_vectors, text_hashes
from .sentences import SentenceTable
from .tokens import TokenTable, sentence_of_tokens

LOG = logging.getLogger(__name__)
# Passages embedded at a time while their token vectors are kept: each chunk's float32 token vectors are held
# until quantised (about 100 MB for 1,024 SciFact abstracts), and the budget is checked between chunks.
TOKENS_AT_ONCE = 1024


def build_index(corpus: PreparedCorpus, encoder: TextEncoder, index_dir: Path, sources_path: Path,
                progress: bool = True, reuse: bool = True, index_kind: str = "auto",
                vectors_from: Path | None = None, token_budget: int = 0) -> IndexManifest:
    """Index every answerable passage and replace the index at `index_dir` only once the new one is complete.
    Passages whose indexed text the live build (or the one at `vectors_from`) already embedded with this model
    are not embedded again. The passages' token vectors are kept while they take at most `token_budget` bytes."""
    start = time.perf_counter()
    reuse_from = Path(vectors_from or index_dir) if reuse else None
    parts = build_parts(corpus, encoder, index_kind, progress,
                        lambda files: reuse_from and previous_vectors(reuse_from, encoder.identity, files),
                        token_budget)
    return write_index(corpus, parts, encoder.identity, index_dir, sources_path,
                       corpus.seconds + time.perf_counter() - start)


def build_parts(corpus: PreparedCorpus, encoder: TextEncoder, index_kind: str, progress: bool,
                previous: Callable[[tuple[str, str]], Previous | None], token_budget: int = 0) -> BuiltParts:
    """Embed (or take from `previous`, asked with PASSAGES, CONTEXTS or SENTENCES) and BM25-index the answerable
    passages, each also in its context, and their sentences, whichever store will hold them; and keep the
    passages' token vectors while they fit `token_budget` bytes (0 for a store that keeps none)."""
    texts, contexts, sentences = corpus.texts, corpus.contexts, corpus.sentences
    hashes = text_hashes(texts)
    sentence_hashes = text_hashes(sentences)
    vectors, embedded, tokens = embed_passages(texts, hashes, encoder, previous(PASSAGES), progress,
                                               token_budget, sentence_starts(corpus))
    context_hashes = text_hashes(contexts)
    context_vectors = vectors.copy()  # a passage first in its document, or long, is its own context
    framed = [i for i, (context, text) in enumerate(zip(contexts, texts, strict=True)) if context != text]
    context_vectors[framed], _ = embed([contexts[i] for i in framed], context_hashes[framed], encoder,
                                       previous(CONTEXTS), progress, "Embedding passages in context")
    sentence_vectors, _ = embed(sentences, sentence_hashes, encoder, previous(SENTENCES), progress,
                                "Embedding sentences")
    return BuiltParts(vectors, hashes, Lexical.build(texts), corpus.duplicates, embedded, index_kind,
                      SentenceTable(corpus.sentence_offsets, corpus.sentence_spans, sentence_vectors),
                      sentence_hashes, texts, context_vectors, context_hashes, tokens)


def sentence_starts(corpus: PreparedCorpus) -> list[tuple[np.ndarray, int]]:
    """Each row's sentences' first characters in its passage's text, and where that text begins in the row's
    indexed text (after a title it is led by)."""
    at, spans = corpus.sentence_offsets, corpus.sentence_spans
    return [(spans[at[row]:at[row + 1], 0].astype(np.int64), len(text) - len(passage.text))
            for row, (text, passage) in enumerate(zip(corpus.texts, corpus.answerable, strict=True))]


def embed_passages(texts: list[str], hashes: np.ndarray, encoder: TextEncoder, previous: Previous | None,
                   progress: bool, budget: int, starts: list[tuple[np.ndarray, int]],
                   ) -> tuple[np.ndarray, int, TokenTable | None]:
    """The passages' vectors as `embed` gives them, and their token vectors from the same model runs while they
    fit `budget` bytes (store/tokens.py; None beyond it, for 0, or when the encoder gives none), with each word
    piece's sentence (`starts`: sentence_starts). A passage's vector is reused from the live build only with its
    token vectors, where the build kept them."""
    if budget <= 0 or not isinstance(encoder, TokenEncoder):
        vectors, embedded = embed(texts, hashes, encoder, previous, progress, "Embedding passages")
        return vectors, embedded, None
    reusable = previous if previous and previous.tokens is not None else None
    vectors, found, missing = reused(hashes, encoder, reusable)
    pieces: list[np.ndarray | None] = [None] * len(texts)
    sentences: list[np.ndarray | None] = [None] * len(texts)
    for i, row in enumerate(found):
        if row is not None:
            (pieces[i],) = reusable.tokens.rows([row])
            (sentences[i],) = reusable.tokens.sentences_of([row])
    stored = sum(TokenTable.size(each) for each in pieces if each is not None)
    with tqdm(total=len(missing), desc="Embedding passages", unit="text", disable=not (progress and missing)) as bar:
        for start in range(0, len(missing), TOKENS_AT_ONCE):
            chunk = missing[start:start + TOKENS_AT_ONCE]
            keeping = stored <= budget  # past the budget, the rest are embedded without
            vectors[chunk], tokens = encoder.encode_with_tokens([texts[i] for i in chunk], bar.update, keeping)
            for i, each in zip(chunk, tokens if keeping else [], strict=keeping):
                pieces[i] = each
                stored += TokenTable.size(each)
    if stored > budget:
        LOG.warning("the passages' token vectors would take more than `token_vectors_mb` (%.0f MB): none are kept, "
                    "and late interaction reads each question's first passages with the model (100-200 ms a "
                    "question); raise token_vectors_mb in [retrieval] and build again to keep them", budget / 2**20)
        return vectors, len(missing), None
    unread = [i for i, each in enumerate(sentences) if each is None]  # new, or kept by a build without them
    for i, offsets in zip(unread, encoder.token_offsets([texts[i] for i in unread]) if unread else [], strict=True):
        sentences[i] = sentence_of_tokens(offsets, *starts[i])
    return vectors, len(missing), TokenTable.of(pieces, sentences)


def embed(texts: list[str], hashes: np.ndarray, encoder: TextEncoder, previous: Previous | None,
          progress: bool, label: str) -> tuple[np.ndarray, int]:
    """Vectors for every text, taken from the live build where its text is unchanged; (vectors, how many new)."""
    vectors, _, missing = reused(hashes, encoder, previous)
    with tqdm(total=len(missing), desc=label, unit="text", disable=not (progress and missing)) as bar:
        if missing:
            vectors[missing] = encoder.encode([texts[i] for i in missing], on_batch=bar.update)
    return vectors, len(missing)


def reused(hashes: np.ndarray, encoder: TextEncoder, previous: Previous | None,
           ) -> tuple[np.ndarray, list[int | None], list[int]]:
    """The vectors the live build lends, by the hash of each text (zero where it has none), each text's row in it
    (None when it has none), and the texts to embed. The model is not loaded when every text is lent (a file
    removed)."""
    found = previous.lookup(hashes) if previous else [None] * len(hashes)
    dimension = previous.vectors.shape[1] if previous and previous.rows else encoder.dimension
    vectors = np.zeros((len(hashes), dimension), dtype=np.float32)
    for i, row in enumerate(found):
        if row is not None:
            vectors[i] = previous.vectors[row]
    return vectors, found, [i for i, row in enumerate(found) if row is None]
