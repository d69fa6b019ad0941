"""A build keeps its passages' token vectors for late interaction: int8 on disk, read back for the rows asked,
reused by the next build, and left out when they would take more than their budget."""

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from retrieval import RetrievalConfig, Retriever, load_corpus, open_retriever
from retrieval.ingest.prepared import prepare
from retrieval.settings import SearchSettings
from retrieval.store import build
from retrieval.store.index import CURRENT, open_index
from retrieval.store.places import token_budget
from retrieval.store.reuse import previous_vectors, text_hashes
from retrieval.store.tokens import TOKEN_VECTORS, TokenTable, sentence_of_tokens

from ...conftest import SEEDS
from ...encoders import WordHashEncoder


def build_copy(encoder, tmp_path: Path, sources: Path) -> RetrievalConfig:
    config = RetrievalConfig(sources=sources, index=tmp_path / "index", auto_build="never")
    build.build_index(prepare(load_corpus(sources)), encoder, config.index, sources, progress=False,
                      token_budget=token_budget(config))
    return config


class CountingEncoder(WordHashEncoder):
    """Counts the texts it reads the token vectors of (the stand-in's encode_with_tokens reads them here too)."""

    def __init__(self) -> None:
        self.read: list[str] = []
        self.split: list[str] = []  # texts whose word pieces' sentences were read with the tokenizer

    def token_vectors(self, texts):
        self.read += list(texts)
        return super().token_vectors(texts)

    def token_offsets(self, texts):
        self.split += list(texts)
        return super().token_offsets(texts)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEEDS, tmp_path / "sources"))


def test_quantised_token_vectors_keep_their_cosines():
    rng = np.random.default_rng(0)
    tokens = [rng.normal(size=(n, 384)).astype(np.float32) for n in (3, 0, 7)]
    tokens = [each / np.linalg.norm(each, axis=1, keepdims=True) for each in tokens]
    table = TokenTable.of(tokens)
    back = table.rows([2, 1, 0])
    assert [len(each) for each in back] == [7, 0, 3]
    assert np.abs((back[0] * tokens[2]).sum(axis=1) - 1).max() < 1e-3  # each vector points where it did
    assert table.vectors.dtype == np.int8 and TokenTable.size(tokens[0]) == 3 * (384 + 4)


def test_a_configured_build_keeps_its_token_vectors_and_a_budget_of_0_keeps_none(tmp_path: Path, sources: Path):
    kept = open_retriever(RetrievalConfig(sources=sources, index=tmp_path / "kept"), encoder=WordHashEncoder(),
                          progress=False)
    none = open_retriever(RetrievalConfig(sources=sources, index=tmp_path / "none", token_vectors_mb=0),
                          encoder=WordHashEncoder(), progress=False)
    assert kept.index.token_vectors_of([0])[0] is not None and none.index.token_vectors_of([0]) == [None]


def test_a_build_keeps_every_passage_token_vectors_in_row_order(tmp_path: Path, sources: Path):
    encoder = WordHashEncoder()
    config = build_copy(encoder, tmp_path, sources)
    index = open_index(config.index)
    rows = list(range(index.count))
    texts = [passage.text for passage in index.passages_at(rows)]
    kept = index.token_vectors_of(rows)
    assert all(np.array_equal(a, b) for a, b in zip(kept, encoder.token_vectors(texts), strict=True))


def test_a_build_keeps_each_word_piece_sentence_and_questions_read_them_from_it(tmp_path: Path, sources: Path):
    config = build_copy(WordHashEncoder(), tmp_path, sources)
    index = open_index(config.index)
    rows = list(range(index.count))
    kept = index.token_sentences_of(rows)
    starts = index.sentences_of(np.array(rows))
    offsets = WordHashEncoder().token_offsets([passage.text for passage in index.passages_at(rows)])
    assert any(each.max() > 0 for each in kept)  # passages of several sentences
    assert all(np.array_equal(each, sentence_of_tokens(words, starts.spans[starts.of(i), 0]))
               for i, (each, words) in enumerate(zip(kept, offsets, strict=True)))
    encoder = CountingEncoder()
    Retriever(index, encoder, replace(SearchSettings(), late_interaction=True)).answer("When was NAUH founded?")
    assert encoder.split == []  # no tokenizer call at question time


def test_a_rebuild_reads_only_the_edited_passages_again(tmp_path: Path, sources: Path):
    config = build_copy(WordHashEncoder(), tmp_path, sources)
    first = sources / "000_ae65aa517ac172e1.txt"
    first.write_text(first.read_text(encoding="utf-8") + "\n\nA paragraph added after the first build.\n",
                     encoding="utf-8")
    encoder = CountingEncoder()
    build_copy(encoder, tmp_path, sources)
    assert encoder.read == ["A paragraph added after the first build."]
    index = open_index(config.index)
    assert all(tokens is not None for tokens in index.token_vectors_of(list(range(index.count))))


def test_past_the_budget_no_token_vectors_are_kept(sources: Path, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture):
    monkeypatch.setattr(build, "TOKENS_AT_ONCE", 4)  # the budget is checked between chunks of passages
    corpus = prepare(load_corpus(sources))
    encoder = CountingEncoder()
    vectors, embedded, tokens = build.embed_passages(corpus.texts, text_hashes(corpus.texts), encoder, None, False,
                                                     budget=1000, starts=build.sentence_starts(corpus))
    assert tokens is None and embedded == len(corpus.texts)
    assert np.allclose(vectors, encoder.encode(corpus.texts))
    assert len(encoder.read) < len(corpus.texts)  # it stopped reading token vectors once past the budget
    assert "raise token_vectors_mb" in caplog.text  # the build says so, and what keeps them


class VectorsOnly:
    """The stand-in model without token vectors, as a build made before they were kept would have none."""

    identity, dimension = WordHashEncoder.identity, WordHashEncoder.dimension

    def encode(self, texts, on_batch=None):
        return WordHashEncoder().encode(texts, on_batch)


def test_an_index_that_kept_no_token_vectors_is_read_by_the_model_at_question_time(tmp_path: Path, sources: Path):
    config = build_copy(VectorsOnly(), tmp_path, sources)
    assert not (config.index / CURRENT / TOKEN_VECTORS).exists()
    index = open_index(config.index)
    assert index.token_vectors_of([0, 1]) == [None, None]
    encoder = CountingEncoder()
    retriever = Retriever(index, encoder, replace(SearchSettings(), late_interaction=True))
    question = "When was NAUH founded?"
    answer = retriever.answer(question, k=retriever.settings.late_depth, gate=False)
    assert answer.signals.late is not None
    assert encoder.read[:2] == [question, "When was founded?"]  # the question, and its copy without names
    assert sorted(encoder.read[2:]) == sorted(hit.text for hit in answer.hits)  # the first passages, re-read


def test_a_rebuild_of_an_index_without_token_vectors_reads_every_passage_again(tmp_path: Path, sources: Path):
    build_copy(VectorsOnly(), tmp_path, sources)
    encoder = CountingEncoder()
    config = build_copy(encoder, tmp_path, sources)
    index = open_index(config.index)
    assert len(encoder.read) == index.count
    assert previous_vectors(config.index, WordHashEncoder.identity).tokens is not None
