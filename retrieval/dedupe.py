"""Find passages that appear, verbatim or nearly, in several sources, so each is shown once with every citation."""

from __future__ import annotations

import re
from collections import defaultdict

from .records import Passage

SHINGLE_WORDS = 3
# Jaccard similarity of word 3-shingles at or above which two passages count as the same text. Measured on
# the seeds: the two interview paragraphs copied into Robert Park's column score 1.0 (only punctuation and a
# closing quote differ, and those are ignored); the closest pair that is not a copy, where one paragraph
# quotes two sentences of the other, scores 0.27. See tests/retrieval/test_dedupe.py.
DUPLICATE_JACCARD = 0.6
WORD = re.compile(r"\w+")


def shingles(text: str) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def duplicate_groups(passages: list[Passage], threshold: float = DUPLICATE_JACCARD) -> list[list[int]]:
    """Groups (of 2 or more positions in `passages`) whose texts are near-identical across sources."""
    sets = [shingles(p.text) for p in passages]
    holders: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for row, shingle_set in enumerate(sets):
        for shingle in shingle_set:
            holders[shingle].append(row)
    parent = list(range(len(passages)))

    def root(row: int) -> int:
        while parent[row] != row:
            parent[row] = parent[parent[row]]
            row = parent[row]
        return row

    compared: set[tuple[int, int]] = set()
    for rows in holders.values():
        if len(rows) > 50:  # a phrase this common says nothing about copying
            continue
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if (a, b) in compared or passages[a].source_id == passages[b].source_id:
                    continue
                compared.add((a, b))
                if jaccard(sets[a], sets[b]) >= threshold:
                    parent[root(b)] = root(a)
    groups: dict[int, list[int]] = defaultdict(list)
    for row in range(len(passages)):
        groups[root(row)].append(row)
    return [rows for rows in groups.values() if len(rows) > 1]
