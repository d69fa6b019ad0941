"""The config file: defaults, paths relative to the file, and mistakes named by key and file."""

from pathlib import Path

import pytest

from retrieval import ConfigError, RetrievalConfig, load_config
from retrieval.settings import SearchSettings

from ..support.configs import assert_refused, write


def test_defaults_without_a_file():
    config = load_config(None)
    assert (config.retrieval.search.top_k, config.retrieval.model, config.path) == (4, "packaged", None)


def test_paths_are_relative_to_the_config_file(tmp_path: Path):
    config = load_config(write(tmp_path, '[retrieval]\nsources = "docs"\n\n[retrieval.search]\nmin_score = 0\n'
                                         'reranker = "models/cross"\n'))
    assert config.retrieval.sources == tmp_path / "docs"
    assert config.retrieval.search.min_score == 0.0
    assert config.retrieval.search.reranker == tmp_path / "models" / "cross"


def test_a_config_made_in_python_converts_and_checks_like_the_file():
    config = RetrievalConfig(sources="docs", index="index")
    assert config.sources == Path("docs") and config.index == Path("index")
    with pytest.raises(ConfigError, match=r"`mode` must be one of 'hybrid', 'dense', 'lexical', not 'fuzzy'"):
        SearchSettings(mode="fuzzy")
    with pytest.raises(ConfigError, match=r"`min_relevance` must be between 0.0 and 1.0, not nan"):
        SearchSettings(min_relevance=float("nan"))


def test_the_example_config_is_valid_and_matches_the_defaults():
    example = load_config(Path(__file__).resolve().parents[2] / "config.example.toml")
    defaults = load_config(None)
    assert example.retrieval.search == defaults.retrieval.search
    assert example.retrieval.max_file_mb == defaults.retrieval.max_file_mb == 20
    assert example.retrieval.serve == defaults.retrieval.serve
    stores = ("store", "milvus_uri", "milvus_collection")
    assert [getattr(example.retrieval, key) for key in stores] == [getattr(defaults.retrieval, key) for key in stores]


@pytest.mark.parametrize(("text", "message"), [
    ("[retrieval]\ntopk = 3\n", r"\[retrieval\]: unknown key `topk`"),
    ('[retrieval.search]\ntop_k = "3"\n', r"`top_k` must be int, not str"),
    ("[retrieval.search]\ntop_k = true\n", r"`top_k` must be int, not bool"),
    ("[retrieval.search]\ntop_k = 0\n", r"\[retrieval.search\] `top_k` must be between 1 and 1000"),
    ('[retrieval.search]\nfusion = "sum"\n', r"`fusion` must be one of 'weighted', 'rrf'"),
    ("[retrieval]\ntop_k = 3\n", r"\[retrieval\]: unknown key `top_k`"),
    ("[retrieval]\nmax_file_mb = 0\n", r"`max_file_mb` must be between 0.01 and 100000"),
    ('[retrieval]\nauto_build = "always"\n', r"`auto_build` must be one of"),
    ("retrieval = 3\n", r"`retrieval` must be a \[retrieval\] table"),
    ("[retrieval\n", r"not valid TOML"),
])
def test_mistakes_name_the_key_and_the_file(tmp_path: Path, text: str, message: str):
    assert_refused(load_config, tmp_path, text, message)


def test_sections_other_programs_own_are_left_to_them(tmp_path: Path):
    config = load_config(write(tmp_path, '[retrieval]\nbatch_size = 8\n\n[bot]\ncooldown_seconds = 1\n'
                                         'question_channels = "not checked here"\n'))
    assert config.retrieval.batch_size == 8 and not hasattr(config, "bot")


@pytest.mark.parametrize(("text", "message"), [
    ('[retrival]\nsources = "docs"\n', r"unknown section \[retrival\]; did you mean \[retrieval\]\? known sections: "
     "retrieval, bot"),
    ("[bots]\ncooldown_seconds = 1\n", r"unknown section \[bots\]; did you mean \[bot\]\?"),
    ("[server]\nport = 1\n", r"unknown section \[server\]; known sections: retrieval, bot"),
])
def test_a_misspelt_section_is_refused_naming_the_nearest(tmp_path: Path, text: str, message: str):
    # left alone it would be skipped, and every setting in it silently left at its default
    assert_refused(load_config, tmp_path, text, message)


def test_a_folder_is_not_a_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)


def test_a_missing_config_file_says_how_to_make_one(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"copy config\.example\.toml"):
        load_config(tmp_path / "config.toml")
