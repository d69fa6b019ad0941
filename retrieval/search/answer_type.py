"""A question and passages in, one number out: 1 when the question's wording asks for a kind of answer ("how tall": a
measure, "when": a date, "phone number"...; regular expressions, English) that the passages' sentences about it do
not hold, else 0 (a feature of the late gate, search/coverage.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_NUMBER = r"\d[\d,.]*"
_COUNT_WORDS = (r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|twenty|thirty|forty|fifty|sixty"
                r"|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?")
_QUANTITY = rf"(?:{_NUMBER}|\b(?:{_COUNT_WORDS}))"
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december"
           r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_MONTHS_SAFE = _MONTHS.replace("|may|", "|")  # "may" is a month only before a day: "may" is a verb too
_WEEKDAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_UNITS = (r"mm|cm|m|km|millimet(?:er|re)s?|centimet(?:er|re)s?|met(?:er|re)s?|kilomet(?:er|re)s?|mi|miles?|ft|feet|foot"
          r"|inch(?:es)?|yards?|kg|g|kilo(?:gram)?s?|grams?|lbs?|pounds|tons?|tonnes?|acres?|hectares?|sq|square"
          r"|km2|mph|km/h|knots|storeys|stories|floors")
_STREETS = r"street|st|road|rd|avenue|ave|boulevard|blvd|lane|ln|drive|dr|way|place|pl|square|plaza|floor"
_TIME_UNITS = r"years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|century"

# What a passage holds, kind by kind. A year is a date, not a count: "how many" wants some other number.
HOLDS: dict[str, re.Pattern[str]] = {
    "count": re.compile(rf"(?<![\d.])(?!(?:1\d|20)\d\ds?\b)\d[\d,.]*|\b(?:{_COUNT_WORDS})\b", re.IGNORECASE),
    "date": re.compile(rf"\b(?:1\d{{3}}|20\d\d)s?\b|\b(?:in|since|by|from|until|around|after|before)\s+\d{{3}}s?\b"
                       rf"|\b\d{{1,2}}\s+(?:{_MONTHS})\b|\b(?:{_MONTHS_SAFE})\b|\bmay\s+\d|\b{_WEEKDAYS}\b"
                       r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d+(?:st|nd|rd|th)\s+century\b", re.IGNORECASE),
    "measure": re.compile(rf"{_QUANTITY}\s*-?\s*(?:{_UNITS})\b", re.IGNORECASE),
    "duration": re.compile(rf"{_QUANTITY}\s*-?\s*(?:{_TIME_UNITS})\b", re.IGNORECASE),
    "money": re.compile(rf"[$€£¥₩]\s?\d|{_QUANTITY}\s*(?:million|billion|trillion)?\s*(?:dollars|euros|won|yen|yuan"
                        r"|usd|eur|krw|pounds sterling)\b|\b(?:usd|us\$|krw)\s?\d", re.IGNORECASE),
    "age": re.compile(rf"\bage[ds]?\s+(?:of\s+)?{_QUANTITY}|\b{_QUANTITY}\s*-?\s*years?\s*-?\s*old\b"
                      rf"|\bat\s+(?:the\s+age\s+of\s+)?\d{{1,2}}\b(?!\s*(?:{_UNITS}|{_TIME_UNITS}|%|percent))"
                      r"|\bborn\b[^.]{0,40}\b(?:1[5-9]|20)\d\d\b|\(\s*(?:born|b\.)\s", re.IGNORECASE),
    "email": re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"),
    "address": re.compile(rf"\b\d{{1,5}}[a-z]?,?\s+(?:[A-Z][\w.'-]*\s+){{1,4}}(?:{_STREETS})\b"
                          r"|\b[A-Z]\w+-(?:ro|gil|daero)\s*\d|\bp\.?\s?o\.?\s+box\s+\d", re.IGNORECASE),
    "phone": re.compile(r"(?:\+\d{1,3}[\s.-]?)?\(?\b\d{1,4}\)?[\s.-]\d{3,4}[\s.-]\d{3,4}\b"
                        r"|\b(?:tel|phone)\b\.?:?\s*\+?\d", re.IGNORECASE),
}

# What a question asks for, first match wins (the most specific wordings first), and the kinds that answer it:
# "how long" and "how many years" are often answered by dates or durations, so those count too.
ASKS: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE), frozenset(kinds)) for name, pattern, kinds in (
        ("phone", r"\b(?:phone|telephone|mobile|fax)\s+number\b", {"phone"}),
        ("email", r"\be-?mail\b", {"email"}),
        ("address", r"\b(?:postal|street|mailing|office|home|the|an?|its|his|her|their|\w+'s)\s+address\b"
                    r"(?!\s+(?:the|this|that|it))", {"address"}),
        ("age", r"\bhow old\b|\bat what age\b|\bwhat age\b", {"age"}),
        ("money", r"\b(?:salary|salaries|wages?|budget|costs?|tuition|fees?|money|income|revenue|gdp|donations?|earn"
                  r"|earns|earned|worth)\b|\bwhat (?:is|was|are|were) the prices?\b", {"money"}),
        ("length", r"\bhow long\b", {"measure", "duration", "date"}),
        ("measure", r"\bhow (?:tall|high|far|wide|deep|heavy|big|large)\b|\b(?:height|length|distance|weight)\b",
         {"measure"}),
        ("times", r"\bhow many (?:years|months|weeks|days|hours|times|decades|centuries)\b",
         {"count", "duration", "date"}),
        ("count", r"\bhow many\b|\bhow much\b|\bwhat (?:is|was) the number of\b|\bpopulation\b|\bcirculation\b"
                  r"|\bpercentage\b",
         {"count", "money", "measure"}),
        ("date", r"^\s*when\b|\bwhen (?:did|was|were|is|does|do)\b|\bwhat (?:year|date|day|month|century|decade)\b"
                 r"|\bin (?:which|what) (?:year|month|century)\b|\bdate of birth\b|\bbirthday\b", {"date"}),
    ))


def asked_for(question: str) -> tuple[str, frozenset[str]] | None:
    """The kind of answer the question's wording asks for and the kinds of text that answer it; None for a
    question whose wording asks for none of these (who, why, what is...)."""
    for name, pattern, kinds in ASKS:
        if pattern.search(question):
            return name, kinds
    return None


def held(text: str) -> set[str]:
    """The kinds of answer the text holds."""
    return {kind for kind, pattern in HOLDS.items() if pattern.search(text)}


# Words that ask rather than say what is asked about.
FUNCTION_WORDS = frozenset((
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "whether", "is", "are", "was", "were",
    "be", "been", "being", "do", "does", "did", "done", "have", "has", "had", "can", "could", "would", "should",
    "will", "shall", "may", "might", "must", "much", "many", "get", "got", "make", "made", "say", "says", "said",
    "tell", "told", "according", "there", "here", "also", "ever", "even", "very", "just",
))
# ...and those that name the kind of answer asked for: a sentence sharing one of these with the question says nothing.
ASKING = FUNCTION_WORDS | {"number", "old", "long", "tall", "high", "year", "years", "date"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\W\d_][\w'-]*")

Terms = Callable[[list[str]], list[set[str]]]


def lacks_answer_type(question: str, passages: Sequence[str], terms: Terms | None = None) -> float:
    """1.0 when the question asks for a kind of answer (a measure, a date, a count...) that none of the passages
    holds, else 0.0 (also for a question that asks for no such kind). With `terms` (texts in, each one's stemmed
    words out), only the passages' sentences sharing a word with what the question asks about count."""
    asked = asked_for(question)
    if asked is None:
        return 0.0
    texts = list(passages) if terms is None else about(question, passages, terms)
    return 0.0 if any(held(text) & asked[1] for text in texts) else 1.0


def about(question: str, passages: Sequence[str], terms: Terms) -> list[str]:
    """The passages' sentences that share a stemmed word with the question's content words (in lower case: not a
    name; not a word of asking); every passage whole when the question has no such word."""
    content = " ".join(w for w in _WORD.findall(question) if w[:1].islower() and w not in ASKING)
    sentences = [sentence for text in passages for sentence in _SENTENCE_END.split(text)]
    wanted, *found = terms([content, *sentences])
    if not wanted:
        return list(passages)
    return [sentence for sentence, words in zip(sentences, found, strict=True) if words & wanted]
