"""A retriever, a library or a store in, speed and memory tables out: backends, batching, libraries, stores,
uploads, near-duplicate search, servers' library work side by side (fairness), late interaction, the gate's
candidate features, the question report and soak runs, and the Milvus Lite server they (and the tests) start."""
