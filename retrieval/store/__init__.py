"""Passages and their vectors in, an index on disk out: FAISS and BM25 files, written atomically under a lock,
reusing unchanged vectors, and read back checked."""
