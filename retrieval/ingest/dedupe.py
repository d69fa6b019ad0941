"""Find passages that appear, verbatim or nearly, in several sources, so each is shown once with every citation."""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import combinations

import numpy as np

from ..records import Passage

SHINGLE_WORDS = 3
# Jaccard similarity of word 3-shingles at or above which two passages count as the same text. Measured on
# the seeds: the two interview paragraphs copied into Robert Park's column score 1.0 (only punctuation and a
# closing quote differ, and those are ignored); the closest pair that is not a copy, where one paragraph
# quotes two sentences of the other, scores 0.27. See tests/retrieval/search/test_quality.py.
DUPLICATE_JACCARD = 0.6
WORD = re.compile(r"\w+")
PAD = -1  # stands for the missing words of a text shorter than one shingle
MIX = np.int64(0x9E3779B97F4A7C15 - (1 << 64))  # odd 64-bit multiplier; products wrap, which is what hashing wants


class Shingler:
    """Turns texts into sorted arrays of 64-bit codes, one per distinct run of SHINGLE_WORDS lowercased words."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}

    def __call__(self, text: str) -> np.ndarray:
        words = [self.vocabulary.setdefault(w, len(self.vocabulary)) for w in WORD.findall(text.lower())]
        if not words:
            return np.zeros(0, dtype=np.int64)
        ids = np.array(words + [PAD] * max(0, SHINGLE_WORDS - len(words)), dtype=np.int64)
        codes = ids[:len(ids) - SHINGLE_WORDS + 1].copy()
        with np.errstate(over="ignore"):
            for offset in range(1, SHINGLE_WORDS):
                codes = codes * MIX + ids[offset:len(ids) - SHINGLE_WORDS + 1 + offset]
        return np.unique(codes)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of distinct codes."""
    if not len(a) or not len(b):
        return 0.0
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared / (len(a) + len(b) - shared)


def similarity(a: str, b: str) -> float:
    """How alike two texts are, as duplicate grouping sees it: Jaccard similarity of their word 3-shingles."""
    shingler = Shingler()
    return jaccard(shingler(a), shingler(b))


def duplicate_groups(passages: list[Passage], threshold: float = DUPLICATE_JACCARD) -> list[list[int]]:
    """Groups (of 2 or more positions in `passages`) whose texts are near-identical across sources.

    Exact copies (the same shingles) are grouped first and only one of each is compared for near copies, so a
    paragraph repeated in thousands of files costs one comparison, not millions."""
    shingler = Shingler()
    sets = [shingler(p.text) for p in passages]
    copies = exact_copies(sets)
    sources = [{passages[row].source_id for row in rows} for rows in copies]
    parent = list(range(len(passages)))

    def root(row: int) -> int:
        while parent[row] != row:
            parent[row] = parent[parent[row]]
            row = parent[row]
        return row

    # Copies in one source alone are not duplicates; once one of them matches a copy in another source,
    # every one of them does, so a set of copies is either joined whole or not at all.
    joined = [False] * len(copies)

    def join(group: int) -> None:
        if not joined[group]:
            joined[group] = True
            for row in copies[group][1:]:
                parent[root(row)] = root(copies[group][0])

    for group, held in enumerate(sources):
        if len(held) > 1:
            join(group)
    for a, b in candidate_pairs([sets[rows[0]] for rows in copies], threshold):
        if len(sources[a] | sources[b]) > 1 and jaccard(sets[copies[a][0]], sets[copies[b][0]]) >= threshold:
            join(a)
            join(b)
            parent[root(copies[b][0])] = root(copies[a][0])
    groups: dict[int, list[int]] = defaultdict(list)
    for row in range(len(passages)):
        groups[root(row)].append(row)
    return [rows for rows in groups.values() if len(rows) > 1]


def exact_copies(sets: list[np.ndarray]) -> list[list[int]]:
    """Positions grouped by identical shingle sets (empty sets left out: they match nothing)."""
    copies: dict[bytes, list[int]] = defaultdict(list)
    for row, codes in enumerate(sets):
        if len(codes):
            copies[codes.tobytes()].append(row)
    return list(copies.values())


def candidate_pairs(sets: list[np.ndarray], threshold: float) -> set[tuple[int, int]]:
    """Every pair that could reach `threshold`, found by prefix filtering: with each set ordered rarest code
    first (one order for all), two sets with Jaccard >= t share one of the first |x| - ceil(t|x|) + 1 codes
    of each. Exact, and it never compares the many pairs that merely share a common phrase."""
    sizes = np.array([len(s) for s in sets], dtype=np.int64)
    if not sizes.sum():
        return set()
    owner = np.repeat(np.arange(len(sets)), sizes)
    _, code, frequency = np.unique(np.concatenate(sets), return_inverse=True, return_counts=True)
    order = np.lexsort((code, frequency[code], owner))  # by owner, then rarest first, ties by code
    place = np.arange(len(order)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    in_prefix = place < np.repeat(sizes - np.ceil(threshold * sizes).astype(np.int64) + 1, sizes)
    prefix_code, prefix_owner = code[order][in_prefix], owner[order][in_prefix]
    by_code = np.argsort(prefix_code, kind="stable")
    prefix_code, prefix_owner = prefix_code[by_code], prefix_owner[by_code]
    starts = np.flatnonzero(np.diff(prefix_code, prepend=-1))
    pairs: set[tuple[int, int]] = set()
    for start, end in zip(starts, [*starts[1:], len(prefix_code)], strict=True):
        if end - start < 2:
            continue
        for a, b in combinations(prefix_owner[start:end].tolist(), 2):
            small, large = sorted((sizes[a], sizes[b]))
            if small >= threshold * large:  # sizes too far apart cannot reach the threshold
                pairs.add((min(a, b), max(a, b)))
    return pairs
