"""Load across machines, on loopback: two retrieval service replicas (on one FAISS index, or each a client of
one Milvus server), two bots with one gateway shard each, a burst of questions from many users in two servers,
and one replica killed in the middle of it. Every question is answered once, in order per channel; the figures
are printed after the run."""

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, Retriever, open_retriever
from retrieval.benchmarks.milvus_lite import MilvusServer
from retrieval.evaluate.evaluate import load_gold
from retrieval.service.client import RemoteRetriever
from tests.retrieval.service.conftest import ServiceThread

from ..conftest import GOLD, REPORTS, SEEDS
from .conftest import running_bot
from .fake_discord import FakeDiscord

pytestmark = pytest.mark.slow  # the real model, and seconds of load

GUILDS = (1_200_000_000_000_000_000, 1_200_000_000_004_194_304)  # on shards 0 and 1 of 2
USERS, QUESTIONS = 20, 120


@pytest.fixture(params=["faiss", "milvus"])
def stores(request, retriever: Retriever, tmp_path: Path) -> Iterator[tuple[Retriever, Retriever]]:
    """What the two replicas search: the session's FAISS index, or a Milvus Lite server that each replica
    reaches with its own client, as replicas on two machines would."""
    if request.param == "faiss":
        yield retriever, retriever
        return
    with MilvusServer(tmp_path / "milvus") as server:
        config = RetrievalConfig(sources=SEEDS, store="milvus", milvus_uri=server.url)
        loaded = {"encoder": retriever.encoder, "questions": retriever.questions}
        open_retriever(config, progress=False, **loaded)
        yield tuple(open_retriever(replace(config, auto_build="never"), **loaded) for _ in "ab")


@pytest.mark.asyncio
async def test_a_burst_survives_a_replica_killed_in_its_middle(stores: tuple[Retriever, Retriever], pytestconfig,
                                                               caplog, request):
    retriever = stores[0]
    gold = [q.q for q in load_gold(GOLD)]
    replicas = [ServiceThread(store) for store in stores]
    try:
        async with FakeDiscord(guild_ids=GUILDS, shard_count=2) as fake:
            users = fake.human_ids + [fake.add_human(f"reader{n}") for n in range(USERS - len(fake.human_ids))]
            channels = [fake.channel_id(name, guild_id=g) for g in GUILDS for name in ("general", "questions")]
            urls = [r.url for r in replicas]
            async with (running_bot(fake, RemoteRetriever(urls, retriever.settings), shard_ids=[0], shard_count=2),
                        running_bot(fake, RemoteRetriever(urls[::-1], retriever.settings), shard_ids=[1],
                                    shard_count=2)):
                plan = list(zip((gold[n % len(gold)] for n in range(QUESTIONS)), itertools.cycle(users),
                                itertools.cycle(channels), strict=False))
                start = asyncio.get_running_loop().time()
                half = len(plan) // 2
                asked = await asyncio.gather(*(fake.send_message(q, author=u, channel_id=c, mention_bot=True)
                                               for q, u, c in plan[:half]))
                await asyncio.get_running_loop().run_in_executor(None, replicas[1].stop)  # killed mid-burst
                asked += await asyncio.gather(*(fake.send_message(q, author=u, channel_id=c, mention_bot=True)
                                                for q, u, c in plan[half:]))
                await fake.wait_sent(len(asked), timeout=120)
                took = asyncio.get_running_loop().time() - start
    finally:
        for replica in replicas:
            replica.stop()
    replies = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")
               and r.json.get("message_reference")]
    assert sorted(str(r.json["message_reference"]["message_id"]) for r in replies) == sorted(m["id"] for m in asked)
    for channel in channels:  # once each, in the order asked, channel by channel
        order = [int(r.json["message_reference"]["message_id"]) for r in replies
                 if r.path == f"/channels/{channel}/messages"]
        assert order == sorted(order)
    failovers = sum("trying the next" in r.getMessage() for r in caplog.records)
    assert failovers > 0 and fake.violations == []
    pytestconfig.stash.setdefault(REPORTS, []).append((
        f"load: 2 replicas ({request.node.callspec.id}), 2 bots with a shard each, a replica killed mid-burst "
        "(fake Discord)",
        f"{QUESTIONS} questions from {USERS} users in 2 servers all answered once, in order, in {took:.1f} s; "
        f"{failovers} requests moved to the other replica"))
