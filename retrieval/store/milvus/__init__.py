"""The index in Milvus: each build's passage vectors, the passages' vectors in context, sentence vectors and BM25
terms (Milvus's own BM25 function, over the words our analyser stems) in collections of its own, the passages' text
and metadata beside them; one alias names the live build, so a build switches in atomically. Passages and vectors
in, a SearchIndex out: place.py says where, build.py and write.py make a build, search.py searches it."""

from .place import MilvusPlace

__all__ = ["MilvusPlace"]
