"""Documents made with real libraries for the tests that read them: a paged PDF report with a running header and
footer (fpdf2), a saved news page with its chrome, and a Word file with headings, a caption and core properties."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import docx
from fpdf import FPDF

HEADER = "Rivers of the North - Annual Review"
LONG = ("The inter-\nnational commission met in spring to review the well-known survey of northern rivers, "
        "their    seasonal floods and the fish that return to them every year.")
RUNS_ON = "Counting began before dawn on the first of May, when the volunteers waded into the cold water and the"
RUNS_ON_NEXT = "salmon were already moving upstream past the old weir."
EARLY = "The survey started in 1952 with two boats and a notebook kept by the ferryman of Elder Crossing."


class Report(FPDF):
    """A report with a running header and a "Page n of N" footer on every page, as word processors make them."""

    def header(self):
        self.set_font("Helvetica", size=9)
        self.cell(0, 6, HEADER, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(8)

    def footer(self):
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def make_pdf(path: Path, pages: list[list[tuple[str, str]]], font: str | None = None) -> Path:
    """A PDF of pages of (style, text) paragraphs; style "h" is a bold heading, "p" a justified paragraph."""
    pdf = Report()
    pdf.set_title("Rivers of the North")
    pdf.set_author("Ana Lind")
    pdf.set_creation_date(dt.datetime(2021, 6, 5, 10, 0, tzinfo=dt.UTC))
    pdf.set_auto_page_break(False)
    family = "Helvetica"
    if font:
        pdf.add_font("DejaVu", fname=font)
        family = "DejaVu"
    for paragraphs in pages:
        pdf.add_page()
        for style, text in paragraphs:
            pdf.set_font(family, "B" if style == "h" and not font else "", 15 if style == "h" else 11)
            pdf.multi_cell(0, 5 if style == "p" else 8, text, align="J" if style == "p" else "L",
                           new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    pdf.output(str(path))
    return path


def report_pdf(path: Path) -> Path:
    return make_pdf(path, [
        [("h", "Rivers of the North"), ("p", LONG), ("p", RUNS_ON)],
        [("p", RUNS_ON_NEXT), ("h", "Early years"), ("p", EARLY)],
        [("p", "By 2010 the count had reached twelve thousand fish a season.")],
    ])


ARTICLE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>The river that came back | Northern Herald</title>
<meta property="og:title" content="The river that came back">
<meta property="og:site_name" content="Northern Herald">
<meta property="og:type" content="article">
<meta name="author" content="Maria Okafor">
<meta property="article:published_time" content="2023-04-18T09:30:00+00:00">
</head>
<body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience. By continuing to
browse you accept our cookie policy.</p><button>Accept all cookies</button></div>
<header><nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/science">Science</a></li><li><a href="/opinion">Opinion</a></li></ul></nav></header>
<main>
<article>
<h1>The river that came back</h1>
<p class="byline">By <span class="author">Maria Okafor</span>, April 18, 2023</p>
<p>For forty years the Elder river ran brown with mine waste, and the salmon that once crowded its gravel beds
were a story grandparents told.</p>
<h2>Early life of the project</h2>
<p>The clean-up began in 1998, when three villages pooled their fishing rights and hired an engineer to map
every outflow pipe along the valley.</p>
<p>By 2010 the first salmon were counted at the weir, and this spring volunteers recorded more than twelve
thousand fish returning to spawn.</p>
<h2>What comes next</h2>
<p>The villages now plan to remove the last dam, a concrete wall built in 1956 that still blocks the upper
reaches of the river.</p>
</article>
<aside class="related"><h3>Related stories</h3><ul>
<li><a href="/a">Salmon numbers rise across the north in a record year for the fish</a></li>
<li><a href="/b">Why dams are coming down all over Europe and what it means for rivers</a></li></ul></aside>
</main>
<footer><p>© 2023 Northern Herald. All rights reserved. Contact us | Privacy policy | Terms of use</p></footer>
</body>
</html>
"""
ARTICLE_PARAGRAPHS = [
    "For forty years the Elder river ran brown with mine waste, and the salmon that once crowded its gravel beds "
    "were a story grandparents told.",
    "The clean-up began in 1998, when three villages pooled their fishing rights and hired an engineer to map "
    "every outflow pipe along the valley.",
    "By 2010 the first salmon were counted at the weir, and this spring volunteers recorded more than twelve "
    "thousand fish returning to spawn.",
    "The villages now plan to remove the last dam, a concrete wall built in 1956 that still blocks the upper "
    "reaches of the river.",
]


def make_docx(path: Path, author: str | None = "Jonas Berg") -> Path:
    document = docx.Document()
    document.add_heading("Ferry Crossings", level=0)
    document.add_paragraph("The ferry at Elder Crossing ran from 1890 until the bridge opened in 1961.")
    document.add_heading("Early life", level=1)
    document.add_paragraph("Its first ferryman, Per Holm, rowed passengers across for two öre each.")
    document.add_paragraph("Photo: the ferry in 1925 (Image credit: county archive)", style="Caption")
    document.add_paragraph("In winter the river froze and people walked across the ice instead.")
    if author is not None:
        document.core_properties.author = author
        document.core_properties.title = "Ferry Crossings"
        document.core_properties.created = dt.datetime(2019, 3, 2, 8, 0)
    document.save(str(path))
    return path
