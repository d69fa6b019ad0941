"""The re-ranker on a tiny cross-encoder built here: a 2-layer BERT whose weights are set by hand, so that its score
is +tanh(1) for a pair that mentions "river" but not "desert", -tanh(1) for the reverse, 0 for neither."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from retrieval import RetrievalConfig, open_retriever
from retrieval.encode.rerank import Reranker
from retrieval.errors import ConfigError
from retrieval.settings import SearchSettings

from ...encoders import WordHashEncoder

if TYPE_CHECKING:  # torch and transformers take seconds to import: only the slow tests that build a model do
    import torch
    from transformers import BertTokenizer

WORDS = ["where", "is", "the", "a", "an", "of", "on", "by", "near", "old", "new", "green", "wide", "cold", "town",
         "city", "village", "castle", "bridge", "tower", "garden", "island", "valley", "harbor", "market", "temple",
         "forest", "mountain", "ocean", "boat", "road"]
GOOD, BAD = "river", "desert"  # the words the hand-set model scores up and down
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
HIDDEN = 32


def save_bert(folder: Path, model_class: str, num_labels: int = 1) -> tuple[BertTokenizer, torch.nn.Module]:
    """A tiny BERT of `model_class` (a transformers class name) and its tokenizer over SPECIAL + WORDS + GOOD + BAD,
    saved to `folder`."""
    import transformers
    from transformers import BertConfig, BertTokenizer

    folder.mkdir()
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join([*SPECIAL, *WORDS, GOOD, BAD]) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab=str(vocab))  # transformers 5 ignores a `vocab_file=` argument
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=HIDDEN, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
                        num_labels=num_labels)
    model = getattr(transformers, model_class)(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return tokenizer, model


@pytest.fixture(scope="module")
def river_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cross-encoder folder whose score rises with "river" and falls with "desert", anywhere in the pair.

    Every weight is zero except: the embedding of GOOD is (+1, -1) on dims 0-1 and of BAD on dims 2-3; the first
    layer's attention has zero queries and keys (so every token attends equally to all tokens) and identity values
    and output; layer norms scale by 1. So [CLS] leaves layer 1 as the normalised mean embedding of the pair, passes
    layer 2 unchanged, and the pooler and classifier give tanh(x0/4) - tanh(x2/4): tanh(1) with GOOD only."""
    import torch

    folder = tmp_path_factory.mktemp("models") / "river"
    tokenizer, model = save_bert(folder, "BertForSequenceClassification")
    good, bad = tokenizer.convert_tokens_to_ids([GOOD, BAD])
    assert tokenizer.unk_token_id not in (good, bad)
    identity = torch.eye(HIDDEN)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.fill_(1.0 if "LayerNorm.weight" in name else 0.0)
        model.bert.embeddings.word_embeddings.weight[good, :2] = torch.tensor([1.0, -1.0])
        model.bert.embeddings.word_embeddings.weight[bad, 2:4] = torch.tensor([1.0, -1.0])
        attention = model.bert.encoder.layer[0].attention
        attention.self.value.weight.copy_(identity)
        attention.output.dense.weight.copy_(identity)
        model.bert.pooler.dense.weight.copy_(identity / 4)
        model.classifier.weight[0, 0], model.classifier.weight[0, 2] = 1.0, -1.0
    model.save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_scores_follow_the_model_in_the_order_of_the_texts(river_model: Path) -> None:
    reranker = Reranker.load(river_model, batch_size=2)
    question = "where is the old bridge"
    # Lengths differ, so CrossEncoder sorts them longest first inside predict: the scores must come back in this order.
    texts = ["the old bridge near the castle of the town", "a desert road", "the old bridge on the river",
             "river and desert", "a bridge"]
    scores = reranker.scores(question, texts)
    assert scores.shape == (5,) and scores.dtype == np.float32
    assert scores == pytest.approx([0.0, -np.tanh(1.0), np.tanh(1.0), 0.0, 0.0], abs=1e-5)
    # Raw logits: this folder declares no activation, so CrossEncoder.predict alone would apply a sigmoid (all > 0).
    assert scores.min() < 0
    # Re-ranking the first-stage order puts the river passage first and the desert one last.
    ranked = [texts[i] for i in np.argsort(-scores, kind="stable")]
    assert ranked[0] == "the old bridge on the river" and ranked[-1] == "a desert road"
    assert ranked != texts


@pytest.mark.slow
def test_scores_are_deterministic_and_independent_of_batching(river_model: Path) -> None:
    texts = ["a river", "the green valley near the old tower", "desert", "island harbor market"]
    first = Reranker.load(river_model, batch_size=1).scores("river town", texts)
    again = Reranker.load(river_model, batch_size=32)
    np.testing.assert_array_equal(again.scores("river town", texts), again.scores("river town", texts))
    np.testing.assert_allclose(again.scores("river town", texts), first, atol=1e-6)
    assert again.scores("river town", []).shape == (0,)


def test_a_missing_folder_says_to_set_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"reranker folder .*nowhere not found; set `reranker`"):
        Reranker.load(tmp_path / "nowhere")


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is not a cross-encoder \(it has no config.json"):
        Reranker.load(tmp_path)


@pytest.mark.slow
def test_an_embedding_model_is_refused_before_it_loads_with_a_random_head(tmp_path: Path) -> None:
    save_bert(tmp_path / "encoder", "BertModel")
    with pytest.raises(ConfigError, match=r"not a cross-encoder \(its config.json describes BertModel"):
        Reranker.load(tmp_path / "encoder")


@pytest.mark.slow
def test_a_classifier_with_several_labels_is_refused(tmp_path: Path) -> None:
    save_bert(tmp_path / "nli", "BertForSequenceClassification", num_labels=3)
    with pytest.raises(ConfigError, match=r"scores 3 classes \(.*\), not one relevance score"):
        Reranker.load(tmp_path / "nli")


@pytest.mark.slow
def test_a_folder_without_weights_says_what_to_copy(river_model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "half-copied"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        (folder / name).write_bytes((river_model / name).read_bytes())
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["BertForSequenceClassification"]
    with pytest.raises(ConfigError, match=r"cannot be loaded \(.*\); copy the whole model folder"):
        Reranker.load(folder)


@pytest.mark.slow
def test_a_configured_reranker_reorders_what_search_shows(river_model: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "places.txt").write_text(
        "Places\n\nWhere is the old bridge? The old bridge is by the castle of the old town.\n\n"
        "The bridge of the village crosses the river near the tower.\n\n"
        "A desert road leads to the old bridge of the city.\n", encoding="utf-8")
    settings = SearchSettings(min_relevance=0.0, min_score=-1.0, clear=1.0, related=0.0, reranker=river_model)
    config = RetrievalConfig(sources=docs, index=tmp_path / "index", search=settings)
    plain = open_retriever(replace(config, search=replace(settings, reranker=None)), progress=False,
                           encoder=WordHashEncoder())
    reranked = open_retriever(config, progress=False, encoder=WordHashEncoder())
    question = "Where is the old bridge?"
    assert "castle" in plain.search(question)[0].text
    texts = [hit.text for hit in reranked.search(question)]
    assert "river" in texts[0] and "desert" in texts[-1]
