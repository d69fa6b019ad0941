"""`eval --formats`: a question set's articles written as PDF, web page, Word and Markdown keep every paragraph
the plain text has, each question's answering paragraph is found in every format, and every format answers as
the plain text does."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from retrieval import RetrievalConfig, Retriever, load_corpus, open_retriever
from retrieval.cli.cli import main
from retrieval.cli.evaluation import unicode_font
from retrieval.errors import RetrievalError
from retrieval.evaluate.formats import FORMATS, PLAIN, evaluate_formats, formats_table, holding, write_formats
from retrieval.evaluate.writers import Article, read_articles
from retrieval.records import Passage
from retrieval.settings import SearchSettings

from ...conftest import REPORTS, SQUAD, needs_data
from ...encoders import WordHashEncoder

MADE_UP_WORDS = SearchSettings(english_only=False)  # the questions are in no language the language check knows
SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "dor", "pi", "nas", "ter", "gu", "mo", "fin", "ax"]


def question_set(folder: Path, articles: int = 2, paragraphs: int = 14) -> Path:
    """A question set laid out like squad-dev: docs/*.txt (a title, then paragraphs of made-up words long
    enough to hyphenate and to run over page breaks) and questions.jsonl asking about each paragraph's middle."""
    rng = random.Random(7)
    words = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(3000)})
    (folder / "docs").mkdir(parents=True)
    questions = []
    for number in range(articles):
        body = []
        for _ in range(paragraphs):
            sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(8, 16))).capitalize() + "."
                         for _ in range(rng.randint(4, 8))]
            body.append(" ".join(sentences))
            questions.append({"q": f"What of {sentences[2][:-1].lower()}?", "doc": f"a{number}.txt",
                              "expect": [body[-1][:80]]})
        (folder / "docs" / f"a{number}.txt").write_text(f"Article {number}\n\n" + "\n\n".join(body) + "\n",
                                                        encoding="utf-8")
    (folder / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    return folder


def test_each_format_keeps_every_paragraph_of_the_plain_text(tmp_path: Path):
    articles = read_articles(question_set(tmp_path / "set").joinpath("docs"))
    folders = write_formats(articles, tmp_path / "formats", font=None)
    pdf = PdfReader(folders["pdf"] / "a0.pdf")
    first_page = pdf.pages[0].extract_text()
    assert len(pdf.pages) >= 2 and "-\n" in first_page and "Page 1 of" in first_page  # paged, hyphenated
    paragraphs = [p for article in articles for p in article.paragraphs]
    for name in FORMATS:
        passages = load_corpus(folders[name]).answerable()
        kept = [holding(paragraph, passages) for paragraph in paragraphs]
        assert [k for k, _, _ in kept] == ["whole"] * len(paragraphs), name
        assert not any(is_loose for *_, is_loose in kept), name
        assert len(passages) == len(paragraphs), name  # nothing else: no header, footer or chrome passage


def test_a_paragraph_merged_cut_or_lost_is_told_apart():
    paragraph = "The first sentence is here. The second one follows it. The third ends the paragraph."
    neighbour = "A neighbour paragraph stands alone."

    def passages(*texts: str) -> list[Passage]:
        return [Passage("doc", n, text) for n, text in enumerate(texts, start=1)]
    assert holding(paragraph, passages(neighbour, paragraph))[0] == "whole"
    assert holding(paragraph, passages(f"Page 3 {paragraph}"))[:2] == ("with other text", passages(
        f"Page 3 {paragraph}"))
    cut = passages(paragraph[:28], paragraph[28:], neighbour)
    assert holding(paragraph, cut)[:2] == ("in pieces", cut[:2])
    assert holding(paragraph, passages(neighbour))[:2] == ("lost", [])
    assert holding(paragraph, passages(paragraph.replace("second", "sec ond")))[::2] == ("whole", True)


def test_every_format_answers_as_well_as_the_plain_text(tmp_path: Path):
    question_set(tmp_path / "set")
    folders = write_formats(read_articles(tmp_path / "set" / "docs"), tmp_path / "formats", font=None)

    def open_index(folder: Path):
        return open_retriever(RetrievalConfig(sources=folder, index=tmp_path / f"{folder.name}-index",
                                              search=MADE_UP_WORDS),
                              progress=False, encoder=WordHashEncoder())
    reports = evaluate_formats(tmp_path / "set", folders, open_index)
    assert [r.name for r in reports] == [PLAIN, *FORMATS]
    plain = reports[0].report
    assert plain.on_topic == 28 and plain.top3 >= 0.9  # word overlap finds made-up words well
    for report in reports:
        assert report.kept == {"whole": 28} and report.unmapped_questions == 0
        assert report.report.on_topic == 28 and abs(report.report.top3 - plain.top3) <= 0.03
        assert report.paged == (1.0 if report.name == "pdf" else 0.0)  # PDF citations name the page
    table = formats_table(reports)
    assert table.splitlines()[1].split() == ["metric", "txt", "pdf", "html", "docx", "md"]
    unmapped = next(line for line in table.splitlines() if line.startswith("questions with no passage"))
    assert unmapped.split()[-5:] == ["0"] * 5


def test_format_folders_read_the_same_each_time_they_are_written(tmp_path: Path):
    articles = [Article("note", "A Note", ["One paragraph of plain words.", "Another paragraph follows."]),
                Article("gone", "Gone", ["An article the set will lose."])]
    first = write_formats(articles, tmp_path, font=None)
    prints = {name: load_corpus(folder).fingerprint for name, folder in first.items()}
    assert all(len(load_corpus(folder).sources) == 2 for folder in first.values())
    again = write_formats(articles, tmp_path, font=None)
    assert {name: load_corpus(folder).fingerprint for name, folder in again.items()} == prints  # index stays fresh
    for folder in write_formats(articles[:1], tmp_path, font=None).values():
        assert list(load_corpus(folder).sources) == ["note"]  # nothing left over from the articles before


def test_a_question_set_or_font_that_is_not_there_is_one_line(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the formats are written into .cache/ below the working folder
    font = tmp_path / "font.ttf"
    assert main(["eval", "--formats", str(tmp_path), "--font", str(font)]) == 1
    assert capsys.readouterr().err == (f"error: font {font} not found; give a .ttf file, or leave --font out for "
                                       "DejaVu Sans\n")
    font.write_bytes(b"not a font")
    assert main(["eval", "--formats", str(tmp_path / "nowhere"), "--font", str(font)]) == 1
    assert capsys.readouterr().err == (f"error: {tmp_path / 'nowhere' / 'docs'} not found; a question set holds "
                                       "docs/ (the articles, .txt) and questions.jsonl, as "
                                       "../shared/data/squad-dev does\n")
    question_set(tmp_path / "set")
    assert main(["eval", "--formats", str(tmp_path / "set"), "--font", str(font)]) == 1
    assert capsys.readouterr().err.startswith(f"error: {font} is not a usable TrueType font (")


SQUAD_ARTICLES = ("normans.txt", "southern-california.txt")  # 276 of its 473 questions, to keep the test short
WITHIN = 0.03  # the bar: every format's top-3 within 3 points of the plain text's


@pytest.mark.slow
@needs_data(SQUAD)
def test_squad_articles_in_every_format_answer_within_three_points_of_plain_text(
        retriever: Retriever, tmp_path: Path, pytestconfig: pytest.Config):
    try:
        font = unicode_font()
    except RetrievalError:
        pytest.skip("the DejaVu Sans font is not installed (apt-get install fonts-dejavu-core)")
    (tmp_path / "set" / "docs").mkdir(parents=True)
    for name in SQUAD_ARTICLES:
        shutil.copy(SQUAD / "docs" / name, tmp_path / "set" / "docs" / name)
    lines = (SQUAD / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "set" / "questions.jsonl").write_text(
        "".join(f"{line}\n" for line in lines if json.loads(line)["doc"] in SQUAD_ARTICLES), encoding="utf-8")
    folders = write_formats(read_articles(tmp_path / "set" / "docs"), tmp_path / "formats", font)

    def open_index(folder: Path) -> Retriever:
        return open_retriever(RetrievalConfig(sources=folder, index=tmp_path / f"{folder.name}-index",
                                              search=MADE_UP_WORDS),
                              progress=False, encoder=retriever.encoder, questions=retriever.questions)
    reports = evaluate_formats(tmp_path / "set", folders, open_index)
    pytestconfig.stash.setdefault(REPORTS, []).append(("SQuAD articles in each format", formats_table(reports)))
    plain = reports[0].report
    assert plain.on_topic == 276
    for report in reports:
        assert report.unmapped_questions == 0 and report.kept.get("lost", 0) == 0
        assert report.report.top3 >= plain.top3 - WITHIN, report.name
    assert {r.name: r.paged for r in reports}["pdf"] == 1.0
