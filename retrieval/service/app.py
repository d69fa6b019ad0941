"""HTTP requests in, the command line's JSON out: GET /search, /sources, /sources/{id}, /health and /metrics
(Prometheus), over one Retriever whose questions are answered in batches. FastAPI (MIT) with uvicorn (BSD)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import uvicorn
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from ..errors import QueryError, RetrievalError, Unavailable
from ..search.batching import Batcher, BatcherClosed
from ..search.retriever import Retriever
from ..settings import MAX_SEARCH_K, ServeSettings
from .descriptors import connection_budget
from .guard import TOKEN_VARIABLE, Guard, protocol_for
from .payloads import source_json, sources_json
from .repeats import quiet_repeats

LOG = logging.getLogger(__name__)
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
# Latency buckets (seconds) around what BENCHMARKS.md measures: a few ms alone, tens of ms in batches under load.
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (no global state between apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter("retrieval_questions", "Questions answered", registry=self.registry)
        self.not_covered = Counter("retrieval_not_covered", "Questions the sources do not cover",
                                   registry=self.registry)
        self.errors = Counter("retrieval_errors", "Requests that failed", ["kind"], registry=self.registry)
        self.latency = Histogram("retrieval_search_seconds", "Time from request to answer", registry=self.registry,
                                 buckets=LATENCY_BUCKETS)


def create_app(retriever: Retriever, settings: ServeSettings | None = None) -> FastAPI:
    """The service over an opened Retriever; its Batcher starts and stops with the app."""
    settings = settings or ServeSettings()
    metrics = Metrics()
    batcher: Batcher | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal batcher
        batcher = Batcher(retriever, settings)
        try:
            yield
        finally:
            await asyncio.get_running_loop().run_in_executor(None, batcher.close)

    app = FastAPI(title="Source-quoting retrieval", lifespan=lifespan)

    @app.get("/search")
    async def search(q: str = Query(..., description="the question"),
                     k: int | None = Query(None, description=f"passages at most (1-{MAX_SEARCH_K})")) -> Response:
        start = time.perf_counter()
        try:
            assert batcher is not None
            answer = await asyncio.wrap_future(batcher.submit(q, k))
        except (QueryError, BatcherClosed) as error:
            metrics.errors.labels("refused" if isinstance(error, QueryError) else "closing").inc()
            return JSONResponse({"query": q, "error": str(error)},
                                status_code=400 if isinstance(error, QueryError) else 503)
        except Unavailable as error:  # the index's store is down: another replica may reach it; the log says where
            metrics.errors.labels("unavailable").inc()
            LOG.error("question not answered: %s", error)
            return JSONResponse({"query": q, "error": "the index's store is unavailable"}, status_code=503)
        except Exception as error:
            metrics.errors.labels("unexpected").inc()
            return JSONResponse({"query": q, "error": f"unexpected error: {type(error).__name__}"}, status_code=500)
        metrics.questions.inc()
        if not answer.covered:
            metrics.not_covered.inc()
        metrics.latency.observe(time.perf_counter() - start)
        return JSONResponse(answer.to_dict())

    @app.get("/sources")
    async def sources() -> Response:
        return JSONResponse(sources_json(retriever))

    @app.get("/sources/{source_id}")
    async def source(source_id: str) -> Response:
        try:
            return JSONResponse(source_json(retriever, source_id))
        except RetrievalError as error:
            return JSONResponse({"error": str(error)}, status_code=404)

    @app.get("/health")
    async def health() -> Response:
        manifest = retriever.index.manifest
        return JSONResponse({"status": "ok", "passages": manifest.vectors, "sources": manifest.sources,
                             "model": manifest.model_name, "model_sha256": manifest.model_sha256,
                             "built_at": manifest.built_at})

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def server_config(retriever: Retriever, settings: ServeSettings, token: str | None = None,
                  log_level: str = "info") -> uvicorn.Config:
    """uvicorn's config for the service, with its defences (guard.py): a request must arrive whole within
    `request_timeout_seconds`, at most `max_connections` open (fewer if the file limit leaves fewer, with an accept
    backlog to match: descriptors.py) and `max_requests` in progress, and with `token` every path but /health needs
    it as a bearer token."""
    budget = connection_budget(settings.max_connections)
    LOG.info("serving %s", budget)
    app = Guard(create_app(retriever, settings), settings.max_requests, token)
    return uvicorn.Config(app, host=settings.host, port=settings.port, log_level=log_level, backlog=budget.backlog,
                          http=protocol_for(replace(settings, max_connections=budget.max_connections)), ws="none")


def serve(retriever: Retriever, settings: ServeSettings) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM); with a bearer token when $RETRIEVAL_SERVICE_TOKEN is set. A warning
    or error repeated within a minute is logged once, with a count (repeats.py)."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip() or None
    if token is None and settings.host not in LOOPBACK:
        LOG.warning("serving on %s without a token: anyone who can reach it can search; set %s", settings.host,
                    TOKEN_VARIABLE)
    config = server_config(retriever, settings, token)  # sets up uvicorn's logging, which quiet_repeats extends
    quiet_repeats()
    uvicorn.Server(config).run()
