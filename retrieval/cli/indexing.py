"""The commands that make and read an index: `build`, `sources` and `show`; arguments in, text or JSON out."""

from __future__ import annotations

import argparse
import json
import logging
import textwrap
from pathlib import Path

from ..config import RetrievalConfig
from ..errors import RetrievalError
from ..ingest.formats import FORMAT_SUFFIXES
from ..ingest.readers import TEXT_SUFFIXES
from ..loader import build_from
from ..records import Role
from ..service.payloads import sources_json
from ..store.places import place_of
from .common import SharedOptions, opened
from .pages import on_page
from .render import WRAP_COLUMNS

DOCUMENT_SUFFIXES = sorted(FORMAT_SUFFIXES | set(TEXT_SUFFIXES))
LOG = logging.getLogger(__name__)


def add_commands(commands: argparse._SubParsersAction, shared: SharedOptions) -> None:
    index, as_json = shared.index, shared.as_json
    build = commands.add_parser("build", parents=[index, as_json], help="index a folder of documents or a "
                                "corpus.jsonl",
                                description="Read the sources, embed every paragraph and replace the index "
                                "atomically: an interrupted build leaves the previous index untouched. Into the "
                                "configured store: FAISS files, or Milvus (store = \"milvus\" in [retrieval]). "
                                "With --json, the new index's manifest.")
    build.add_argument("sources", nargs="?", type=Path,
                       help=f"a folder of documents ({', '.join(DOCUMENT_SUFFIXES)}; with an optional sources.toml) "
                       "or a BEIR corpus.jsonl (default from config: seeds)")
    build.add_argument("--quiet", action="store_true", help="no progress bars (embedding, and the pages of each "
                       "PDF of 50 pages or more)")
    build.add_argument("--full", action="store_true", help="embed every passage again instead of reusing the "
                       "vectors of unchanged passages from the previous build")
    build.add_argument("--vectors-from", type=Path, metavar="DIR", help="a first build (moving to Milvus, say) "
                       "takes the vectors of unchanged passages from the FAISS index in DIR instead of embedding "
                       "them again")
    build.set_defaults(run=run_build)

    sources = commands.add_parser("sources", parents=[index, as_json], help="list the indexed sources",
                                  description="List each source's id, title, author, date and passage count.")
    sources.set_defaults(run=run_sources)

    show = commands.add_parser("show", parents=[index, as_json], help="print one source, paragraph by paragraph",
                               description="Print a source's metadata and its paragraphs, numbered as citations "
                               "number them (headings and captions included, page chrome left out). With --json: "
                               "{source, passages}.")
    show.add_argument("source_id", help="a source id, as `sources` lists them")
    show.add_argument("--paragraph", type=int, help="print only this paragraph")
    show.add_argument("--page", type=int, help="print only the paragraphs of this page (PDF sources)")
    show.set_defaults(run=run_show)


def run_build(args: argparse.Namespace, config: RetrievalConfig) -> int:
    sources = args.sources or config.sources
    index = place_of(config, args.index)
    # progress bars (embedding, and each long PDF's pages) on stderr; none for --quiet, nor for --json's scripts
    manifest = build_from(config, sources, args.index, progress=not (args.quiet or args.json), reuse=not args.full,
                          vectors_from=args.vectors_from)
    if args.json:
        print(json.dumps(manifest.__dict__, indent=1))
    else:
        reused = manifest.vectors - manifest.embedded
        print(f"indexed {manifest.vectors} passages from {manifest.sources} sources into {index} "
              f"in {manifest.build_seconds:.1f} s ({manifest.embedded} embedded, {reused} reused from the previous "
              "build)")
        if manifest.skipped:
            count = len(manifest.skipped)
            print(f"skipped {count} file{'s' if count > 1 else ''}: "
                  + ", ".join(f"{s['file']} ({s['reason']})" for s in manifest.skipped))
    return 0


def run_sources(args: argparse.Namespace, config: RetrievalConfig) -> int:
    retriever = opened(args, config, progress=True)
    rows = sources_json(retriever)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for row in rows:
        who = ", ".join(str(x) for x in (row["author"], row["date"]) if x) or "author and date unknown"
        print(f"{row['id']}  {row['title']}  ({who}; {row['passages']} passages)")
    return 0


def run_show(args: argparse.Namespace, config: RetrievalConfig) -> int:
    retriever = opened(args, config)
    source = retriever.source(args.source_id)
    passages = retriever.passages_of(source.id)
    if args.paragraph is not None:
        last = passages[-1].paragraph if passages else 0
        if not 1 <= args.paragraph <= last:
            raise RetrievalError(f"{source.id} has no paragraph {args.paragraph}; it has 1 to {last}")
        passages = [p for p in passages if p.paragraph == args.paragraph]  # a long paragraph has several parts
    if args.page is not None:
        passages = on_page(source.id, passages, args.page)
    if args.json:
        print(json.dumps({"source": source.to_dict(), "passages": [p.to_dict() for p in passages]},
                         ensure_ascii=False, indent=1))
        return 0
    facts = {k: v for k, v in source.to_dict().items() if v and k != "id"}
    print(f"{source.id}\n" + "\n".join(f"  {k}: {v}" for k, v in facts.items()) + "\n")
    for passage in passages:
        tag = "" if passage.role is Role.BODY else f" ({passage.role})"
        page = f", p. {passage.page}" if passage.page is not None else ""
        print(f"¶{passage.paragraph}{page}{tag}" + (" (continued)" if passage.part > 1 else ""))
        print(textwrap.fill(passage.text, WRAP_COLUMNS, initial_indent="   ", subsequent_indent="   ") + "\n")
    return 0
