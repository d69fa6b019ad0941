"""The `serve` command: the index loaded once and answered over HTTP until stopped; FastAPI and uvicorn are
imported only when it runs."""

from __future__ import annotations

import argparse

from ..config import RetrievalConfig
from ..settings import ServeSettings
from .common import SharedOptions, opened, serve_settings_from

DEFAULT_SERVE = ServeSettings()


def add_commands(commands: argparse._SubParsersAction, shared: SharedOptions) -> None:
    serve = commands.add_parser(
        "serve", parents=[shared.index], help="answer questions over HTTP, with the same JSON as `search --json`",
        description="Load the index once and serve it over HTTP until stopped (Ctrl-C): GET /search?q=QUESTION&k=K "
        "(the JSON of `search --json`), GET /sources, GET /sources/ID (`sources --json`, `show ID --json`), "
        "GET /health (the index's passages, sources, model and build time) and GET /metrics (Prometheus). "
        "Questions that arrive together are answered in batches ([retrieval.serve] max_batch, max_wait_ms). "
        "Listens on 127.0.0.1 unless told otherwise: put a proxy with TLS in front before opening it wider.")
    serve.add_argument("--host", help=f"address to listen on (default from config: {DEFAULT_SERVE.host})")
    serve.add_argument("--port", type=int, help=f"port to listen on (default from config: {DEFAULT_SERVE.port})")
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace, config: RetrievalConfig) -> int:
    from ..service.app import serve  # FastAPI and uvicorn are imported only by this command

    settings = serve_settings_from(args, config.serve)
    serve(opened(args, config), settings)
    return 0
