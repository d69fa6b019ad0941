"""The config file: defaults, paths relative to the file, and mistakes named by key and file."""

from pathlib import Path

import pytest

from retrieval import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file():
    config = load_config(None)
    assert (config.retrieval.top_k, config.retrieval.model, config.bot.require_mention) == (3, "packaged", True)


def test_paths_are_relative_to_the_config_file(tmp_path: Path):
    config = load_config(write(tmp_path, '[retrieval]\nsources = "docs"\nmin_score = 0\n'))
    assert config.retrieval.sources == tmp_path / "docs"
    assert config.retrieval.min_score == 0.0


def test_the_example_config_is_valid_and_matches_the_defaults():
    example = load_config(Path(__file__).resolve().parents[2] / "config.example.toml")
    defaults = load_config(None)
    assert example.retrieval.top_k == defaults.retrieval.top_k
    assert example.retrieval.min_score == defaults.retrieval.min_score
    assert example.bot.cooldown_seconds == defaults.bot.cooldown_seconds
    assert example.retrieval.max_file_mb == defaults.retrieval.max_file_mb == 20


@pytest.mark.parametrize(("text", "message"), [
    ("[retrieval]\ntopk = 3\n", r"\[retrieval\]: unknown key `topk`"),
    ('[retrieval]\ntop_k = "3"\n', r"`top_k` must be int, not str"),
    ("[retrieval]\ntop_k = true\n", r"`top_k` must be int, not bool"),
    ("[retrieval]\ntop_k = 0\n", r"`top_k` must be between 1 and 25"),
    ("[retrieval]\nmax_file_mb = 0\n", r"`max_file_mb` must be between 0.01 and 100000"),
    ('[retrieval]\nauto_build = "always"\n', r"`auto_build` must be one of"),
    ("[bot]\nquestion_channels = [1, \"two\"]\n", r"`question_channels`\[1\] must be int"),
    ("[server]\nport = 1\n", r"unknown section \[server\]"),
    ("[retrieval\n", r"not valid TOML"),
])
def test_mistakes_name_the_key_and_the_file(tmp_path: Path, text: str, message: str):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as error:
        load_config(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("token", ['["s3cret-token"]', '{ value = "s3cret-token" }'])
def test_a_wrongly_written_token_is_never_shown(tmp_path: Path, token: str):
    with pytest.raises(ConfigError, match=r"`token` must be str") as error:
        load_config(write(tmp_path, f"[bot]\ntoken = {token}\n"))
    assert "s3cret" not in str(error.value)


def test_a_folder_is_not_a_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)


def test_a_missing_config_file_says_how_to_make_one(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"copy config\.example\.toml"):
        load_config(tmp_path / "config.toml")
