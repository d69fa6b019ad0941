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
# what a sentence's first word follows: its capital says nothing of whether it is a name
SENTENCE_START = re.compile(r"(?:^|[.!?\"“”])\W*$")


def names_in(texts: list[str], question: str = "") -> set[str]:
    """The words (lower case, possessive dropped) these texts always capitalise: the names they hold. A word they
    capitalise only at the start of a sentence ("Inaugurated in 2010, ...") counts only when the question too
    capitalises it other than at its start."""
    capitalised, initial, lower = set(), set(), set()
    for text in texts:
        for match in WORD.finditer(text):
            word = POSSESSIVE.sub("", match.group())
            if not word[0].isupper():
                lower.add(word.lower())
            elif starts_sentence(text, match.start()):
                initial.add(word.lower())
            else:
                capitalised.add(word.lower())
    return (capitalised | (initial & names_asked(question))) - lower - NOT_NAMES


def names_asked(question: str) -> set[str]:
    """The words (lower case, possessive dropped) the question capitalises other than where a sentence starts: the
    names it asks about, as far as the question alone tells."""
    return {POSSESSIVE.sub("", match.group()).lower() for match in WORD.finditer(question)
            if match.group()[0].isupper() and not starts_sentence(question, match.start())} - NOT_NAMES


def starts_sentence(text: str, at: int) -> bool:
    """Whether the word at `at` in the text begins a sentence (or the text)."""
    return bool(SENTENCE_START.search(text[max(0, at - 3):at]))


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
