"""Retrieval only: documents → passages → a FAISS index → cited, verbatim passages. It never imports discord."""

from .config import Config, RetrievalConfig, load_config
from .errors import (
    ConfigError,
    IndexCorrupt,
    IndexMissing,
    IndexProblem,
    IndexStale,
    QueryError,
    RetrievalError,
    SourceError,
)
from .ingest.adding import Added, add_document, remove_document
from .ingest.corpus import Corpus, load_corpus
from .loader import build_from, open_retriever
from .records import Hit, Passage, Role, Source
from .search.retriever import Answer, Retriever

__all__ = [
    "Added", "Answer", "Config", "ConfigError", "Corpus", "Hit", "IndexCorrupt", "IndexMissing", "IndexProblem",
    "IndexStale", "Passage", "QueryError", "RetrievalConfig", "RetrievalError", "Retriever", "Role", "Source",
    "SourceError",
    "add_document", "build_from", "load_config", "load_corpus", "open_retriever", "remove_document",
]
