"""A follow-up question (and the question it follows) in, an Answer out: a follow-up that stands on its own is
answered as asked; one that does not ("and in 2012?") is searched together with the question before it."""

from __future__ import annotations

from ..settings import SearchSettings
from .coverage import LIKELY
from .retriever import Answer, Retriever


def answer_followup(retriever: Retriever, question: str, previous: str | None, k: int | None = None,
                    settings: SearchSettings | None = None) -> Answer:
    """The answer to `question` asked after `previous`. Alone first: when its best passage likely answers it,
    that is the answer; otherwise the two are searched as one text and that answer is kept if it found anything.
    On the seeds' follow-up pairs this shows the right passage most often (BENCHMARKS.md, "Follow-ups")."""
    settings = settings or retriever.settings
    alone = retriever.answer(question, k, settings)
    if not previous or (alone.hits and alone.hits[0].relevance >= LIKELY):
        return alone
    together = f"{previous} {question}"
    if len(together) > settings.max_question_chars:  # the question itself was fine: keep it alone
        return alone
    joined = retriever.answer(together, k, settings)
    return joined if joined.covered else alone
