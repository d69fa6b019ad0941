"""Reuse the live build's embeddings for passages whose indexed text is unchanged, so rebuilds embed only edits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..encode.embed import ModelIdentity, sha256_file
from ..errors import IndexProblem
from .index import CONTEXT_HASHES, CONTEXT_VECTORS, EMBEDDINGS, HASHES, read_manifest
from .sentences import SENTENCE_HASHES, SENTENCE_VECTORS
from .tokens import TOKEN_FILES, TOKEN_OFFSETS, TokenTable

DIGEST = np.dtype("S32")


def text_hashes(texts: list[str]) -> np.ndarray:
    return np.array([hashlib.sha256(text.encode("utf-8")).digest() for text in texts], dtype=DIGEST)


@dataclass(frozen=True)
class Previous:
    """The vectors of the live build, looked up by the hash of the text they embed."""

    rows: dict[bytes, int]
    vectors: np.ndarray
    tokens: TokenTable | None = None  # the passages' token vectors, when the build kept them (store/tokens.py)

    def lookup(self, hashes: np.ndarray) -> list[int | None]:
        return [self.rows.get(digest) for digest in hashes.tolist()]


NOTHING = Previous({}, np.zeros((0, 0), dtype=np.float32))
PASSAGES = (EMBEDDINGS, HASHES)  # the (vectors, hashes) files: passages, passages in context, sentences
CONTEXTS = (CONTEXT_VECTORS, CONTEXT_HASHES)
SENTENCES = (SENTENCE_VECTORS, SENTENCE_HASHES)


def previous_vectors(index_dir: Path, model: ModelIdentity, files: tuple[str, str] = PASSAGES) -> Previous:
    """What the live build can lend: nothing if there is none, it used another model, or its files are damaged
    (or were removed by a concurrent rebuild while being read)."""
    try:
        build, manifest = read_manifest(index_dir)
    except IndexProblem:
        return NOTHING
    kept = files == PASSAGES and TOKEN_OFFSETS in manifest.checksums  # its passages' token vectors too
    tokens = [name for name in TOKEN_FILES if name in manifest.checksums] if kept else []
    files = [build / name for name in (*files, *tokens)]
    if not model.same_vectors(manifest.model_sha256, manifest.model_backend):
        return NOTHING
    try:
        if not all(sha256_file(f) == manifest.checksums.get(f.name) for f in files):
            return NOTHING
        hashes = np.load(files[1])
        vectors = np.load(files[0], mmap_mode="r")
        tokens = TokenTable.load(build) if kept else None
    except (OSError, ValueError):
        return NOTHING
    if tokens is not None and tokens.count != len(hashes):
        tokens = None
    return Previous({digest: row for row, digest in enumerate(hashes.tolist())}, vectors, tokens)
