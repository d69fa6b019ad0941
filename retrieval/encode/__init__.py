"""Texts in, vectors or scores out: the embedding model (torch or ONNX) and the optional cross-encoder re-ranker."""
