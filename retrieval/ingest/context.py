"""Passages → each read in its context: the end of the paragraph before it in its document, then the passage, so a
paragraph that says "their team" or "the tour" is also embedded beside the words that say whose team or which tour.
An index keeps one such vector per passage beside the passage's own (store/build.py)."""

from __future__ import annotations

from ..records import Passage

# Words of the passage and of its context together. The model reads 256 word pieces (all-MiniLM-L6-v2's
# max_seq_length) and English runs about 1.3 pieces a word, so 180 words are read whole; the passage is never cut
# for its context. Chosen on the development sets (BENCHMARKS.md, "Passages in context"): 140 and 180 ranked the
# seeds alike, 180 kept SQuAD's top 1.
CONTEXT_WORDS = 180
# ...of which the words before it are at most this many times the passage's own: the context frames a passage and
# does not speak for it (a one-line paragraph read after all of a long one matched what the long one says, and
# outranked it). At 2 and 3 the development sets ranked as with no such limit; at 1 one seeds question fell out
# of the top 1 (BENCHMARKS.md, "Passages in context").
CONTEXT_SHARE = 2


def in_context(passages: list[Passage], texts: list[str]) -> list[str]:
    """For each of `passages` (answerable, in document order) with its indexed text, that text led by as many of
    the last words of the passage before it in the same document as fit in CONTEXT_WORDS, up to CONTEXT_SHARE
    times its own; the indexed text alone when it is the first of its document, or fills the words by itself."""
    contexts = []
    for at, (passage, text) in enumerate(zip(passages, texts, strict=True)):
        before = passages[at - 1] if at else None
        own = len(text.split())
        room = min(CONTEXT_WORDS - own, CONTEXT_SHARE * own)
        if before is None or before.source_id != passage.source_id or room <= 0:
            contexts.append(text)
        else:
            contexts.append(" ".join([*before.text.split()[-room:], text]))
    return contexts
