"""Questions have their own encoder: the model's ONNX float32 export by default, the index's own on request, never
another model."""

from dataclasses import replace
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, RetrievalError, Retriever, loader, open_retriever
from retrieval.encode.embed import LazyEncoder, load_encoder, question_identity, resolve_model

from ...conftest import SEEDS
from ...encoders import WordHashEncoder

QUESTIONS = ["How many North Korean refugees has NAUH resettled?", "What is the Jangmadang?", "Who founded NAUH?"]


def test_the_default_encodes_questions_with_the_onnx_export():
    assert RetrievalConfig().question_backend == "onnx"
    assert question_identity(WordHashEncoder.identity, "onnx") == replace(WordHashEncoder.identity, backend="onnx")


@pytest.mark.parametrize(("index_backend", "question_backend"), [("torch", "same"), ("onnx", "onnx")])
def test_same_or_the_index_backend_needs_no_encoder_of_its_own(index_backend: str, question_backend: str):
    assert question_identity(replace(WordHashEncoder.identity, backend=index_backend), question_backend) is None


def test_an_unknown_question_backend_is_named():
    with pytest.raises(RetrievalError, match="unknown question_backend 'gpu'; choose one of onnx, same, onnx-int8"):
        question_identity(WordHashEncoder.identity, "gpu")


def test_questions_encoded_by_another_model_are_refused(fast_retriever: Retriever):
    other = WordHashEncoder()
    other.identity = replace(other.identity, sha256="1" * 64)
    with pytest.raises(RetrievalError, match="encoder of questions is not the model"):
        Retriever(fast_retriever.index, fast_retriever.encoder, questions=other)


def test_an_encoder_handed_in_encodes_the_questions_too(fast_config: RetrievalConfig):
    encoder = WordHashEncoder()
    assert open_retriever(fast_config, progress=False, encoder=encoder).questions is encoder


@pytest.mark.slow
def test_onnx_question_vectors_are_float32_torchs(retriever: Retriever):
    # the retriever the config opens encodes its questions with the ONNX export, loaded on first use
    assert isinstance(retriever.questions, LazyEncoder) and retriever.questions.identity.backend == "onnx"
    float32 = load_encoder(resolve_model(backend="torch"))
    assert (retriever.questions.encode(QUESTIONS) * float32.encode(QUESTIONS)).sum(axis=1).min() > 0.99999


def test_a_first_build_leaves_the_questions_to_their_own_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    questions = WordHashEncoder()
    monkeypatch.setattr(loader, "resolve_model", lambda *_, **__: WordHashEncoder.identity)
    monkeypatch.setattr(loader, "load_encoder", lambda *_, **__: WordHashEncoder())  # the build's
    monkeypatch.setattr(loader, "LazyEncoder", lambda identity, *_: questions if identity.backend == "onnx" else None)
    retriever = open_retriever(RetrievalConfig(sources=SEEDS, index=tmp_path / "index"), progress=False)
    assert retriever.questions is questions and retriever.encoder is not questions
