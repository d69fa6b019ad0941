"""The ONNX int8 backend: exported on this machine, checked against the model, and just as right."""

from pathlib import Path

import numpy as np
import pytest

from retrieval import IndexStale, RetrievalConfig, Retriever, open_retriever
from retrieval.embed import load_encoder, resolve_model

from ..conftest import SEEDS

QUESTION = "How many North Korean refugees has NAUH resettled?"


@pytest.fixture(scope="module")
def int8_config(tmp_path_factory: pytest.TempPathFactory) -> RetrievalConfig:
    folder: Path = tmp_path_factory.mktemp("int8")
    return RetrievalConfig(sources=SEEDS, index=folder / "index", backend="onnx-int8", model_cache=folder / "models")


def test_int8_vectors_agree_with_the_model(int8_config: RetrievalConfig, retriever: Retriever):
    int8 = load_encoder(resolve_model(backend="onnx-int8"), cache=int8_config.model_cache)
    texts = [p.text for p in retriever.index.passages if p.answerable]
    agreement = (int8.encode(texts) * retriever.encoder.encode(texts)).sum(axis=1)
    assert agreement.min() > 0.98 and np.mean(agreement) > 0.99
    assert list((int8_config.model_cache).iterdir())  # exported once, kept for next time


def test_an_int8_index_answers_like_the_torch_one(int8_config: RetrievalConfig):
    int8 = open_retriever(int8_config, progress=False, log=lambda _: None)
    assert int8.index.manifest.model_backend == "onnx-int8"
    assert "about 215 North Korean refugees" in int8.search(QUESTION)[0].text


def test_switching_backend_makes_the_index_stale(int8_config: RetrievalConfig):
    open_retriever(int8_config, progress=False, log=lambda _: None)
    torch_config = RetrievalConfig(sources=SEEDS, index=int8_config.index, auto_build="never")
    with pytest.raises(IndexStale, match="onnx-int8"):
        open_retriever(torch_config, log=lambda _: None)
