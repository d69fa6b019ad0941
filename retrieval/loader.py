"""Open the configured index with its model, building it on first use or rebuilding it when allowed."""

from __future__ import annotations

import logging
from pathlib import Path

from .config import RetrievalConfig
from .encode.embed import LazyEncoder, TextEncoder, load_encoder, resolve_model
from .encode.rerank import Reranker
from .errors import IndexMissing, IndexStale
from .ingest.corpus import Corpus, load_corpus
from .search.retriever import Retriever
from .store.build import build_index
from .store.index import CURRENT, IndexManifest, check_fresh, open_index, read_manifest

LOG = logging.getLogger(__name__)


def open_retriever(config: RetrievalConfig, *, sources: Path | None = None, index: Path | None = None,
                   rebuild: bool = False, progress: bool = True, encoder: TextEncoder | None = None) -> Retriever:
    """A ready Retriever for `index` (built from `sources`), or a RetrievalError that says what to do.
    Pass an already loaded `encoder` of the configured model to skip loading it again (a bot reloading)."""
    index_dir = Path(index or config.index)
    model = encoder.identity if encoder else resolve_model(config.model, config.model_sha256, config.backend)
    checked: tuple[Path, Corpus | None] | None = None  # the sources read to check the index, kept for a build
    try:
        _, manifest = read_manifest(index_dir)
        checked = current_corpus(sources, config.sources if index is None else None, manifest, config.max_file_mb,
                                 progress)
        check_fresh(manifest, model, checked[1], index_dir)
        needs_build = rebuild
    except (IndexMissing, IndexStale) as problem:
        allowed = rebuild or config.auto_build == "stale" or (
            isinstance(problem, IndexMissing) and config.auto_build == "missing")
        if not allowed:
            raise
        needs_build = True
        LOG.info("%s: building the index now", problem.args[0].split(";")[0])
    if needs_build:
        source_path = Path(sources or config.sources)
        corpus = (checked[1] if checked and checked[1] is not None and checked[0] == source_path
                  else load_corpus(source_path, config.max_file_mb, progress))
        encoder = encoder or load_encoder(model, config.batch_size, config.model_cache)
        build_index(corpus, encoder, index_dir, source_path, progress=progress, index_kind=config.index_type)
    reranker = Reranker.load(config.search.reranker) if config.search.reranker else None
    return Retriever(open_index(index_dir), encoder or load_encoder(model, config.batch_size, config.model_cache),
                     config.search, reranker)


def current_corpus(explicit: Path | None, configured: Path | None, manifest: IndexManifest,
                   max_file_mb: float, progress: bool = False) -> tuple[Path, Corpus | None]:
    """The sources to check the index against, and where they are: those named, else the ones it was built
    from, if still there (None when they are gone)."""
    path = explicit or configured or Path(manifest.sources_path)
    if not path.exists() and not (explicit or configured):
        LOG.warning("note: %s, which the index was built from, is gone; searching the index as it is", path)
        return path, None
    return path, load_corpus(path, max_file_mb, progress)


def build_from(config: RetrievalConfig, sources: Path, index: Path, progress: bool = True,
               reuse: bool = True) -> IndexManifest:
    """Read `sources` and (re)build the index at `index`, whatever is there now."""
    corpus = load_corpus(sources, config.max_file_mb, progress)
    model = resolve_model(config.model, config.model_sha256, config.backend)
    # With a live build to reuse, the model may not be needed at all; without one it surely is, and is
    # loaded first so that the build's own time (and passages per second) counts embedding, not loading.
    lazy = reuse and (Path(index) / CURRENT).exists()
    encoder = LazyEncoder(model, config.batch_size, config.model_cache) if lazy else load_encoder(
        model, config.batch_size, config.model_cache)
    return build_index(corpus, encoder, index, sources, progress=progress, reuse=reuse,
                       index_kind=config.index_type)
