"""Questions in, Answers out, from retrieval services over HTTP: what a program (the bot) uses of a Retriever,
answered by `python -m retrieval serve` replicas, trying the next when one fails, never dropping a question."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import fields

from ..errors import QueryError, RetrievalError, Unavailable
from ..records import Hit, Location, Passage, Role, Source
from ..search.retriever import Answer
from ..settings import SearchSettings

LOG = logging.getLogger(__name__)
TOKEN_VARIABLE = "RETRIEVAL_SERVICE_TOKEN"  # the services' bearer token, for client and service alike
REQUEST_TIMEOUT_SECONDS = 10.0  # a question takes milliseconds; ten seconds is a replica that is not answering
SOURCE_FIELDS = frozenset(f.name for f in fields(Source))


class ServiceUnavailable(Unavailable):
    """No retrieval service answered: every replica was down, failing or too slow."""


class RemoteRetriever:
    """A Retriever's questions and lookups answered by retrieval services. Each request starts at the next
    replica in turn; a replica that cannot be reached, fails (5xx) or times out is logged and the next is
    tried; only when all fail is ServiceUnavailable raised. A bad question (4xx) is the question's fault and
    is raised at once. Sources are fetched once and kept."""

    def __init__(self, urls: list[str], settings: SearchSettings | None = None,
                 timeout: float = REQUEST_TIMEOUT_SECONDS, token: str | None = None) -> None:
        """`token`: the services' bearer token, when they ask for one (never logged)."""
        if not urls:
            raise RetrievalError("no retrieval service URL given")
        self.urls = [url.rstrip("/") for url in urls]
        self.settings = settings or SearchSettings()
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.turn = itertools.count()
        self.lock = threading.Lock()
        self._sources: dict[str, Source] | None = None
        self._counts: dict[str, int] = {}

    def answer(self, question: str, k: int | None = None, settings: SearchSettings | None = None) -> Answer:
        """The service's answer; with `settings` stricter than the service's own relevance threshold, an answer
        whose best passage falls short of it is "not covered", as it would be locally (the gate decides on the
        best passage's relevance alone; the service gives it to four decimals)."""
        settings = settings or self.settings
        params = {"q": question, **({"k": str(k)} if k is not None else {})}
        data = self.get("/search", params)
        answer = answer_from_json(data, settings, self.sources)
        if answer.relevance < settings.min_relevance and answer.hits:
            return Answer(answer.query, [], answer.took_ms, settings, answer.k, answer.gated, answer.relevance)
        return answer

    @property
    def sources(self) -> dict[str, Source]:
        with self.lock:
            if self._sources is None:
                rows = self.get("/sources", {})
                self._sources = {row["id"]: Source(**{k: v for k, v in row.items() if k in SOURCE_FIELDS})
                                 for row in rows}
                self._counts = {row["id"]: int(row["passages"]) for row in rows}
            return self._sources

    def source(self, source_id: str) -> Source:
        try:
            return self.sources[source_id]
        except KeyError:
            raise RetrievalError(f"unknown source id {source_id!r}; list the ids with `sources`") from None

    def passages_of(self, source_id: str) -> list[Passage]:
        data = self.get(f"/sources/{urllib.parse.quote(self.source(source_id).id)}", {})
        return [Passage.from_dict(p) for p in data["passages"]]

    def answerable_count(self, source_id: str) -> int:
        self.sources  # noqa: B018 - fetched with the sources
        return self._counts[source_id]

    def get(self, path: str, params: dict[str, str]) -> dict | list:
        """The JSON of GET `path` from the first replica that answers, starting with the next in turn."""
        start = next(self.turn) % len(self.urls)
        failures = []
        for url in self.urls[start:] + self.urls[:start]:
            address = f"{url}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
            request = urllib.request.Request(address, headers=self.headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                if error.code in (401, 403):  # the service asks for a token: this bot's setup, not the question
                    failures.append(f"{url}: HTTP {error.code}, the token is missing or wrong (${TOKEN_VARIABLE})")
                elif 400 <= error.code < 500:  # the request's own fault: another replica would say the same
                    message = json.loads(error.read() or b"{}").get("error") or f"HTTP {error.code}"
                    raise (QueryError if path == "/search" else RetrievalError)(message) from None
                else:
                    failures.append(f"{url}: HTTP {error.code}")
            except (OSError, ValueError) as error:  # refused, reset, timed out, or not JSON
                failures.append(f"{url}: {getattr(error, 'reason', error)}")
            LOG.warning("retrieval service %s failed (%s); trying the next", url, failures[-1])
        raise ServiceUnavailable(f"no retrieval service answered ({'; '.join(failures)}); check that they run")


def answer_from_json(data: dict, settings: SearchSettings, sources: dict[str, Source]) -> Answer:
    """An Answer rebuilt from `search --json`'s JSON, its sources looked up among `sources`."""
    hits = []
    for result in data["results"]:
        source = sources.get(result["source_id"]) or Source(result["source_id"], result["title"],
                                                            result.get("author"), result.get("date"))
        passage = Passage(source.id, int(result["paragraph"]), result["text"], Role(result["role"]),
                          page=result.get("page"), section=result.get("section"))
        also = tuple(Location(sources.get(a["source_id"]) or Source(a["source_id"], a["source_id"]),
                              Passage(a["source_id"], int(a["paragraph"]), result["text"], passage.role),
                              a["citation"]) for a in result.get("also_in", []))
        hits.append(Hit(int(result["rank"]), float(result["score"]), passage, source, result["citation"],
                        float(result["cosine"]), float(result["relevance"]), also,
                        tuple(tuple(span) for span in result.get("highlights", []))))
    return Answer(data["query"], hits, float(data["took_ms"]), settings, int(data["k"]),
                  data.get("min_relevance") is not None, float(data["relevance"]))
