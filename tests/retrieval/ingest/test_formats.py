"""Documents as people keep them: real PDFs (fpdf2), Word files (python-docx), web pages and Markdown, read into the
paragraphs a reader sees, with pages, sections, metadata from the files and one-line errors."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from retrieval import RetrievalConfig, SourceError, load_corpus, loader, open_retriever
from retrieval.cli import common as cli_common
from retrieval.cli.cli import main
from retrieval.ingest.prepared import prepare
from retrieval.ingest.readers import MAX_META_CHARS, MAX_URL_CHARS
from retrieval.records import Hit, Passage, Role
from retrieval.search.cite import citation
from retrieval.store.build import build_index

from ...encoders import WordHashEncoder
from ...support.documents import (
    ARTICLE,
    ARTICLE_PARAGRAPHS,
    EARLY,
    HEADER,
    LONG,
    RUNS_ON,
    RUNS_ON_NEXT,
    make_docx,
    make_pdf,
    report_pdf,
)


def texts(corpus, source_id: str) -> list[str]:
    return [p.text for p in corpus.answerable() if p.source_id == source_id]


# --- PDF ---------------------------------------------------------------------------------------------------------

def test_pdf_passages_are_the_paragraphs_a_reader_sees(tmp_path: Path):
    report_pdf(tmp_path / "report.pdf")
    corpus = load_corpus(tmp_path)
    body = texts(corpus, "report")
    assert body[0] == ("The international commission met in spring to review the well-known survey of northern "
                       "rivers, their seasonal floods and the fish that return to them every year.")
    assert body[1] == f"{RUNS_ON} {RUNS_ON_NEXT}"  # one passage across the page break
    assert body[2:] == [EARLY, "By 2010 the count had reached twelve thousand fish a season."]
    everything = " ".join(p.text for p in corpus.passages)
    assert HEADER not in everything and "Page" not in everything  # running header and footer dropped


def test_pdf_passages_keep_their_page_and_section(tmp_path: Path):
    report_pdf(tmp_path / "report.pdf")
    corpus = load_corpus(tmp_path)
    placed = [(p.paragraph, p.page, p.section, p.role) for p in corpus.passages]
    assert placed == [(1, 1, None, Role.HEADING), (2, 1, None, Role.BODY), (3, 1, None, Role.BODY),
                      (4, 2, "Early years", Role.HEADING), (5, 2, "Early years", Role.BODY),
                      (6, 3, "Early years", Role.BODY)]
    source = corpus.sources["report"]
    # the file's creation date (set by make_pdf) is when it was written, not a date the text states
    assert (source.title, source.author, source.date) == ("Rivers of the North", "Ana Lind", None)
    assert citation(source, corpus.passages[2]) == '[Ana Lind, "Rivers of the North", p. 1, ¶3]'
    assert citation(source, corpus.passages[4]) == '[Ana Lind, "Rivers of the North", p. 2, § Early years, ¶5]'


def test_a_pdf_is_dated_only_by_a_date_its_text_states(tmp_path: Path):
    make_pdf(tmp_path / "dated.pdf", [[("h", "Rivers of the North"), ("p", "By Ana Lind, 12 March 2019"),
                                       ("p", LONG)]])
    assert load_corpus(tmp_path).sources["dated"].date == "2019-03-12"


def test_pdf_in_other_scripts_reads_back_verbatim(tmp_path: Path):
    font = shutil.which("fc-match") and subprocess.run(
        ["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True).stdout
    if not font or "DejaVu" not in font or not Path(font).is_file():
        pytest.skip("the DejaVu Sans font is not installed (apt-get install fonts-dejavu-core)")
    greek = "Ο ποταμός Έλντερ γέμισε ξανά με σολομούς την άνοιξη του 2023."  # noqa: RUF001
    russian = "Река снова наполнилась лососем, и жители деревни отметили это праздником."
    make_pdf(tmp_path / "north.pdf", [[("h", "Βόρεια ποτάμια"), ("p", greek), ("p", russian)]], font=font)
    assert texts(load_corpus(tmp_path), "north") == [greek, russian]


def test_pdf_without_a_gap_starts_a_paragraph_at_an_indent_or_after_a_short_last_line(tmp_path: Path):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    first = "The first paragraph is long enough to wrap onto a second line of the page, as prose does in reports."
    pdf.multi_cell(0, 5, first + "\nIt ends here.", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, "A second paragraph with no gap above it but a full first line that wraps to the next "
                   "line too.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + 8)
    pdf.multi_cell(0, 5, "An indented third paragraph.", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "plain.pdf"))
    assert texts(load_corpus(tmp_path), "plain") == [
        f"{first} It ends here.",
        "A second paragraph with no gap above it but a full first line that wraps to the next line too.",
        "An indented third paragraph."]


def test_a_pdf_without_document_info_invents_nothing(tmp_path: Path):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5, "Only one sentence is here.")
    pdf.output(str(tmp_path / "bare.pdf"))
    writer = PdfWriter(clone_from=PdfReader(tmp_path / "bare.pdf"))
    writer.metadata = None  # fpdf2 always writes a creation date; a bare PDF has none
    writer.write(tmp_path / "bare.pdf")
    source = load_corpus(tmp_path).sources["bare"]
    assert (source.title, source.author, source.date) == ("bare", None, None)


# --- web pages, Word, Markdown -----------------------------------------------------------------------------------

def test_a_web_page_gives_only_its_article(tmp_path: Path):
    (tmp_path / "river.html").write_text(ARTICLE, encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert texts(corpus, "river") == ARTICLE_PARAGRAPHS
    everything = " ".join(p.text for p in corpus.passages).lower()
    for chrome in ("cookie", "related stories", "salmon numbers rise", "opinion", "rights reserved", "privacy"):
        assert chrome not in everything
    source = corpus.sources["river"]
    assert (source.title, source.author, source.date, source.publication) == (
        "The river that came back", "Maria Okafor", "2023-04-18", "Northern Herald")
    by_text = {p.text: p for p in corpus.passages}
    assert by_text[ARTICLE_PARAGRAPHS[0]].section is None
    assert by_text[ARTICLE_PARAGRAPHS[2]].section == "Early life of the project"
    assert by_text[ARTICLE_PARAGRAPHS[2]].role is Role.BODY  # "By 2010 ..." is no byline
    assert citation(source, by_text[ARTICLE_PARAGRAPHS[3]]) == (
        '[Maria Okafor, "The river that came back", Northern Herald, 2023-04-18, § What comes next, ¶7]')


def test_a_word_document_gives_one_passage_a_paragraph_with_headings_as_headings(tmp_path: Path):
    make_docx(tmp_path / "ferry.docx")
    corpus = load_corpus(tmp_path)
    assert [(p.text[:20], p.role, p.section, p.page) for p in corpus.passages] == [
        ("Ferry Crossings", Role.HEADING, None, None),
        ("The ferry at Elder C", Role.BODY, None, None),
        ("Early life", Role.HEADING, "Early life", None),
        ("Its first ferryman, ", Role.BODY, "Early life", None),
        ("Photo: the ferry in ", Role.CAPTION, "Early life", None),
        ("In winter the river ", Role.BODY, "Early life", None),
    ]
    source = corpus.sources["ferry"]
    assert (source.title, source.author, source.date) == ("Ferry Crossings", "Jonas Berg", "2019-03-02")
    assert citation(source, corpus.passages[3]) == '[Jonas Berg, "Ferry Crossings", 2019-03-02, § Early life, ¶4]'


def test_a_word_document_with_its_template_properties_states_no_author_or_date(tmp_path: Path):
    make_docx(tmp_path / "ferry.docx", author=None)  # python-docx's template says "python-docx", 2013-12-23
    source = load_corpus(tmp_path).sources["ferry"]
    assert (source.title, source.author, source.date) == ("Ferry Crossings", None, None)


def test_markdown_headings_are_headings_and_paragraphs_are_passages(tmp_path: Path):
    (tmp_path / "notes.md").write_text(
        "---\ntitle: River Notes\nauthor: A. Writer\ndate: 2020-05-06\n---\n\n# River Notes\n\n"
        "Rivers *run* to the [sea](https://example.org).\nThey never stop.\\\nNot even at night.\n\n"
        "## Early life\n\n"
        "By 2010 the river was clean.\n\n- Salmon came back.\n- Otters too.\n", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert [(p.text, p.role, p.section) for p in corpus.passages] == [
        ("River Notes", Role.HEADING, None),
        ("Rivers run to the sea. They never stop.\nNot even at night.", Role.BODY, None),  # wrapped; a hard break
        ("Early life", Role.HEADING, "Early life"),
        ("By 2010 the river was clean.", Role.BODY, "Early life"),
        ("Salmon came back.", Role.BODY, "Early life"),
        ("Otters too.", Role.BODY, "Early life"),
    ]
    source = corpus.sources["notes"]
    assert (source.title, source.author, source.date) == ("River Notes", "A. Writer", "2020-05-06")


def test_a_folder_of_pdf_html_and_docx_loads_and_the_manifest_still_wins(tmp_path: Path):
    report_pdf(tmp_path / "report.pdf")
    (tmp_path / "river.html").write_text(ARTICLE, encoding="utf-8")
    make_docx(tmp_path / "ferry.docx")
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nid = "lind-rivers"\nfile = "report.pdf"\ntitle = "Northern Rivers 2021"\n'
        'author = "A. Lind"\nkind = "report"\n', encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert sorted(corpus.sources) == ["ferry", "lind-rivers", "river"]
    report = corpus.sources["lind-rivers"]
    assert (report.title, report.author, report.date, report.kind, report.file) == (
        "Northern Rivers 2021", "A. Lind", None, "report", "report.pdf")
    assert {p.source_id for p in corpus.answerable()} == {"ferry", "lind-rivers", "river"}


# --- records -----------------------------------------------------------------------------------------------------

def test_page_and_section_round_trip_and_old_records_still_load():
    placed = Passage("report", 5, "Text.", Role.BODY, 1, 2, "Early years")
    assert placed.to_dict() == {"source_id": "report", "paragraph": 5, "role": "body", "text": "Text.",
                                "page": 2, "section": "Early years"}
    assert Passage.from_dict(json.loads(json.dumps(placed.to_dict()))) == placed
    old = {"source_id": "a", "paragraph": 1, "role": "body", "text": "Old."}
    assert Passage.from_dict(old) == Passage("a", 1, "Old.") and Passage("a", 1, "Old.").to_dict() == old


def test_a_hit_in_json_has_page_and_section_null_when_none(tmp_path: Path):
    make_docx(tmp_path / "ferry.docx")
    corpus = load_corpus(tmp_path)
    source, passage = corpus.sources["ferry"], corpus.passages[1]
    record = Hit(1, 1.0, passage, source, citation(source, passage)).to_dict()
    assert (record["page"], record["section"]) == (None, None)
    record = Hit(1, 1.0, corpus.passages[3], source, "").to_dict()
    assert (record["page"], record["section"]) == (None, "Early life")


# --- errors ------------------------------------------------------------------------------------------------------

def encrypted_pdf(path: Path) -> None:
    report_pdf(path)
    writer = PdfWriter(clone_from=PdfReader(path))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    writer.write(path)


def scanned_pdf(path: Path) -> None:
    """A page with a picture of text and no text layer, as a scanner makes it."""
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 170, 250, style="F")
    pdf.output(str(path))


@pytest.mark.parametrize(("name", "make", "message"), [
    ("locked.pdf", encrypted_pdf, r"locked\.pdf \(encrypted.*decrypt it first"),
    ("broken.pdf", lambda p: p.write_bytes(b"%PDF-1.7\n1 0 obj <<\nthis is not a PDF at all"),
     r"broken\.pdf \(cannot be read as a PDF .*save or print it to a new PDF"),
    ("scan.pdf", lambda p: scanned_pdf(p), r"scan\.pdf \(has no text to read .*OCR"),
    ("broken.docx", lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"),
     r"broken\.docx \(not a readable Word document .*save it again from Word"),
    ("menu.html", lambda p: p.write_text("<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav>"
                                         "</body></html>", encoding="utf-8"),
     r"menu\.html \(has no article text .*save the article's own page"),
])
def test_unreadable_documents_get_one_line_that_says_what_to_do(tmp_path: Path, name, make, message, caplog):
    make(tmp_path / name)
    with pytest.raises(SourceError, match=r"holds no documents; .*; skipped " + message) as caught:
        load_corpus(tmp_path)
    assert "\n" not in str(caught.value)
    assert caplog.messages == []  # the error names it; no warning besides


# --- end to end --------------------------------------------------------------------------------------------------

def test_an_index_over_pdf_html_and_docx_answers_with_the_page_cited(tmp_path: Path, monkeypatch, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    report_pdf(docs / "report.pdf")
    (docs / "river.html").write_text(ARTICLE, encoding="utf-8")
    make_docx(docs / "ferry.docx")
    build_index(prepare(load_corpus(docs)), WordHashEncoder(), tmp_path / "index", docs, progress=False)
    config = RetrievalConfig(sources=docs, index=tmp_path / "index")
    retriever = open_retriever(config, encoder=WordHashEncoder(), progress=False)
    hits = retriever.search("When did the survey start with two boats and a notebook?", k=3)
    assert hits[0].text == EARLY
    assert hits[0].citation == '[Ana Lind, "Rivers of the North", p. 2, § Early years, ¶5]'
    assert hits[0].to_dict()["page"] == 2

    monkeypatch.setattr(cli_common, "open_retriever",
                        functools.partial(open_retriever, encoder=WordHashEncoder()))
    toml = tmp_path / "config.toml"
    toml.write_text(f'[retrieval]\nsources = "{docs}"\nindex = "{tmp_path / "index"}"\n', encoding="utf-8")
    assert main(["show", "report", "--page", "2", "--json", "--config", str(toml)]) == 0
    shown = json.loads(capsys.readouterr().out)["passages"]
    assert [(p["paragraph"], p["page"]) for p in shown] == [(4, 2), (5, 2)]
    assert main(["show", "report", "--page", "2", "--config", str(toml)]) == 0
    assert "¶5, p. 2\n   The survey started in 1952" in capsys.readouterr().out
    assert main(["show", "report", "--page", "9", "--config", str(toml)]) == 1
    assert capsys.readouterr().err == "error: report has no page 9; it has pages 1 to 3\n"
    assert main(["show", "ferry", "--page", "1", "--config", str(toml)]) == 1
    assert capsys.readouterr().err.startswith("error: ferry has no pages (only PDFs do)")


def test_a_folder_with_broken_documents_builds_from_the_good_ones_and_records_the_rest(tmp_path: Path, caplog):
    docs = tmp_path / "docs"
    docs.mkdir()
    report_pdf(docs / "report.pdf")
    make_docx(docs / "ferry.docx")
    good = load_corpus(docs)
    encrypted_pdf(docs / "locked.pdf")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<\nthis is not a PDF at all")
    (docs / "notes.docx").write_bytes(b"PK\x03\x04 a zip, but not a Word document")
    corpus = load_corpus(docs)
    assert sorted(corpus.sources) == ["ferry", "report"] and corpus.fingerprint == good.fingerprint
    skipped = {s.file: s.reason for s in corpus.skipped}
    assert sorted(skipped) == ["broken.pdf", "locked.pdf", "notes.docx"]
    assert skipped["locked.pdf"].startswith("encrypted with a password; decrypt it first")
    assert skipped["broken.pdf"].startswith("cannot be read as a PDF")
    assert skipped["notes.docx"].startswith("not a readable Word document")
    assert caplog.messages == []

    manifest = build_index(prepare(corpus), WordHashEncoder(), tmp_path / "index", docs, progress=False)
    assert manifest.skipped == [{"file": s.file, "reason": s.reason} for s in corpus.skipped]
    said = [r.getMessage() for r in caplog.records if r.name.startswith("retrieval")]
    assert said == [f"skipped {s}" for s in corpus.skipped]  # the build says each, once
    retriever = open_retriever(RetrievalConfig(sources=docs, index=tmp_path / "index"), encoder=WordHashEncoder(),
                               progress=False)
    assert sorted(f["file"] for f in retriever.index.manifest.skipped) == sorted(skipped)
    hits = retriever.search("When did the survey start with two boats and a notebook?", k=3)
    assert hits[0].text == EARLY and hits[0].source.id == "report"


# --- PDF paragraphs found by eval --formats ----------------------------------------------------------------------

def test_pdf_a_heading_set_close_above_its_text_is_a_heading_of_its_own(tmp_path: Path):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5, LONG.replace("inter-\n", "inter"), align="J", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(0, 6, "Part 2", new_x="LMARGIN", new_y="NEXT")  # no gap between it and its text
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5, EARLY, align="J", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "parts.pdf"))
    corpus = load_corpus(tmp_path)
    assert [(p.text[:22], p.role, p.section) for p in corpus.passages] == [
        ("The international comm", Role.BODY, None), ("Part 2", Role.HEADING, "Part 2"),
        ("The survey started in ", Role.BODY, "Part 2")]


def test_pdf_a_full_line_at_the_foot_of_a_page_goes_on_with_the_next_page(tmp_path: Path):
    foot = "When the count ended the volunteers carried their notebooks back along the river to the old"
    make_pdf(tmp_path / "foot.pdf", [[("p", LONG), ("p", foot)], [("p", "Ferry House where the ledger was kept.")]])
    assert texts(load_corpus(tmp_path), "foot")[1:] == [f"{foot} Ferry House where the ledger was kept."]


# --- a build: progress per long PDF, each skipped file said once -------------------------------------------------

@pytest.fixture
def word_hash_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds from the command line with the word-hash stand-in for the model."""
    monkeypatch.setattr(loader, "resolve_model", lambda *_, **__: WordHashEncoder.identity)
    monkeypatch.setattr(loader, "load_encoder", lambda *_, **__: WordHashEncoder())


LEDGER = ["Salmon passed the weir at dawn.", "The ferryman counted trout by the mill.",
          "Otters were seen below the bridge.", "Rain raised the river overnight.", "Herons fished the shallows."]


def long_pdf(path: Path, pages: int) -> Path:
    """A ledger of `pages` pages, a line each (no line on most pages, so none is a running header)."""
    return make_pdf(path, [[("p", f"Entry {n}. {LEDGER[n % len(LEDGER)]}")] for n in range(1, pages + 1)])


def test_a_long_pdf_shows_a_bar_over_its_pages_when_progress_is_on(tmp_path: Path, capsys):
    long_pdf(tmp_path / "ledger.pdf", 60)
    report_pdf(tmp_path / "report.pdf")  # 3 pages: too short for a bar
    assert len(load_corpus(tmp_path, progress=True).sources) == 2
    bar = capsys.readouterr().err
    assert "Reading ledger.pdf: 100%" in bar and "60/60" in bar and "report.pdf" not in bar
    load_corpus(tmp_path)
    assert capsys.readouterr().err == ""


def test_a_folder_of_formats_with_bad_pdfs_builds_and_says_each_bad_file_once(tmp_path: Path, capsys,
                                                                             word_hash_build):
    docs = tmp_path / "docs"
    docs.mkdir()
    long_pdf(docs / "ledger.pdf", 60)
    (docs / "river.html").write_text(ARTICLE, encoding="utf-8")
    make_docx(docs / "ferry.docx")
    encrypted_pdf(docs / "locked.pdf")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<\nthis is not a PDF at all")
    config = tmp_path / "config.toml"
    config.write_text(f'[retrieval]\nsources = "{docs}"\nindex = "{tmp_path / "index"}"\n', encoding="utf-8")

    def said(err: str) -> list[str]:
        return [line.split(" (")[0] for line in err.splitlines() if line.startswith("skipped ")]

    assert main(["build", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1].startswith("skipped 2 files: broken.pdf (cannot be read as a PDF")
    assert ", locked.pdf (encrypted with a password; decrypt it first" in out.splitlines()[1]
    assert said(err) == ["skipped broken.pdf", "skipped locked.pdf"] and "Reading ledger.pdf: 100%" in err

    for quiet in (["--quiet"], ["--json"]):  # no bars for --quiet, nor beside --json's manifest
        assert main(["build", *quiet, "--config", str(config)]) == 0
        err = capsys.readouterr().err
        assert said(err) == ["skipped broken.pdf", "skipped locked.pdf"] and "Reading" not in err

    assert main(["sources", "--config", str(config)]) == 0  # a fresh index: the folder is read, nothing said
    assert said(capsys.readouterr().err) == []
    (docs / "notes.md").write_text("# Notes\n\nThe ferry ran until 1961.\n", encoding="utf-8")
    # stale: read once for the check and built from that same reading, so each file is said once
    assert main(["search", "--rebuild", "--config", str(config), "When did the ferry stop?"]) == 0
    out, err = capsys.readouterr()
    assert said(err) == ["skipped broken.pdf", "skipped locked.pdf"] and "1961" in out


# --- hostile metadata and nesting --------------------------------------------------------------------------------

def test_metadata_fields_and_section_names_are_capped_when_read(tmp_path: Path):
    huge = "Ana Lind " * 1_000_000  # 9 MB of author, as a hostile file states it
    heading = "Early years " * 1_000
    (tmp_path / "notes.md").write_text(f"---\ntitle: River Notes\nauthor: {huge}\nurl: https://example.org/"
                                       f"{'a' * 5000}\n---\n\n# River Notes\n\n## {heading}\n\nThe ferry ran.\n",
                                       encoding="utf-8")
    corpus = load_corpus(tmp_path)
    source = corpus.sources["notes"]
    assert len(source.author) <= MAX_META_CHARS and source.author.startswith("Ana Lind Ana") and \
        source.author.endswith("…")
    assert len(source.url) <= MAX_URL_CHARS and source.title == "River Notes"
    (passage,) = corpus.answerable()
    assert len(passage.section) <= MAX_META_CHARS and len(citation(source, passage)) < 3 * MAX_META_CHARS


def test_markdown_nested_past_the_parsers_limit_is_refused_not_cut_short(tmp_path: Path):
    (tmp_path / "deep.md").write_text("# Deep\n\nThe first paragraph.\n\n" + "> " * 25 + "Quoted deep down.\n\n"
                                      "The rest of the file.\n", encoding="utf-8")
    (tmp_path / "list.md").write_text("- " * 12 + "A list item twelve deep.\n\nThe rest.\n", encoding="utf-8")
    (tmp_path / "fine.md").write_text("> " * 19 + "Quoted nineteen deep.\n", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert texts(corpus, "fine") == ["Quoted nineteen deep."]
    skipped = {s.file: s.reason for s in corpus.skipped}
    assert skipped["deep.md"].startswith("nests quotes or lists more than 20 deep (from line 5), and the Markdown "
                                         "reader stops there, so the rest would be lost")
    assert skipped["list.md"].startswith("nests quotes or lists more than 20 deep (from line 1)")
