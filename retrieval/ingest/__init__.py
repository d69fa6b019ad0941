"""Documents in, passages out: read .txt/.md/corpus.jsonl and a sources.toml manifest, lay out blocks,
split long paragraphs and sentences, and find repeated paragraphs."""
