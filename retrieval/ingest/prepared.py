"""A corpus → the PreparedCorpus an index is built from: each answerable passage's indexed text, that text in its
context, its sentences, and the near-duplicate groups, so the store (store/build.py) never reads documents."""

from __future__ import annotations

import logging
import time

from ..errors import RetrievalError
from ..records import Passage, PreparedCorpus
from ..settings import DEFAULT_READING, ReadSettings
from .context import in_context
from .corpus import Corpus
from .dedupe import COMPARISONS_PER_PASSAGE
from .reader_process import group_bounded
from .sentences import split_all

LOG = logging.getLogger(__name__)


def prepare(corpus: Corpus, reading: ReadSettings = DEFAULT_READING) -> PreparedCorpus:
    """What a build of `corpus` indexes, near-duplicates found within `reading`'s bounds. Each document the
    corpus skipped is warned about here, once a build (the manifest keeps the list)."""
    start = time.perf_counter()
    for skipped in corpus.skipped:
        LOG.warning("skipped %s", skipped)
    passages = corpus.answerable()
    texts = index_texts(corpus, passages)
    offsets, spans, sentences = split_all([p.text for p in passages])
    return PreparedCorpus(corpus.sources, corpus.passages, corpus.fingerprint,
                          [s.to_dict() for s in corpus.skipped], passages, texts, in_context(passages, texts),
                          offsets, spans, sentences, near_duplicates(passages, reading),
                          time.perf_counter() - start)


def near_duplicates(passages: list[Passage], reading: ReadSettings) -> list[list[int]]:
    """The passages' near-duplicate groups, found in a worker process within `reading`'s bounds (never in this
    one, which may be the bot's); none when the search meets a bound: each copy is then shown on its own."""
    try:
        grouping = group_bounded(passages, reading)
    except RetrievalError as error:
        LOG.warning("%s; this build groups no near-duplicates: a passage in several sources is shown once for "
                    "each", error)
        return []
    if grouping.undecided:
        LOG.warning("near-duplicate search: %d likely pairs were left unchecked after %d comparisons (%d a passage "
                    "at most); some near copies may be shown once for each source", grouping.undecided,
                    grouping.compared, COMPARISONS_PER_PASSAGE)
    return grouping.groups


def index_texts(corpus: Corpus, passages: list[Passage]) -> list[str]:
    """What is embedded and BM25-indexed for each passage (Source.indexed_text)."""
    bodies: dict[str, int] = {}
    for passage in passages:
        bodies[passage.source_id] = bodies.get(passage.source_id, 0) + 1
    return [corpus.sources[p.source_id].indexed_text(p.text, bodies[p.source_id]) for p in passages]
