"""A retriever and questions in, quality figures out: gold and BEIR evaluation, metrics, gate calibration,
follow-ups and the same articles in every format."""
