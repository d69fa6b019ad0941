"""Articles of plain text (a title, then paragraphs between blank lines) written out as people keep documents:
a paged PDF report, a saved web page, a Word file and hard-wrapped Markdown, for `eval --formats`.

Each is made the way real ones are, chrome and all: the PDF (fpdf2) has a running header, "Page N of M" footers,
justified text with words hyphenated at line ends and paragraphs that run over page breaks; the web page wraps
its <article> in a cookie banner, navigation, related stories and a footer; the Word file (python-docx) and the
Markdown have a title, part headings and their paragraphs."""

from __future__ import annotations

import datetime as dt
import html
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..errors import RetrievalError
from ..ingest.readers import read_text

PUBLISHER = "Open Encyclopedia Review"
AUTHOR = "Wikipedia contributors"
PUBLISHED = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)  # fixed, so that a rewrite reads the same
PART_EVERY = 10  # paragraphs between part headings: sections for the formats that have them
SOFT_HYPHEN = "\xad"  # fpdf2 breaks a line there and prints a hyphen, as word processors hyphenate
VOWELS = frozenset("aeiouy")
MIN_HYPHEN_PIECE = 3  # letters kept on each side of a hyphenation point ("cultu-ral", never "c-ultural")
MARKDOWN_WRAP = 88  # columns of hard-wrapped Markdown, as editors wrap notes
BLOCK_START = re.compile(r"^([-+*>#=|]|\d+[.)])(\s|$)")  # a wrapped line starting so would open a list or heading
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


@dataclass(frozen=True)
class Article:
    """A plain-text document: its file's stem, its title (the first block) and its paragraphs."""

    name: str
    title: str
    paragraphs: list[str]

    def parts(self) -> list[tuple[str | None, list[str]]]:
        """The paragraphs in runs of PART_EVERY, each after a heading ("Part 2"); the first run has none."""
        return [(f"Part {at // PART_EVERY + 1}" if at else None, self.paragraphs[at:at + PART_EVERY])
                for at in range(0, len(self.paragraphs), PART_EVERY)]


def read_articles(folder: Path) -> list[Article]:
    """Every .txt file of a folder as an article; RetrievalError when there is none."""
    if not folder.is_dir():
        raise RetrievalError(f"{folder} not found; a question set holds docs/ (the articles, .txt) and "
                             "questions.jsonl, as ../shared/data/squad-dev does")
    articles = []
    for path in sorted(folder.glob("*.txt")):
        blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", read_text(path)) if b.strip()]
        if len(blocks) >= 2:
            articles.append(Article(path.stem, blocks[0], blocks[1:]))
    if not articles:
        raise RetrievalError(f"{folder} holds no .txt articles (a title, then paragraphs between blank lines)")
    return articles


# --- PDF ---------------------------------------------------------------------------------------------------------

def hyphenated(text: str) -> str:
    """The text with soft hyphens where a word may break between syllables: before a consonant that starts
    a vowel's syllable (vowel, consonant, vowel), keeping MIN_HYPHEN_PIECE letters on each side. Cruder than
    a dictionary, but it breaks words at line ends as a justified report does."""
    def word(match: re.Match) -> str:
        letters = match.group()
        low = letters.lower()
        cuts = [at for at in range(MIN_HYPHEN_PIECE, len(low) - MIN_HYPHEN_PIECE + 1)
                if low[at - 1] in VOWELS and low[at] not in VOWELS and low[at + 1] in VOWELS]
        pieces = [letters[start:end] for start, end in zip([0, *cuts], [*cuts, len(letters)], strict=True)]
        return SOFT_HYPHEN.join(pieces)
    return re.sub(r"[^\W\d_]{7,}", word, text)


def write_pdf(article: Article, path: Path, font: Path | None) -> None:
    """A report: a running header, "Page N of M" footers, a bold title, part headings and justified,
    hyphenated paragraphs that flow over page breaks. `font`: a Unicode TTF (else Helvetica, Latin-1 only)."""
    try:
        from fpdf import FPDF
    except ImportError:
        raise RetrievalError("writing the PDFs needs fpdf2 (LGPL, a test dependency): "
                             "pip install 'fpdf2>=2.8,<3'") from None

    class Report(FPDF):
        def header(self) -> None:
            self.set_font(family, size=8)
            self.cell(0, 5, f"{PUBLISHER} · {article.title}", align="C", new_x="LMARGIN", new_y="NEXT")
            self.ln(6)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font(family, size=8)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Report()
    family = "Helvetica"
    if font:
        try:
            pdf.add_font("Body", fname=str(font))
            pdf.add_font("Body", style="B", fname=str(font))
        except Exception as exc:  # fontTools fails in many shapes on a file that is not a font
            raise RetrievalError(f"{font} is not a usable TrueType font ({type(exc).__name__}); "
                                 "give a .ttf file such as DejaVu Sans") from None
        family = "Body"
    pdf.set_title(article.title)
    pdf.set_author(AUTHOR)
    pdf.set_creation_date(PUBLISHED)
    pdf.add_page()
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 9, article.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for heading, paragraphs in article.parts():
        if heading:
            pdf.set_font(family, "B", 13)
            pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        pdf.set_font(family, "", 10.5)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5, hyphenated(paragraph), align="J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    pdf.output(str(path))


# --- web page ----------------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} | {publisher}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{publisher}">
<meta property="og:type" content="article">
<meta name="author" content="{author}">
<meta property="article:published_time" content="{published}">
<link rel="stylesheet" href="/static/site.css">
</head>
<body>
<div id="cookie-banner" class="cookie-consent" role="dialog"><p>We use cookies to personalise content and ads, to
provide social media features and to analyse our traffic. By continuing to browse you accept our cookie policy.</p>
<button>Accept all cookies</button> <button>Manage preferences</button></div>
<header class="site-header"><a class="logo" href="/">{publisher}</a>
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/history">History</a></li>
<li><a href="/science">Science</a></li><li><a href="/places">Places</a></li><li><a href="/about">About us</a></li>
</ul></nav><form class="search" action="/search"><input name="q" placeholder="Search"></form></header>
<main>
<article>
<h1>{title}</h1>
<p class="byline">By <span class="author">{author}</span>, <time datetime="{published}">{date}</time></p>
{body}
</article>
<aside class="related"><h3>Related stories</h3><ul>
<li><a href="/r1">Ten places every history lover should visit before the end of the decade</a></li>
<li><a href="/r2">How mathematicians measure what a computer can and cannot do in reasonable time</a></li>
<li><a href="/r3">The coastline that changed the most over the last hundred years, in pictures</a></li>
</ul></aside>
<section class="newsletter"><h3>Get the weekly digest</h3><p>Sign up for our newsletter and never miss a story.</p>
<form><input type="email" placeholder="Your email"><button>Subscribe</button></form></section>
</main>
<footer class="site-footer"><p>© 2024 {publisher}. All rights reserved.</p>
<ul><li><a href="/contact">Contact us</a></li><li><a href="/privacy">Privacy policy</a></li>
<li><a href="/terms">Terms of use</a></li></ul></footer>
</body>
</html>
"""


def write_html(article: Article, path: Path) -> None:
    """A saved article page: the <article> (title, byline, part headings, paragraphs) inside the site's
    chrome, as a browser's "Save page as" keeps it."""
    body = []
    for heading, paragraphs in article.parts():
        if heading:
            body.append(f"<h2>{html.escape(heading)}</h2>")
        body += [f"<p>{html.escape(paragraph)}</p>" for paragraph in paragraphs]
    path.write_text(PAGE.format(title=html.escape(article.title), publisher=PUBLISHER, author=AUTHOR,
                                published=PUBLISHED.isoformat(), date=PUBLISHED.strftime("%B %d, %Y"),
                                body="\n".join(body)), encoding="utf-8")


# --- Word and Markdown -------------------------------------------------------------------------------------------

def write_docx(article: Article, path: Path) -> None:
    """A Word file: the title in the Title style, part headings in Heading 1, one paragraph each."""
    import docx

    document = docx.Document()
    document.add_heading(article.title, level=0)
    for heading, paragraphs in article.parts():
        if heading:
            document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    properties = document.core_properties
    properties.title, properties.author = article.title, AUTHOR
    properties.created = PUBLISHED.replace(tzinfo=None)
    document.save(str(path))


def write_markdown(article: Article, path: Path) -> None:
    """Markdown notes: front matter, `#` title, `##` parts, paragraphs hard-wrapped with Markdown's special
    characters escaped (as an editor's "paste as Markdown" does), so they render as the text itself."""
    lines = ["---", f"title: {article.title}", f"author: {AUTHOR}", f"date: {PUBLISHED:%Y-%m-%d}", "---", "",
             f"# {article.title}", ""]
    for heading, paragraphs in article.parts():
        if heading:
            lines += [f"## {heading}", ""]
        for paragraph in paragraphs:
            lines += [*wrapped(MARKDOWN_SPECIAL.sub(r"\\\1", paragraph)), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def wrapped(text: str) -> list[str]:
    """The text in lines of about MARKDOWN_WRAP columns; a line that would start like a list item, quote or
    heading goes on the line before, as a writer keeps a paragraph one paragraph."""
    lines: list[str] = []
    for line in textwrap.wrap(text, MARKDOWN_WRAP, break_long_words=False, break_on_hyphens=False):
        if lines and BLOCK_START.match(line):
            lines[-1] += " " + line
        else:
            lines.append(line)
    return lines

