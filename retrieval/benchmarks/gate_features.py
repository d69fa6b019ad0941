"""`python -m retrieval.benchmarks.gate_features`: which extra features help the "covered?" gate (the calibrate
command's development sets in; a table out): every question is asked once with late interaction on and no gate, its
signals, first passages and late interaction's word-by-word matches kept in .cache/; then the gate is refitted
(balanced as `calibrate` fits it) without and with each candidate feature, and the share of each kind of question
it lets through is printed, in sample and with each seeds question left out of the fit that judges it."""

from __future__ import annotations

import argparse
import pickle
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import astuple, dataclass, replace
from pathlib import Path

import numpy as np

from ..encode.embed import TokenEncoder
from ..evaluate.calibrate import Asked, Judged, asked_of, balanced, searchable
from ..evaluate.corpora import CACHE, add_corpus_sets, open_cached
from ..evaluate.evaluate import GoldQuestion, table
from ..search.answer_type import FUNCTION_WORDS, asked_for, lacks_answer_type
from ..search.coverage import JUDGED, fit_logistic, logistic
from ..search.retriever import Retriever, _word_weights
from ..settings import SearchSettings
from ..store.lexical import Analyzer
from .backends import percentile

REPLAYED = CACHE / "gate-features.pkl"
BEFORE = 5  # the late gate's features before any candidate: COVERED's four and the first passage's MaxSim
ANSWERED_AT_LEAST = 0.97  # the seeds' on-topic questions the gate must keep letting through (issue 29)


@dataclass
class Replayed:
    """One development question as late interaction read it: the gate's features, the first passages' texts, and
    for each of the question's word pieces its word, its BM25 idf and its best cosine to each first passage's."""

    asked: Asked
    gate: np.ndarray
    texts: list[str]
    words: list[str]
    weights: np.ndarray
    best: np.ndarray  # word pieces x first passages


def replay(retriever: Retriever, asked: list[Asked]) -> list[Replayed]:
    """Each question answered with late interaction on and no gate, with what the candidates read. The question's
    token vectors come as the answer path gets them; the first passages' from the model (remembered), not the
    index's int8 copies (an answer does not say which rows it showed)."""
    asked = [a for a in asked if searchable(retriever, a.question.q)]
    settings = replace(retriever.settings, late_interaction=True)
    questions = [a.question.q for a in asked]
    answers = retriever.answer_many(questions, k=settings.late_depth, gate=False, highlight=False, settings=settings)
    encoder = retriever.questions if isinstance(retriever.questions, TokenEncoder) else retriever.late.encoder
    tokens = encoder.encode_with_tokens(questions)[1]
    replayed = []
    for each, answer, pieces in zip(asked, answers, tokens, strict=True):
        if answer.signals is None or not len(answer.signals.dense):
            continue
        texts = [hit.text for hit in answer.hits[:JUDGED]]
        words = retriever.late.words(each.question.q)
        best = np.column_stack([(pieces @ passage.T).max(axis=1) for passage in retriever.late.passages(texts)])
        replayed.append(Replayed(each, answer.signals.gate_features()[:BEFORE], texts, words,
                                 _word_weights(retriever, words), best))
    return replayed


def replayed_sets(sets: list[tuple[str, str]], refresh: bool) -> list[Replayed]:
    """The sets' questions replayed, read from REPLAYED when there (kept as plain values: the classes pickled by a
    `python -m` run would be __main__'s)."""
    if REPLAYED.exists() and not refresh:
        return [Replayed(Asked(corpus, kind, GoldQuestion(*question)), *rest)
                for corpus, kind, question, *rest in pickle.loads(REPLAYED.read_bytes())]
    everything = []
    for path, questions in asked_of(sets).items():
        retriever = open_cached(path, progress=True)
        everything += replay(retriever, questions)
    REPLAYED.write_bytes(pickle.dumps([(r.asked.corpus, r.asked.kind, astuple(r.asked.question), r.gate, r.texts,
                                        r.words, r.weights, r.best) for r in everything]))
    return everything


# --- candidate features: one value per replayed question ---

def word_matches(r: Replayed, passage: int = 0, content: bool = False) -> np.ndarray:
    """Each weighted word of the question (a run of pieces of one word): its best piece's cosine to the passage;
    with `content`, over the question's content words alone (lower case: no name; none of answer_type's
    FUNCTION_WORDS)."""
    scores, last = [], None
    for word, weight, best in zip(r.words, r.weights, r.best[:, passage], strict=True):
        if weight <= 0 or (content and (not word[:1].islower() or word.lower() in FUNCTION_WORDS)):
            last = None
            continue
        if word == last:
            scores[-1] = max(scores[-1], best)
        else:
            scores.append(best)
        last = word
    return np.array(scores) if scores else np.ones(1)


def weakest_content(r: Replayed) -> float:
    return float(word_matches(r, content=True).min())


def weakest_word(r: Replayed) -> float:
    return float(word_matches(r).min())


def weakest_over_three(r: Replayed) -> float:
    return float(np.max([word_matches(r, p).min() for p in range(r.best.shape[1])]))


def answer_type(passages: slice, sentences: bool) -> Callable[[Replayed], float]:
    """The answer-type feature over the first passages `passages`, whole or only their sentences about the question."""
    def feature(r: Replayed) -> float:
        return lacks_answer_type(r.asked.question.q, r.texts[passages], ANALYZER.terms_many if sentences else None)
    return feature


ANALYZER = Analyzer()
WIRED = "answer type, 1st passage's sentences about it"  # the one the gate reads (search/answer_type.py)
CANDIDATES: dict[str, tuple[Callable[[Replayed], float], ...]] = {
    "answer type, 1st passage": (answer_type(slice(1), False),),
    "answer type, first 3 passages": (answer_type(slice(JUDGED), False),),
    WIRED: (answer_type(slice(1), True),),
    "answer type, first 3's sentences about it": (answer_type(slice(JUDGED), True),),
    "weakest word": (weakest_word,),
    "weakest word, best of first 3": (weakest_over_three,),
    "weakest content word": (weakest_content,),
    f"{WIRED} + weakest content word": (answer_type(slice(1), True), weakest_content),
    f"{WIRED} + weakest word, best of 3": (answer_type(slice(1), True), weakest_over_three),
}


# --- fitting and reading the gate ---

def kind_of(r: Replayed) -> str:
    corpus = "seeds" if Path(r.asked.corpus).name == "seeds" else "squad"
    return f"{corpus}: {'answered' if r.asked.question.on_topic else Path(r.asked.kind).stem}"


def fitted(x: np.ndarray, replayed: list[Replayed], rows: np.ndarray) -> tuple[float, ...]:
    judged = [Judged(replayed[i].asked, x[i], np.zeros((0, 0)), np.zeros(0)) for i in rows]
    y = np.array([replayed[i].asked.question.on_topic for i in rows], dtype=float)
    return fit_logistic(x[rows], y, balanced(judged))


def in_sample(x: np.ndarray, replayed: list[Replayed]) -> np.ndarray:
    return logistic(x, fitted(x, replayed, np.arange(len(replayed))))


def left_out(x: np.ndarray, replayed: list[Replayed]) -> np.ndarray:
    """Each seeds question's probability under a gate fitted without it (leave one out); SQuAD's in sample."""
    probability = in_sample(x, replayed)
    everyone = np.arange(len(replayed))
    for i, r in enumerate(replayed):
        if kind_of(r).startswith("seeds"):
            probability[i] = logistic(x[i:i + 1], fitted(x, replayed, everyone[everyone != i]))[0]
    return probability


def shares(probability: np.ndarray, replayed: list[Replayed], at: float) -> dict[str, float]:
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for p, r in zip(probability, replayed, strict=True):
        by_kind[kind_of(r)].append(bool(p >= at))
    return {kind: float(np.mean(flags)) for kind, flags in sorted(by_kind.items())}


def keeping_answered(probability: np.ndarray, replayed: list[Replayed]) -> float:
    """The highest threshold that still lets ANSWERED_AT_LEAST of the seeds' answered questions through."""
    answered = np.sort([p for p, r in zip(probability, replayed, strict=True) if kind_of(r) == "seeds: answered"])
    return float(answered[int(np.floor((1 - ANSWERED_AT_LEAST) * len(answered)))])


def row(name: str, probability: np.ndarray, replayed: list[Replayed], at: float) -> tuple[str, ...]:
    through = shares(probability, replayed, at)
    best = keeping_answered(probability, replayed)
    there = shares(probability, replayed, best)
    return (name, *(f"{v:.1%}" for v in through.values()), f"{best:.3f}",
            " / ".join(f"{there[kind]:.1%}" for kind in ("seeds: unanswered", "squad: answered", "squad: queries")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_sets(parser)
    parser.add_argument("--refresh", action="store_true", help=f"ask the questions again instead of reading {REPLAYED}")
    parser.add_argument("--covered-at", type=float, default=SearchSettings().min_relevance, metavar="P")
    args = parser.parse_args()
    replayed = replayed_sets(args.set, args.refresh)
    candidates = dict(CANDIDATES)
    base = np.array([r.gate for r in replayed])
    variants, costs = {"before (the late gate's 5 features)": base}, []
    for name, features in candidates.items():
        columns, times, typed = [], [], []
        for r in replayed:
            started = time.perf_counter()
            columns.append([feature(r) for feature in features])
            times.append((time.perf_counter() - started) * 1000)
            if asked_for(r.asked.question.q) is not None:
                typed.append(times[-1])
        variants[f"+ {name}"] = np.column_stack([base, np.array(columns)])
        costs.append((name, f"{statistics.median(times):.3f}", f"{percentile(times, 0.95):.3f}",
                      f"{statistics.median(typed):.3f}"))
    kinds = list(shares(np.zeros(len(replayed)), replayed, 0.5))
    header = ["gate", *kinds, "threshold: seeds answered >= 97%", "there: unanswered / squad / scifact"]
    for title, read in (("in sample", in_sample), ("each seeds question left out of the fit", left_out)):
        print(f"\nLet through at {args.covered_at}, {title}:")
        print(table(header, [row(name, read(x, replayed), replayed, args.covered_at) for name, x in variants.items()]))
    print("\nCost per question, in process (ms; the passages' and the question's words read by the index's analyzer):")
    print(table(["feature", "p50", "p95", f"p50 of the {len(typed)} whose wording asks for a kind"], costs))
    print("\nCoefficients (intercept first, as search/coverage.py holds them):")
    print(table(["gate", "coefficients"], [(name, str([round(c, 3) for c in fitted(x, replayed, np.arange(len(x)))]))
                                          for name, x in variants.items()]))


if __name__ == "__main__":
    main()
