"""Find passages that appear, verbatim or nearly, in several sources, so each is shown once with every citation:
passages in, groups of their positions out. Near-linear: MinHash signatures banded into buckets (locality-sensitive
hashing) propose the pairs worth comparing, and only those are compared, exactly, at most a bounded number."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

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

# Locality-sensitive hashing: a band is ROWS MinHash values, and a pair of Jaccard s agrees on one with chance
# s**ROWS, so one of BANDS bands proposes it with chance 1 - (1 - s**ROWS)**BANDS: 0.99996 at 0.6 (a pair at the
# threshold is missed about 4 times in 100,000), 0.68 at 0.3, 0.04 at 0.1 (unrelated prose is seldom proposed).
ROWS = 3
BANDS = 42
PERMUTATIONS = ROWS * BANDS
SEED = 1  # datasketch's default; fixed, so that a corpus groups the same way in every build
# In a band's bucket, ordered by position, each member is paired with the next WINDOW members only: a bucket of
# thousands (texts that share most of their words, a tiny vocabulary) proposes WINDOW pairs a member, not all of
# them. Near copies still join as a chain, and meet again in the other bands they share.
WINDOW = 4
# A proposed pair is compared exactly only when its signatures agree on at least threshold - ESTIMATE_MARGIN of
# the permutations: the estimate's standard deviation at 0.6 over 126 permutations is 0.044, so 0.2 (4.5 of them)
# drops a pair at the threshold with a chance under 1 in 100,000, and drops the unrelated pairs a bucket proposes.
ESTIMATE_MARGIN = 0.2
# Exact comparisons allowed per distinct passage, the likeliest pairs first: text built so that every pair is
# alike but not alike enough (each paragraph 60% the same) stops here, not after n * n comparisons. Prose uses a
# small part of it: 823 comparisons for 16,000 passages with 5% near copies (benchmarks/near_duplicates.py).
COMPARISONS_PER_PASSAGE = 8
CHUNK_PAIRS = 65_536  # pairs whose signatures are compared at once: 2 x 32 MB of signature rows


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


@dataclass(frozen=True)
class Grouping:
    """Duplicate groups, and what finding them took."""

    groups: list[list[int]]  # positions in the passages given, each group of 2 or more
    compared: int  # pairs compared exactly
    undecided: int  # likely pairs left uncompared once COMPARISONS_PER_PASSAGE was spent (0: every one decided)


def duplicate_groups(passages: list[Passage], threshold: float = DUPLICATE_JACCARD) -> list[list[int]]:
    """Groups (of 2 or more positions in `passages`) whose texts are near-identical across sources."""
    return find_duplicates(passages, threshold).groups


def find_duplicates(passages: list[Passage], threshold: float = DUPLICATE_JACCARD) -> Grouping:
    """Duplicate groups, found in near-linear time and memory.

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
    firsts = [sets[rows[0]] for rows in copies]
    budget = COMPARISONS_PER_PASSAGE * len(copies)
    compared = undecided = 0
    lefts, rights = candidate_pairs(firsts, threshold)
    for a, b in zip(lefts.tolist(), rights.tolist(), strict=True):  # Python ints: numpy's are slow to index with
        if len(sources[a] | sources[b]) == 1 or root(copies[a][0]) == root(copies[b][0]):
            continue  # both in one source alone, or already one group: comparing them changes nothing
        if compared == budget:
            undecided += 1
            continue
        compared += 1
        if jaccard(firsts[a], firsts[b]) >= threshold:
            join(a)
            join(b)
            parent[root(copies[b][0])] = root(copies[a][0])
    groups: dict[int, list[int]] = defaultdict(list)
    for row in range(len(passages)):
        groups[root(row)].append(row)
    return Grouping([rows for rows in groups.values() if len(rows) > 1], compared, undecided)


def exact_copies(sets: list[np.ndarray]) -> list[list[int]]:
    """Positions grouped by identical shingle sets (empty sets left out: they match nothing)."""
    copies: dict[bytes, list[int]] = defaultdict(list)
    for row, codes in enumerate(sets):
        if len(codes):
            copies[codes.tobytes()].append(row)
    return list(copies.values())


def signatures(sets: list[np.ndarray]) -> np.ndarray:
    """Each set's MinHash signature: one row of PERMUTATIONS uint32 values (datasketch's "affine32" scheme, which
    mixes each input with MurmurHash3's finalizer, so the shingle codes folded to 32 bits go in as they are)."""
    minhash = MinHash(num_perm=PERMUTATIONS, seed=SEED, hashfunc=int, scheme="affine32")
    signature = np.empty((len(sets), PERMUTATIONS), dtype=np.uint32)
    for row, codes in enumerate(sets):
        minhash.clear()  # one sketch reused: a copy per set took half the time
        minhash.update_batch(((codes ^ (codes >> 32)) & 0xFFFFFFFF).tolist())
        signature[row] = minhash.hashvalues
    return signature


def candidate_pairs(sets: list[np.ndarray], threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (a, b), a < b, worth comparing exactly: proposed by a shared band, close enough in size to reach
    `threshold`, and with signatures that agree nearly as often as the threshold asks; likeliest first."""
    if len(sets) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    signature = signatures(sets)
    sizes = np.array([len(s) for s in sets], dtype=np.int64)
    least = math.ceil((threshold - ESTIMATE_MARGIN) * PERMUTATIONS)
    kept_codes, kept_agreement = [], []
    for band in range(BANDS):
        key = band_keys(signature[:, band * ROWS:(band + 1) * ROWS])
        order = np.argsort(key, kind="stable")  # by key, then by position
        ordered = key[order]
        for step in range(1, WINDOW + 1):
            same = ordered[step:] == ordered[:-step]
            a, b = order[:-step][same], order[step:][same]
            small, large = np.minimum(sizes[a], sizes[b]), np.maximum(sizes[a], sizes[b])
            near_size = small >= threshold * large  # sizes too far apart cannot reach the threshold
            a, b = np.minimum(a, b)[near_size], np.maximum(a, b)[near_size]
            agreement = agreements(signature, a, b)
            alike = agreement >= least
            kept_codes.append(a[alike] * len(sets) + b[alike])
            kept_agreement.append(agreement[alike])
    codes, first = np.unique(np.concatenate(kept_codes), return_index=True)
    agreement = np.concatenate(kept_agreement)[first]
    codes = codes[np.lexsort((codes, -agreement))]
    return codes // len(sets), codes % len(sets)


def band_keys(band: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of a band's ROWS values (a collision only proposes a pair, which is then checked)."""
    key = np.zeros(len(band), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in band.T:
            key = key * MIX.astype(np.uint64) + column.astype(np.uint64)
    return key


def agreements(signature: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many of the permutations each pair's signatures agree on (their estimated Jaccard, times PERMUTATIONS)."""
    counts = np.zeros(len(a), dtype=np.int16)  # at most PERMUTATIONS; kept for every proposed pair
    for start in range(0, len(a), CHUNK_PAIRS):
        end = start + CHUNK_PAIRS
        counts[start:end] = np.count_nonzero(signature[a[start:end]] == signature[b[start:end]], axis=1)
    return counts
