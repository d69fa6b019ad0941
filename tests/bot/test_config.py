"""The bot's config file: [retrieval] and [bot] read together, every other section and mistake named."""

from pathlib import Path

import pytest

from bot.config import BotConfig, load_bot_config
from retrieval import ConfigError, load_config
from retrieval.settings import SettingError

from ..support.configs import assert_refused, write


def test_defaults_without_a_file():
    config = load_bot_config(None)
    assert (config.retrieval.search.top_k, config.bot.require_mention, config.bot.feedback) == (4, True, True)


def test_both_sections_are_read_with_paths_relative_to_the_file(tmp_path: Path):
    config = load_bot_config(write(tmp_path, '[retrieval]\nsources = "docs"\n\n[bot]\nfeedback_db = "votes.sqlite"\n'
                                             "question_channels = [7]\n"))
    assert config.retrieval == load_config(config.path).retrieval
    assert (config.retrieval.sources, config.bot.feedback_db) == (tmp_path / "docs", tmp_path / "votes.sqlite")
    assert config.bot.question_channels == [7]


def test_the_example_config_is_valid_and_matches_the_defaults():
    example = load_bot_config(Path(__file__).resolve().parents[2] / "config.example.toml")
    defaults = load_bot_config(None).bot
    paths = ("feedback_db", "server_sources")  # a path is relative to its file
    assert {k: v for k, v in vars(example.bot).items() if k not in paths} == \
        {k: v for k, v in vars(defaults).items() if k not in paths}


@pytest.mark.parametrize(("text", "message"), [
    ("[bot]\nquestion_channels = [1, \"two\"]\n", r"`question_channels`\[1\] must be int"),
    ("[bot]\ncooldown_seconds = -1\n", r"\[bot\] `cooldown_seconds` must be between 0.0 and 3600.0"),
    ("[server]\nport = 1\n", r"unknown section \[server\]; known sections: retrieval, bot"),
    ("[retrival]\nsources = 1\n", r"unknown section \[retrival\]; did you mean \[retrieval\]\?"),
])
def test_mistakes_name_the_key_and_the_file(tmp_path: Path, text: str, message: str):
    assert_refused(load_bot_config, tmp_path, text, message)


@pytest.mark.parametrize("token", ['["s3cret-token"]', '{ value = "s3cret-token" }'])
def test_a_wrongly_written_token_is_never_shown(tmp_path: Path, token: str):
    with pytest.raises(ConfigError, match=r"`token` must be str") as error:
        load_bot_config(write(tmp_path, f"[bot]\ntoken = {token}\n"))
    assert "s3cret" not in str(error.value)


@pytest.mark.parametrize(("name", "value"), [("cooldown_seconds", True), ("shard_count", False),
                                             ("stop_grace_seconds", float("nan")), ("max_upload_mb", 501.0)])
def test_a_setting_made_in_python_is_refused_out_of_range_as_a_boolean_or_nan(name: str, value: object):
    with pytest.raises(SettingError, match=f"`{name}` must be between"):
        BotConfig(**{name: value})
