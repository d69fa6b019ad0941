"""Config files written for a test, and the check that a loader refuses one with a message naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def assert_refused(load, tmp_path: Path, text: str, message: str) -> None:
    """`load` refuses a config file holding `text` with a ConfigError matching `message` and naming the file."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as error:
        load(path)
    assert str(path) in str(error.value)
