"""An index and a question in, hits with citations out: the Retriever, score fusion, the coverage gate and
the marking of the answering sentences."""
