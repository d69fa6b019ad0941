"""Fit the calibrated models of search/coverage.py: development questions asked of their corpora (each file of
questions one kind; a question with `expect` snippets is answered there, one without is not) -> the signals each
answer carries -> the blend of late interaction's re-ordering (a conditional logit), then logistic regression
coefficients for the gate and for a passage's relevance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import QueryError
from ..search.coverage import JUDGED, fit_choice, fit_logistic, logistic
from ..search.late_interaction import standardised
from ..search.retriever import Retriever
from .corpora import load_questions
from .evaluate import GoldQuestion

SHOWN_AT_MOST = 4  # the passages per question the relevance model learns from: as many as an answer shows


@dataclass(frozen=True)
class Asked:
    """One question asked of one corpus, what kind of question it is (its file), and the corpus's name."""

    corpus: str
    kind: str
    question: GoldQuestion



def asked_of(sets: list[tuple[str, str]]) -> dict[Path, list[Asked]]:
    """Each corpus's questions, from (corpus, file of its questions) pairs as `--set` gives them: a corpus named
    with several files is asked all of them, each file its own kind."""
    asked: dict[Path, list[Asked]] = {}
    for sources, questions in sets:
        path = Path(sources)
        asked.setdefault(path, []).extend(Asked(str(path), Path(questions).name, q)
                                          for q in load_questions(Path(questions)))
    return asked

@dataclass(frozen=True)
class Judged:
    """An asked question with the signals of its first distinct passages and which of them answer it."""

    asked: Asked
    gate: np.ndarray  # the gate's features
    passages: np.ndarray  # one row of the relevance model's features per passage, best first
    right: np.ndarray  # whether each of those passages answers the question
    # the passages late interaction re-ordered: their fused score and MaxSim, and which answer (None when off)
    head: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def judge(retriever: Retriever, asked: list[Asked]) -> list[Judged]:
    """Each question answered as ranked (no gate), with the signals its answer carries; a question that cannot
    be searched (in a language the model cannot read) is left out."""
    asked = [a for a in asked if searchable(retriever, a.question.q)]
    settings = retriever.settings
    read = settings.late_depth if settings.late_interaction else 0
    answers = retriever.answer_many([a.question.q for a in asked], k=max(SHOWN_AT_MOST, JUDGED, read), gate=False,
                                    highlight=False)
    judged = []
    for each, answer in zip(asked, answers, strict=True):
        signals = answer.signals
        if signals is None or not len(signals.dense):
            continue
        right = np.array([each.question.answered_by(hit) for hit in answer.hits])
        head = None if signals.late is None else (signals.fused[:read], signals.late[:read], right[:read])
        judged.append(Judged(each, signals.gate_features(), signals.matrix()[:SHOWN_AT_MOST],
                             right[:SHOWN_AT_MOST], head))
    return judged


def fit_blend(judged: list[Judged]) -> tuple[float, float] | None:
    """The weights of the fused score and of MaxSim (each a z-score among the passages re-ordered) under which the
    passage that answers is most likely chosen, over the answered questions with one such passage among them,
    each corpus weighing the same; None when late interaction was off."""
    usable = [j for j in judged if j.head is not None and j.head[2].any() and len(j.head[2]) > 1]
    if not usable:
        return None
    per_corpus: dict[str, int] = defaultdict(int)
    for j in usable:
        per_corpus[j.asked.corpus] += 1
    groups = [(np.column_stack([standardised(fused), standardised(late)]), int(np.argmax(right)))
              for fused, late, right in (j.head for j in usable)]
    weights = fit_choice(groups, np.array([1 / per_corpus[j.asked.corpus] for j in usable]))
    return weights[0], weights[1]


def searchable(retriever: Retriever, question: str) -> bool:
    try:
        retriever.checked(question, None)
    except QueryError:
        return False
    return True


def balanced(judged: list[Judged]) -> np.ndarray:
    """Weights giving each corpus's answered questions, and its unanswered ones, the same total; the unanswered
    share it equally between their kinds."""
    groups: dict[tuple[str, str], int] = defaultdict(int)
    for j in judged:
        groups[(j.asked.corpus, "answered" if j.asked.question.on_topic else j.asked.kind)] += 1
    kinds: dict[str, int] = defaultdict(int)
    for corpus, kind in groups:
        kinds[corpus] += kind != "answered"
    weights = []
    for j in judged:
        key = (j.asked.corpus, "answered" if j.asked.question.on_topic else j.asked.kind)
        weights.append(1 / groups[key] / (1 if key[1] == "answered" else kinds[key[0]]))
    return np.array(weights)


def fit(judged: list[Judged], covered_at: float) -> dict:
    """The gate's coefficients (answered vs unanswered questions, balanced), then the relevance model's, fitted on
    the first passages of the questions the gate lets through at `covered_at` (as a reader would see them, each
    corpus weighing the same); with the share of each kind of question the gate lets through."""
    weights = balanced(judged)
    x = np.array([j.gate for j in judged])
    y = np.array([j.asked.question.on_topic for j in judged], dtype=float)
    gate = fit_logistic(x, y, weights)
    passing = logistic(x, gate) >= covered_at
    through = [j for j, ok in zip(judged, passing, strict=True) if ok]
    per_corpus: dict[str, int] = defaultdict(int)
    for j in through:
        per_corpus[j.asked.corpus] += 1
    per_question = [1 / per_corpus[j.asked.corpus] for j in through]  # each corpus's shown answers weigh the same
    rows = np.vstack([j.passages for j in through])
    right = np.concatenate([j.right for j in through]).astype(float)
    row_weights = np.concatenate([np.full(len(j.right), w) for j, w in zip(through, per_question, strict=True)])
    answers = fit_logistic(rows, right, row_weights)
    kept = defaultdict(list)
    for j, ok in zip(judged, passing, strict=True):
        kept[f"{j.asked.corpus}: {'answered' if j.asked.question.on_topic else j.asked.kind}"].append(bool(ok))
    return {"covered": [round(c, 3) for c in gate], "answers": [round(c, 3) for c in answers],
            "covered_at": covered_at,
            "let_through": {name: round(float(np.mean(flags)), 4) for name, flags in sorted(kept.items())}}
