"""A question and the passages ranked first for it in, the question without the names those passages hold out:
what is left asks what the question wants to know about them ("What is Ji Seong-ho's favourite food?" -> "What
is favourite food?"), which a passage that merely names the same person does not answer."""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN_PLUS

WORD = re.compile(r"[^\W\d_][\w'’-]*")
POSSESSIVE = re.compile(r"['’]s$")
# bm25s's longer English list (what, which, by, ...): words a passage may capitalise that are never names
NOT_NAMES = frozenset(STOPWORDS_EN_PLUS)


def names_in(texts: list[str]) -> set[str]:
    """The words (lower case, possessive dropped) these texts always capitalise: the names they hold."""
    capitalised, lower = set(), set()
    for text in texts:
        for word in WORD.findall(text):
            word = POSSESSIVE.sub("", word)
            (capitalised if word[0].isupper() else lower).add(word.lower())
    return capitalised - lower - NOT_NAMES


def without_names(question: str, names: set[str]) -> str:
    """The question's words in order, less those that are names (a hyphenated word when all its parts are)."""
    kept = []
    for token in question.split():
        word = POSSESSIVE.sub("", token.strip("?.,!:;\"“”‘’'()[]")).lower()
        parts = [part for part in word.split("-") if part]
        if parts and (word in names or all(part in names for part in parts)):
            continue
        kept.append(token)
    return " ".join(kept)
