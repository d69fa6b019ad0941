"""The question log's records (questions asked, the passages they got, readers' votes; log.py) in; a report of
what the sources don't cover out: questions not covered, answers voted down, the most asked, each grouped with its
near-duplicates, as a table, CSV, or candidate gold questions."""

from __future__ import annotations

import csv
import heapq
import io
import itertools
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import Stemmer
import tomli_w

from ..errors import RetrievalError
from .log import Asked, read_log

# Two questions are near-duplicates when their stemmed word sets overlap this much (Jaccard). Set on the examples
# in tests/retrieval/questions/test_report.py: case, punctuation, tense and one added word group ("Who founded
# NAUH?", "who founded nauh", "Who founded NAUH then?"); another question word does not ("When was NAUH founded?").
NEAR_DUPLICATE = 0.6
# A question is compared only with the groups it shares a rare pair of words with. Word sets with Jaccard
# similarity t or more share at least ceil(t * n) of the n words of either, and then their first two shared words
# lie among the first n - ceil(t * n) + 2 of each, in any one fixed order (rarest first here): the generalised
# prefix filter (Wang, Li and Feng, SIGMOD 2012; with one word, Chaudhuri, Ganti and Kaushik, ICDE 2006). That
# finds every group comparing all pairs found, and pairs of rare words are shared by few groups. Groups are filed
# by their length and where the pair lies in them too, so that whole lists are passed over when the lengths could
# not make similar sets, or when too few words follow the pair to share enough (the length and positional filters
# of PPJoin, Xiao, Wang, Lin and Yu, WWW 2008): questions from one template share its common pair of words, and
# without them each was compared with every earlier one up to MAX_COMPARED. Exact arithmetic, as 0.6 * 5 is
# 3.0000000000000004 in floating point.
PREFIX_SHARE = Fraction(NEAR_DUPLICATE).limit_denominator(100)
SHARE_NUMERATOR, SHARE_DENOMINATOR = PREFIX_SHARE.numerator, PREFIX_SHARE.denominator  # plain ints: quicker
# Keys of more words than this are found by their first single words instead, as their pairs grow as the square;
# a question of up to LONG_QUESTION words may be close to a key of SHORT_KEY words, so it looks for pairs too.
SHORT_KEY = 12
LONG_QUESTION = math.floor(SHORT_KEY / PREFIX_SHARE)
# Groups compared per question at most. A real log compares a handful; only a log of a few words in every
# combination reaches this, and then a question may start a group of its own instead of joining one.
MAX_COMPARED = 200
# words that change no question's meaning; question words (who, when ...) stay, as they tell questions apart
STOPWORDS = frozenset(["a", "an", "the", "is", "are", "was", "were", "be", "of", "to", "in", "on", "for", "and",
                       "or", "do", "does", "did", "has", "have", "had", "it", "its", "this", "that"])
WORD = re.compile(r"\w+")
STEMMER = Stemmer.Stemmer("english")  # the stemmer BM25 uses: "resettled" and "resettle" are one word
TOP_GROUPS = 20  # groups listed per part of the report
# What makes a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula: OWASP, "CSV Injection"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Group:
    """Near-duplicate questions, the first asked standing for them all."""

    question: str
    asked: list[Asked] = field(default_factory=list)

    @property
    def times(self) -> int:
        return len(self.asked)

    @property
    def down(self) -> int:
        return sum(a.down for a in self.asked)

    def to_dict(self) -> dict:
        return {"question": self.question, "times": self.times, "variants": sorted({a.question for a in self.asked}),
                "covered": any(a.covered for a in self.asked), "down_votes": self.down,
                "shown": self.asked[-1].citations}


@dataclass(frozen=True)
class Report:
    """Over `days` days: questions not covered, answers voted down, the most asked, grouped."""

    days: float
    questions: int
    not_covered: list[Group]
    voted_down: list[Group]
    most_asked: list[Group]

    def to_dict(self) -> dict:
        return {"days": self.days, "questions": self.questions,
                "not_covered": [g.to_dict() for g in self.not_covered],
                "voted_down": [g.to_dict() for g in self.voted_down],
                "most_asked": [g.to_dict() for g in self.most_asked]}

    def table(self) -> str:
        lines = [f"{self.questions} questions in the last {self.days:g} days"]
        for title, groups in (("not covered by the sources", self.not_covered),
                              ("answers voted 👎", self.voted_down), ("most asked", self.most_asked)):
            lines.append(f"\n{title}:" if groups else f"\n{title}: none")
            lines += [f"  {g.times:>3}x  {g.question}" + (f"  (👎 {g.down})" if g.down else "") for g in groups]
        return "\n".join(lines)

    def csv(self) -> str:
        """One row per group and part: part, question, times asked, variants, down-votes, passages shown. What
        askers wrote never becomes a live formula in a spreadsheet (see `inert`)."""
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(["part", "question", "times", "variants", "down_votes", "shown"])
        for part, groups in (("not covered", self.not_covered), ("voted down", self.voted_down),
                             ("most asked", self.most_asked)):
            for g in groups:
                writer.writerow([part, inert(g.question), g.times,
                                 inert(" | ".join(sorted({a.question for a in g.asked}))), g.down,
                                 inert(" | ".join(g.asked[-1].citations))])
        return out.getvalue()

    def gold(self) -> str:
        """Candidate gold questions (seeds/gold.toml's format) for the questions that went wrong; `expect` is left
        for a person to fill in with a snippet of the passage that answers, or to leave empty if none does."""
        lines = ["# Candidate gold questions from the question log: fill `expect` with a verbatim snippet of the",
                 "# passage that answers each, or leave it empty when the sources truly do not cover it.", ""]
        seen = set()
        for kind, groups in (("not covered", self.not_covered), ("voted down", self.voted_down)):
            for g in groups:
                if g.question in seen:
                    continue
                seen.add(g.question)
                # tomli_w writes what people asked as TOML reads it back (U+007F and other controls escaped); the
                # table header is ours, as tomli_w writes an array of tables inline
                entry = tomli_w.dumps({"q": g.question, "expect": [], "kind": "direct"})
                lines += [f"# from the log: {kind}, asked {g.times}x", "[[question]]", entry]
        return "\n".join(lines)


def inert(text: str) -> str:
    """A cell that a spreadsheet shows as text: one starting as a formula does gets a leading single quote, as
    OWASP's CSV injection guidance says (with every cell quoted, quotes doubled, which `csv.QUOTE_ALL` does)."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def words(question: str) -> frozenset[str]:
    return words_of_each([question])[0]


def words_of_each(questions: list[str]) -> list[frozenset[str]]:
    """Each question's stemmed words; each distinct word is stemmed once (a log repeats its words many times)."""
    found = [[w for w in WORD.findall(q.lower()) if w not in STOPWORDS] for q in questions]
    distinct = list({w for each in found for w in each})
    stems = dict(zip(distinct, STEMMER.stemWords(distinct), strict=True))
    return [frozenset(stems[w] for w in each) for each in found]


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a | b) and len(a & b) / len(a | b) >= NEAR_DUPLICATE


def first_words(ordered: list[str], shared: int) -> list[str]:
    """Among which words of a key (rarest first) a similar key's `shared`-th shared word must be."""
    return ordered[:len(ordered) - shared_at_least(len(ordered)) + shared]


def shared_at_least(n: int) -> int:
    """ceil(t * n): the words a key of n words shares with any key similar to it."""
    return -(-PREFIX_SHARE.numerator * n // PREFIX_SHARE.denominator)


# A pair of words or one word a key is filed under, with the position in the key (rarest first) of its last word.
Signature = tuple[object, int]
# A key's length and the position of a signature's last word in it -> the groups filed so, in the order made
Filed = dict[object, dict[tuple[int, int], list[int]]]


def signatures(key: frozenset[str], rarity: dict[str, tuple[int, str]]) -> tuple[list[Signature], list[Signature]]:
    """What to file a new group's key under, and what to look a question's words up by: pairs of first words for
    short keys, single first words for long ones (a question looks both ways when its length could meet either)."""
    ordered = sorted(key, key=rarity.__getitem__)
    pairs = [((a, b), at) for (_, a), (at, b) in itertools.combinations(enumerate(first_words(ordered, 2)), 2)]
    singles = [(word, at) for at, word in enumerate(first_words(ordered, 1))]
    filed = pairs if len(ordered) <= SHORT_KEY else singles
    looked_up = (pairs if len(ordered) <= LONG_QUESTION else []) + \
        (singles if len(ordered) >= shared_at_least(SHORT_KEY + 1) else [])
    return filed, looked_up


def may_be_similar(length: int, at: int, other_length: int, other_at: int, shared: int) -> bool:
    """Whether keys of these lengths can be similar when `shared` words, the last at these positions, are the first
    they share: their lengths within a factor t of each other, and enough words after those to share
    ceil(t (n + m) / (1 + t)), the overlap that Jaccard t needs."""
    if SHARE_NUMERATOR * max(length, other_length) > SHARE_DENOMINATOR * min(length, other_length):
        return False
    needed = -(-SHARE_NUMERATOR * (length + other_length) // (SHARE_NUMERATOR + SHARE_DENOMINATOR))
    return shared + min(length - at - 1, other_length - other_at - 1) >= needed


def group(asked: list[Asked]) -> list[Group]:
    """Near-duplicates together, in the order first asked; a question joins the first group it is close to."""
    ordered = sorted(asked, key=lambda a: a.asked_at)
    keys = words_of_each([item.question for item in ordered])
    frequency = Counter(word for key in set(keys) for word in key)
    rarity = {word: (count, word) for word, count in frequency.items()}
    groups: list[tuple[frozenset[str], Group]] = []
    filed: Filed = {}
    homes: dict[frozenset[str], Group] = {}  # a word set's group: later groups never come before it
    for item, found in zip(ordered, keys, strict=True):
        home = homes.get(found)
        if home is None:
            file_under, look_up = signatures(found, rarity)
            home = next((groups[n][1] for n in compared(look_up, len(found), filed)
                         if similar(groups[n][0], found)), None)
            if home is None:
                home = Group(item.question)
                for signature, at in file_under:
                    filed.setdefault(signature, {}).setdefault((len(found), at), []).append(len(groups))
                groups.append((found, home))
            if found:  # questions with no words at all are never alike (similar() says so)
                homes[found] = home
        home.asked.append(item)
    return [g for _, g in groups]


def compared(look_up: list[Signature], length: int, filed: Filed) -> list[int] | Iterator[int]:
    """The groups to compare a question of `length` words with, earliest first, each once, MAX_COMPARED at most."""
    lists = [found for signature, at in look_up for (other_length, other_at), found in filed.get(signature, {}).items()
             if may_be_similar(length, at, other_length, other_at, 2 if isinstance(signature, tuple) else 1)]
    if sum(map(len, lists)) <= MAX_COMPARED:  # the usual case: sorting a few is quicker than merging lazily
        return sorted(set().union(*lists))
    return itertools.islice(unique(heapq.merge(*lists)), MAX_COMPARED)


def unique(ordered: Iterator[int]) -> Iterator[int]:
    last = -1
    for n in ordered:
        if n != last:
            last = n
            yield n


def report(asked: list[Asked], days: float) -> Report:
    groups = group(asked)
    not_covered = [g for g in groups if not any(a.covered for a in g.asked)]
    voted_down = sorted((g for g in groups if g.down), key=lambda g: -g.down)
    most_asked = sorted(groups, key=lambda g: -g.times)
    return Report(days, len(asked), sorted(not_covered, key=lambda g: -g.times)[:TOP_GROUPS],
                  voted_down[:TOP_GROUPS], [g for g in most_asked if g.times > 1][:TOP_GROUPS])


def report_from_file(path: Path, days: float) -> Report:
    """`eval --feedback DB`: the report over a question log file the bot wrote (`feedback_db`)."""
    if not Path(path).is_file():
        raise RetrievalError(f"question log {path} not found (the bot writes it: `feedback_db` in [bot])")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return report(read_log(db, days), days)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise RetrievalError(f"question log {path} cannot be read ({exc})") from None
