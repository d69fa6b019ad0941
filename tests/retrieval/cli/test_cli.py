"""The command line as a user runs it: readable answers, JSON for scripts, batches, and one-line errors."""

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, Retriever, load_corpus
from retrieval.cli.cli import main, show_library_log
from retrieval.ingest.prepared import prepare
from retrieval.store.build import build_index

from ...conftest import PROJECT


def cli_over(index: RetrievalConfig, tmp_path: Path):
    """Run `python -m retrieval` in-process against an already built index of the seeds."""
    config = tmp_path / "config.toml"
    config.write_text(f'[retrieval]\nsources = "{index.sources}"\nindex = "{index.index}"\n')

    def run(*args: str) -> int:
        return main([args[0], "--config", str(config), *args[1:]])
    return run


@pytest.fixture
def cli(seeds_config: RetrievalConfig, retriever, tmp_path: Path):
    """The command line over the session's real seeds index, with the real model."""
    return cli_over(seeds_config, tmp_path)


@pytest.fixture
def fast_cli(fast_config: RetrievalConfig, fast_retriever, word_hash_model, tmp_path: Path):
    """The command line over the fast tier's seeds index, for what does not depend on the model's judgement."""
    return cli_over(fast_config, tmp_path)


def run_module(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retrieval", *args], input=stdin, capture_output=True,
                          text=True, cwd=PROJECT, timeout=120)


def test_search_prints_cited_passages(fast_cli, capsys):
    assert fast_cli("search", "How many North Korean refugees has NAUH resettled?") == 0
    out = capsys.readouterr().out
    assert out.startswith('1. [Robert Park, "Ji Seong-ho: Hero fostering unity and inspiring change"')
    assert "about 215 North Korean refugees" in out


def test_search_json_for_scripts(fast_cli, capsys):
    assert fast_cli("search", "--json", "-k", "2", "Where is NAUH based?") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["query"] == "Where is NAUH based?" and len(answer["results"]) <= 2
    assert answer["results"][0]["citation"].startswith("[")


@pytest.mark.slow
def test_off_topic_search_says_the_sources_do_not_cover_it(cli, capsys):
    assert cli("search", "What is the capital of Australia?") == 0
    assert "do not cover this question" in capsys.readouterr().out


@pytest.mark.slow
def test_batch_from_stdin_answers_one_json_line_per_question(cli, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Who founded NAUH?\n\nWho won the 2018 World Cup?\n"))
    assert cli("search", "--file", "-") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query"] for line in lines] == ["Who founded NAUH?", "Who won the 2018 World Cup?"]
    assert lines[0]["results"] and lines[1]["results"] == []


def test_batch_of_beir_queries_keeps_their_ids(fast_cli, capsys, tmp_path: Path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"_id": "q1", "text": "Who is Ju?"}\n{"_id": "q2", "text": "   "}\n')
    assert fast_cli("search", "--file", str(queries)) == 1  # one question failed, so the batch reports it
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["query_id"] == "q1" and first["results"]
    assert second["query_id"] == "q2" and "empty" in second["error"]


def test_batch_answers_around_lines_that_are_not_utf8(fast_cli, capsys, monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(b"Who founded NAUH?\ncaf\xe9 au lait?\nWhere is NAUH based?\n"),
                             encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert fast_cli("search", "--file", "-") == 1  # one question failed
    first, bad, last = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["results"] and last["results"]
    assert bad["query"] == "caf\ufffd au lait?" and "not valid UTF-8 (byte 0xe9" in bad["error"]


def test_an_unexpected_failure_costs_one_answer_not_the_batch(fast_cli, capsys, monkeypatch, tmp_path: Path):
    answer, answer_many = Retriever.answer, Retriever.answer_many

    def failing(self, question, *args, **kwargs):
        if question == "boom":
            raise RuntimeError("a bug")
        return answer(self, question, *args, **kwargs)

    def failing_together(self, questions, *args, **kwargs):  # questions are answered in batches first
        if "boom" in questions:
            raise RuntimeError("a bug")
        return answer_many(self, questions, *args, **kwargs)
    monkeypatch.setattr(Retriever, "answer", failing)
    monkeypatch.setattr(Retriever, "answer_many", failing_together)
    questions = tmp_path / "questions.txt"
    questions.write_text("Who founded NAUH?\nboom\nWhere is NAUH based?\n", encoding="utf-8")
    assert fast_cli("search", "--file", str(questions)) == 1
    first, bad, last = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["results"] and last["results"]
    assert bad == {"query": "boom", "error": "unexpected error: RuntimeError: a bug"}


def test_build_skips_a_document_over_max_file_mb_and_names_it_in_the_summary(tmp_path: Path, capsys,
                                                                             word_hash_model):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "dump.txt").write_text("Line after line.\n" * 1000, encoding="utf-8")
    (tmp_path / "docs" / "note.txt").write_text("A Note\n\nThe tide turns twice a day.\n", encoding="utf-8")
    (tmp_path / "docs" / "latin.txt").write_bytes("caf\xe9 latin-1".encode("latin-1"))
    config = tmp_path / "config.toml"
    config.write_text('[retrieval]\nsources = "docs"\nindex = "index"\nmax_file_mb = 0.01\n')
    assert main(["build", "--quiet", "--config", str(config)]) == 0
    captured = capsys.readouterr()
    indexed, skipped = captured.out.splitlines()
    assert indexed.startswith("indexed 1 passages from 1 sources")
    assert skipped.startswith("skipped 2 files: dump.txt (0.0 MB (17,000 bytes), over the 0.01 MB")
    assert ", latin.txt (not UTF-8 text" in skipped
    warnings = captured.err.splitlines()
    assert [line.split(" (")[0] for line in warnings] == ["skipped dump.txt", "skipped latin.txt"]

    assert main(["build", "--quiet", "--json", "--config", str(config)]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert [s["file"] for s in manifest["skipped"]] == ["dump.txt", "latin.txt"]
    assert manifest["skipped"][1]["reason"].startswith("not UTF-8 text")


def test_build_of_a_folder_with_only_an_oversized_document_fails(tmp_path: Path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "dump.txt").write_text("Line after line.\n" * 1000, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[retrieval]\nsources = "docs"\nindex = "index"\nmax_file_mb = 0.01\n')
    assert main(["build", "--config", str(config)]) == 1
    error = capsys.readouterr().err.splitlines()
    assert error[-1].startswith("error: ") and "holds no documents" in error[-1]
    assert "skipped dump.txt (0.0 MB (17,000 bytes), over the 0.01 MB" in error[-1]
    assert not (tmp_path / "index").exists()


def test_sources_lists_ids_titles_and_passage_counts(fast_cli, capsys):
    assert fast_cli("sources", "--json") == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["park-hero"]["passages"] == 24 and rows["park-hero"]["author"] == "Robert Park"


def test_show_prints_a_paragraph_by_its_citation_number(fast_cli, capsys):
    assert fast_cli("show", "park-hero", "--paragraph", "8") == 0
    assert "about 215 North Korean refugees" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["search", "   "], "the question is empty"),
    (["search", "x" * 100_000], "100,000 characters"),
    (["search", "--config", "nope.toml", "hi"], "config file nope.toml not found"),
    (["search", "--config", "seeds", "hi"], "config file seeds is a folder"),
    (["search", "--mode", "foo", "hi"], "argument --mode: invalid choice: 'foo'"),
    (["search", "--min-score", "nan", "hi"], "`min_score` must be between -1.0 and 1.0, not nan (command line)"),
    (["search", "--min-score", "1.5", "hi"], "`min_score` must be between -1.0 and 1.0, not 1.5 (command line)"),
    (["search", "--min-relevance", "2", "hi"], "`min_relevance` must be between 0.0 and 1.0, not 2.0"),
    (["search", "-k", "0", "hi"], "`-k` must be between 1 and 1000, not 0 (command line)"),
    (["eval", "--dense-weight", "2"], "`dense_weight` must be between 0.0 and 1.0, not 2.0 (command line)"),
    (["search", "caf\udce9"], "the question is not valid UTF-8 (byte 0xe9"),
])
def test_errors_are_one_line_with_no_traceback(args: list[str], message: str, capsys, monkeypatch):
    monkeypatch.chdir(PROJECT)
    assert main(args) == 1
    stderr = capsys.readouterr().err
    assert stderr.startswith(f"error: {message}") or message in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1


def test_show_prints_every_part_of_a_long_paragraph(fast_retriever, word_hash_model, tmp_path: Path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    long = " ".join(f"Sentence {i} of a paragraph that runs on about the river." for i in range(100))
    (docs / "river.txt").write_text(f"The River\n\n{long}\n\nThe sea is salty.\n", encoding="utf-8")
    build_index(prepare(load_corpus(docs)), fast_retriever.encoder, tmp_path / "index", docs, progress=False)
    config = tmp_path / "config.toml"
    config.write_text('[retrieval]\nsources = "docs"\nindex = "index"\n')
    assert main(["show", "river", "--paragraph", "2", "--json", "--config", str(config)]) == 0
    parts = json.loads(capsys.readouterr().out)["passages"]
    assert [p["paragraph"] for p in parts] == [2, 2, 2] and " ".join(p["text"] for p in parts) == long
    assert main(["show", "river", "--paragraph", "3", "--config", str(config)]) == 0
    assert "¶3\n   The sea is salty." in capsys.readouterr().out


def test_unknown_source_id_is_an_error(fast_cli, capsys):
    assert fast_cli("show", "nope") == 1
    assert "unknown source id 'nope'" in capsys.readouterr().err


def test_help_explains_every_command():
    result = run_module("--help")
    assert result.returncode == 0
    for command in ("build", "search", "sources", "show", "eval"):
        assert command in result.stdout


@pytest.mark.slow
def test_eval_reports_every_mode_side_by_side(cli, capsys):
    assert cli("eval", "--json") == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["mode"] for r in reports] == ["hybrid", "dense", "lexical"]
    assert all(r["questions"] >= 50 for r in reports)


def test_eval_on_a_beir_folder(fast_cli, capsys, tmp_path: Path):
    beir = tmp_path / "tiny"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d1", "title": "Tides", "text": "The moon pulls the sea."}\n'
                                       '{"_id": "d2", "title": "Bread", "text": "Yeast makes dough rise."}\n')
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "What makes bread dough rise?"}\n')
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\n")
    assert fast_cli("eval", "--beir", str(beir), "--index", str(tmp_path / "index"), "--json") == 0
    reports = json.loads(capsys.readouterr().out)
    assert all(r["ndcg10"] == 1.0 and r["queries"] == 1 for r in reports)


def test_search_context_in_json(fast_cli, capsys):
    question = "How many North Korean refugees has NAUH resettled?"
    assert fast_cli("search", "--json", "-k", "1", "--context", "1", question) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert [p["paragraph"] for p in result["context"]["before"]] == [7]
    assert [p["paragraph"] for p in result["context"]["after"]] == [9]


@pytest.mark.parametrize("command", ["build", "search", "sources", "show", "eval", "bench"])
def test_every_command_explains_itself(command: str, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and "--config" in capsys.readouterr().out


@pytest.mark.slow
def test_not_covered_names_the_threshold_the_answer_used(cli, capsys):
    assert cli("search", "--min-relevance", "0.97", "Who won the 2018 World Cup?") == 0
    out = capsys.readouterr().out
    assert out.startswith("The sources do not cover this question") and "needed 0.97" in out


def test_the_library_log_is_shown_as_plain_lines_on_stderr(capsys):
    show_library_log()
    show_library_log()  # once is enough, however often main() runs in one process
    logging.getLogger("retrieval.loader").info("index missing: building the index now")
    logging.getLogger("retrieval.loader").debug("not shown")
    assert capsys.readouterr().err == "index missing: building the index now\n"
