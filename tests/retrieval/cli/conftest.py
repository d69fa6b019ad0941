"""What the command line's tests share."""

import pytest

from retrieval import loader

from ...encoders import WordHashEncoder


@pytest.fixture
def word_hash_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line configured with the word-hash stand-in instead of the packaged model."""
    monkeypatch.setattr(loader, "resolve_model", lambda *_, **__: WordHashEncoder.identity)
    monkeypatch.setattr(loader, "load_encoder", lambda *_, **__: WordHashEncoder())
    monkeypatch.setattr(loader, "LazyEncoder", lambda *_, **__: WordHashEncoder())  # a rebuild's
