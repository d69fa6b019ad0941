"""A retriever and questions in, figures out: gold and BEIR evaluation, metrics, gate calibration, benchmarks
and soak runs."""
