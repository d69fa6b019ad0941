"""Build an index from a corpus: embed the answerable passages, with a progress bar, and write them atomically."""

from __future__ import annotations

import time
from pathlib import Path

from tqdm import tqdm

from .corpus import Corpus
from .embed import Encoder
from .index import IndexManifest, write_index


def build_index(corpus: Corpus, encoder: Encoder, index_dir: Path, sources_path: Path,
                progress: bool = True) -> IndexManifest:
    """Embed every answerable passage and replace the index at `index_dir` only once the new one is complete."""
    start = time.perf_counter()
    texts = [p.text for p in corpus.answerable()]
    with tqdm(total=len(texts), desc="Embedding passages", unit="passage", disable=not progress) as bar:
        vectors = encoder.encode(texts, on_batch=bar.update)
    return write_index(corpus, vectors, encoder.identity, index_dir, sources_path, time.perf_counter() - start)
