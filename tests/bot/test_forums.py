"""Forum posts are answered in their thread and tagged `answered`; in a thread the bot answered, a follow-up
needs no mention and is searched with the question it follows."""

from __future__ import annotations

import pytest

from retrieval import Retriever

from .conftest import plain, running_bot

RESETTLED = "How many North Korean refugees has NAUH resettled?"
# a pair of seeds/followups.toml where the follow-up alone misses its passage (BENCHMARKS.md, "Follow-ups")
# A pair of seeds/followups.toml whose follow-up, asked alone, misses the passage that answers it
WHO = "Who is Illyong Ju?"
FOLLOW_UP = "What does he want to become?"
GOAL = "a concrete goal to be a human rights lawyer"


def tag_ids(fake, forum_id: int, *names: str) -> list[str]:
    return [t["id"] for t in fake.world.channels[forum_id]["available_tags"] if t["name"] in names]


@pytest.mark.asyncio
async def test_a_forum_post_is_answered_in_its_thread_and_tagged(fake, fast_retriever: Retriever):
    forum = fake.add_forum("help", tags=("Answered", "bug"))
    async with running_bot(fake, fast_retriever, question_channels=[forum]):
        thread = await fake.post_in_forum(forum, "NAUH", RESETTLED, tags=("bug",))
        (answer,) = await fake.wait_sent(1, channel_id=int(thread["id"]), timeout=10)
        await fake.wait_until(lambda: len(fake.world.channels[int(thread["id"])]["applied_tags"]) == 2, 10,
                              "the answered tag")
    assert "about 215 North Korean refugees" in plain(answer["embeds"][0]["description"])
    assert str(answer["message_reference"]["message_id"]) == thread["id"]  # a reply to the post itself
    assert sorted(fake.world.channels[int(thread["id"])]["applied_tags"]) == \
        sorted(tag_ids(fake, forum, "Answered", "bug"))  # the member's own tag is kept
    assert fake.violations == []


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_post_the_sources_do_not_cover_is_not_tagged(fake, retriever: Retriever):
    forum = fake.add_forum("help")
    async with running_bot(fake, retriever, question_channels=[forum]):
        thread = await fake.post_in_forum(forum, "Password", "How do I reset my password?")
        (answer,) = await fake.wait_sent(1, channel_id=int(thread["id"]), timeout=10)
    assert answer["content"].startswith("The sources do not cover this question")
    assert fake.world.channels[int(thread["id"])]["applied_tags"] == []
    assert not any(r.method == "PATCH" and r.path == f"/channels/{thread['id']}" for r in fake.requests)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_follow_up_in_the_thread_is_answered_with_the_question_before_it(fake, retriever: Retriever):
    alone = retriever.answer(FOLLOW_UP)
    assert not any(GOAL in hit.text for hit in alone.hits)  # alone, the follow-up misses the passage
    general = fake.channel_id("general")
    async with running_bot(fake, retriever, reply_in_thread=True):
        await fake.send_message(WHO, channel_id=general, mention_bot=True)
        (first,) = await fake.wait_sent(1, timeout=10)
        thread_id = int(first["channel_id"])
        assert thread_id != general  # the answer went into a new thread on the question
        await fake.send_message(FOLLOW_UP, channel_id=thread_id, author=fake.human_ids[1])  # no mention
        (_, second) = await fake.wait_sent(2, channel_id=thread_id, timeout=10)
    assert any(GOAL in plain(embed["description"]) for embed in second["embeds"])  # among the passages shown
    assert fake.violations == []


@pytest.mark.asyncio
async def test_other_threads_still_need_a_mention(fake, fast_retriever: Retriever):
    general = fake.channel_id("general")
    thread = fake.world.add_thread(general, "chat", fake.human_ids[0])
    async with running_bot(fake, fast_retriever):
        await fake.send_message(RESETTLED, channel_id=int(thread["id"]))
        await fake.send_message(RESETTLED, channel_id=general, mention_bot=True)
        (answer,) = await fake.wait_sent(1, timeout=10)
    assert int(answer["channel_id"]) == general  # the thread's message without a mention was not answered
