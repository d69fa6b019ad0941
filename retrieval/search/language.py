"""A question in, whether it is written in a language the model reads out: all-MiniLM-L6-v2 was trained on
English only, so a question in another language gets confident-looking passages that have nothing to do with it.
Unreadable raises QueryError's subclass with the language's name, so every caller says so instead of searching."""

from __future__ import annotations

import unicodedata
from functools import cached_property

import numpy as np

from ..errors import QueryError

READS = "en"  # the model's one language (ISO 639-1)
# A question of at least this many words in the Latin script is judged by its words; a shorter one ("ok", "NAUH?")
# is too short to tell (py3langid gives English under 0.01 for "hi", "lol", "ok" and "NAUH?").
MIN_WORDS = 3
# ...and refused when py3langid's probability that it is English is below this. On the 2,259 English development
# questions (seeds' gold, unanswered and chatter sets, SQuAD's, SciFact's claims) the lowest of three words or more
# is 0.0007 (the gibberish "asdkjh qwpoeiru zxmcnv"), the next lowest 0.007; questions in Spanish, German,
# French, Italian, Portuguese, Dutch and Vietnamese tried by hand were all below 0.0012.
MIN_ENGLISH = 0.002
# A question most of whose letters are in another script (Hangul, Han, Cyrillic, Arabic...) is not English.
MIN_LATIN_SHARE = 0.5
NAMES = {"ko": "Korean", "ja": "Japanese", "zh": "Chinese", "ru": "Russian", "uk": "Ukrainian", "ar": "Arabic",
         "fa": "Persian", "he": "Hebrew", "hi": "Hindi", "th": "Thai", "el": "Greek", "fr": "French", "de": "German",
         "es": "Spanish", "pt": "Portuguese", "it": "Italian", "nl": "Dutch", "vi": "Vietnamese", "tr": "Turkish",
         "pl": "Polish", "id": "Indonesian", "sv": "Swedish"}


class Unreadable(QueryError):
    """The question is not in English: the model cannot read it, so it is not searched."""

    def __init__(self, language: str | None) -> None:
        named = f" (this looks like {NAMES[language]})" if language in NAMES else ""
        super().__init__(f"I can only search these sources in English{named}. Ask your question in English")
        self.language = language


class LanguageCheck:
    """py3langid (BSD-3-Clause; a small n-gram model, about 0.2 ms a question) loaded on first use."""

    @cached_property
    def identifier(self):
        from py3langid.langid import MODEL_FILE, LanguageIdentifier  # its packaged model loads in under a second

        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def check(self, question: str) -> None:
        """Unreadable when the question is not English; nothing for English or a question too short to tell."""
        letters = [c for c in question if c.isalpha()]
        if not letters:
            return
        latin = sum("LATIN" in unicodedata.name(c, "") for c in letters) / len(letters)
        if latin < MIN_LATIN_SHARE:
            raise Unreadable(self.best_guess(question))
        if sum(any(c.isalpha() for c in word) for word in question.split()) < MIN_WORDS:
            return
        ranked = dict(self.identifier.rank(question))
        if ranked.get(READS, 0.0) < MIN_ENGLISH:
            raise Unreadable(self.best_guess(question))

    def best_guess(self, question: str) -> str | None:
        language, probability = self.identifier.classify(question)
        return language if language != READS and np.isfinite(probability) else None
