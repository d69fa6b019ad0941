"""Open the configured index with its model, building it on first use or rebuilding it when allowed."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from .config import RetrievalConfig
from .encode.embed import LazyEncoder, TextEncoder, load_encoder, resolve_model
from .encode.rerank import Reranker
from .errors import IndexMissing, IndexStale
from .ingest.corpus import Corpus, load_corpus
from .ingest.prepared import prepare
from .search.retriever import Retriever
from .store.index import IndexManifest, check_fresh
from .store.places import FaissFolder, IndexPlace, place_of

LOG = logging.getLogger(__name__)


def open_retriever(config: RetrievalConfig, *, sources: Path | None = None, index: Path | None = None,
                   rebuild: bool = False, progress: bool = True, encoder: TextEncoder | None = None) -> Retriever:
    """A ready Retriever for the configured index (or the FAISS folder `index`), built first when the config's
    `auto_build` (or `rebuild`) allows. An index answers from the sources it was built from (`build ../mydocs`, then
    any read); `sources`, when given, are the ones it must hold. The config's `sources` are what a first build
    reads. Pass an already loaded `encoder` of the configured model to skip loading it again (a bot reloading).

    Raises, each a RetrievalError whose message says what to do: IndexMissing or IndexStale when the index is not
    there or not current and may not be built; IndexCorrupt when its files are damaged; SourceError when the sources
    cannot be read; ConfigError for a bad `reranker` folder; RetrievalError when the model folder is missing or is
    not the expected model."""
    place = place_of(config, index)
    model = encoder.identity if encoder else resolve_model(config.model, config.model_sha256, config.backend)
    checked: tuple[Path, Corpus | None] | None = None  # the sources read to check the index, kept for a build
    try:
        manifest = place.manifest()
        checked = current_corpus(sources, manifest, config, progress)
        check_fresh(manifest, model, checked[1] and checked[1].fingerprint, place, checked[0])
        needs_build = rebuild
        if rebuild:
            LOG.info("rebuilding the index at %s from %s", place, sources or checked[0])
    except (IndexMissing, IndexStale) as problem:
        allowed = rebuild or config.auto_build == "stale" or (
            isinstance(problem, IndexMissing) and config.auto_build == "missing")
        if not allowed:
            raise
        needs_build = True
        LOG.info("%s: building the index now", problem.args[0].split(";")[0])
    if needs_build:
        # the sources named, else those the index was built from (while they are there), else the configured ones
        source_path = sources or (checked[0] if checked and checked[1] is not None else config.sources)
        corpus = (checked[1] if checked and checked[1] is not None and checked[0] == source_path
                  else load_corpus(source_path, config.max_file_mb, progress, config.reading))
        encoder = encoder or load_encoder(model, config.batch_size, config.model_cache)
        place.build(prepare(corpus, config.reading), encoder, source_path, progress=progress,
                    index_type=config.index_type)
    if sources is None and index is None:
        note_other_folder(place, config)
    reranker = Reranker.load(config.search.reranker) if config.search.reranker else None
    return Retriever(place.open(), encoder or load_encoder(model, config.batch_size, config.model_cache),
                     config.search, reranker)


def note_other_folder(place: IndexPlace, config: RetrievalConfig) -> None:
    """Say so when the configured index answers from another folder than the configured `sources` (after
    `build mydocs`, say), and how to go back: otherwise answers from elsewhere come with no hint."""
    built_from = Path(place.manifest().sources_path)
    if not same_folder(built_from, config.sources):
        LOG.warning("note: answering from %s, which the index at %s was built from, not from the configured "
                    "sources %s; `python -m retrieval build %s` goes back to them", shown(built_from), place,
                    config.sources, config.sources)


def same_folder(one: Path, other: Path) -> bool:
    return one.resolve() == other.resolve()


def shown(path: Path) -> str:
    """A folder as the user is likely to have named it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def current_corpus(wanted: Path | None, manifest: IndexManifest, config: RetrievalConfig,
                   progress: bool = False) -> tuple[Path, Corpus | None]:
    """The sources to check the index against, and where they are: those wanted, else the ones it was built
    from, if still there (None when they are gone)."""
    path = Path(wanted or manifest.sources_path)
    if not path.exists() and not wanted:
        LOG.warning("note: %s, which the index was built from, is gone; searching the index as it is", path)
        return path, None
    return path, load_corpus(path, config.max_file_mb, progress, config.reading)


def build_from(config: RetrievalConfig, sources: Path, index: Path | None = None, progress: bool = True,
               reuse: bool = True, vectors_from: Path | None = None) -> IndexManifest:
    """Read `sources` and (re)build the configured index (or the FAISS folder `index`), whatever is there now;
    a first build takes what vectors it can from the FAISS index at `vectors_from`."""
    if vectors_from is not None and not FaissFolder(Path(vectors_from)).has_build():
        raise IndexMissing(f"no FAISS index at {vectors_from} to take vectors from; give the folder of one "
                           "(config's `index`, default index/)")
    place = place_of(config, index)
    if not place.has_build():
        with contextlib.suppress(IndexMissing):  # nothing built there yet is fine; a folder of other files
            place.manifest()                     # (`--index seeds`) is refused here, before any reading
    if place.has_build():
        replaced = Path(place.manifest().sources_path)
        if not same_folder(replaced, Path(sources)):
            LOG.warning("note: the index at %s holds %s; this build replaces it with %s (`python -m retrieval build "
                        "%s` goes back)", place, shown(replaced), sources, shown(replaced))
    corpus = load_corpus(sources, config.max_file_mb, progress, config.reading)
    model = resolve_model(config.model, config.model_sha256, config.backend)
    # With a live build to reuse, the model may not be needed at all; without one it surely is, and is
    # loaded first so that the build's own time (and passages per second) counts embedding, not loading.
    lazy = reuse and (place.has_build() or vectors_from is not None)
    encoder = LazyEncoder(model, config.batch_size, config.model_cache) if lazy else load_encoder(
        model, config.batch_size, config.model_cache)
    return place.build(prepare(corpus, config.reading), encoder, sources, progress=progress, reuse=reuse,
                       index_type=config.index_type, vectors_from=vectors_from)
