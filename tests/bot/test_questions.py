"""Questions asked in channels: answered as replies quoting the right passage, and nothing else answered."""

import asyncio
import statistics
from dataclasses import replace

import pytest

from retrieval import Retriever
from retrieval.evaluate.evaluate import load_gold
from retrieval.ingest.split import MAX_PASSAGE_CHARS

from ..conftest import GOLD, REPORTS
from .conftest import GIANT_PARAGRAPH, plain, running_bot
from .fake_discord.codes import EPHEMERAL

RESETTLED = "How many North Korean refugees has NAUH resettled?"
# as sent: escaped, so that a title's own markdown stays text (Discord shows "\[" as "[")
PARK_CITATION = '\\[Robert Park, "Ji Seong-ho: Hero fostering unity and inspiring change", Korea Herald, ¶8\\]'


def embeds_of(message: dict) -> list[dict]:
    return message.get("embeds") or []


@pytest.mark.asyncio
async def test_a_mention_is_answered_with_the_right_passage_and_citation(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        asked = await fake.send_message(RESETTLED, mention_bot=True)
        (reply,) = await fake.wait_sent(1, timeout=10)
    assert str(reply["message_reference"]["message_id"]) == asked["id"]
    first = embeds_of(reply)[0]
    assert first["title"] == PARK_CITATION
    assert plain(first["description"]).startswith("To date, about 215 North Korean refugees")
    assert "/source id:park-hero paragraph:8" in first["footer"]["text"]
    assert reply["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_question_channel_needs_no_mention(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        await fake.send_message(RESETTLED, channel_id=fake.channel_id("questions"))
        (reply,) = await fake.wait_sent(1, timeout=10)
    assert embeds_of(reply)[0]["title"] == PARK_CITATION


@pytest.mark.asyncio
async def test_messages_elsewhere_without_a_mention_and_from_bots_are_ignored(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        await fake.send_message(RESETTLED, channel_id=fake.channel_id("general"))
        await fake.send_message(RESETTLED, bot_author=True, mention_bot=True)
        await fake.send_message("", mention_bot=True)
        await fake.send_message("Is this a question?", dm=True)  # DMs are answered: proves the bot is alive
        (reply,) = await fake.wait_sent(1, timeout=10)
        await asyncio.sleep(0.3)
        assert len(fake.sent_messages()) == 1
    assert reply["channel_id"] == str(fake.dm_channel_id())


@pytest.mark.asyncio
async def test_direct_messages_can_be_turned_off(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever, answer_direct_messages=False):
        await fake.send_message(RESETTLED, dm=True)
        await fake.send_message(RESETTLED, mention_bot=True)
        (reply,) = await fake.wait_sent(1, timeout=10)
    assert reply["channel_id"] == str(fake.channel_id("general"))


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_question_the_sources_do_not_cover_lists_nothing(fake, retriever: Retriever):
    async with running_bot(fake, retriever):
        await fake.send_message("Who won the 2018 World Cup?", mention_bot=True)
        (reply,) = await fake.wait_sent(1, timeout=10)
    assert reply["content"].startswith("The sources do not cover this question")
    assert embeds_of(reply) == []


@pytest.mark.asyncio
async def test_pings_in_a_question_are_escaped_and_never_allowed(fake, fast_retriever: Retriever):
    role = "<@&1200000000000000001>"
    async with running_bot(fake, fast_retriever):
        await fake.send_message(f"@everyone {role} How many refugees has NAUH resettled?", mention_bot=True)
        (reply,) = await fake.wait_sent(1, timeout=10)
    assert "@everyone" not in reply["content"] and role not in reply["content"]
    assert reply["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_paragraph_longer_than_any_limit_is_answered_with_a_whole_part(fake, odd_retriever: Retriever):
    async with running_bot(fake, odd_retriever):
        await fake.send_message("What did lighthouse keepers do every night?", mention_bot=True)
        (reply,) = await fake.wait_sent(1, timeout=10)
    first = embeds_of(reply)[0]
    assert len(GIANT_PARAGRAPH) > 6000
    shown = plain(first["description"])  # one passage cut from it at sentence ends (split.py), nothing truncated
    assert shown in GIANT_PARAGRAPH and shown.endswith("every night.") and len(shown) <= MAX_PASSAGE_CHARS
    assert "¶2" in first["title"]
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_source_text_that_pings_cannot_ping(fake, odd_retriever: Retriever):
    async with running_bot(fake, odd_retriever):
        await fake.send_message("When does the lighthouse open according to the harbour notice?", mention_bot=True)
        (reply,) = await fake.wait_sent(1, timeout=10)
    text = "".join(e["description"] for e in embeds_of(reply))
    assert "the lighthouse opens at dawn" in text and "@everyone" not in text.replace("@\u200beveryone", "")
    assert fake.violations == []


@pytest.mark.asyncio
async def test_replies_can_go_to_a_thread(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever, reply_in_thread=True):
        asked = await fake.send_message(RESETTLED, mention_bot=True)
        (reply,) = await fake.wait_sent(1, timeout=10)
    assert reply["channel_id"] != asked["channel_id"]
    assert embeds_of(reply)[0]["title"] == PARK_CITATION


@pytest.mark.asyncio
async def test_an_eager_user_is_asked_to_wait(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever, cooldown_seconds=30):
        await fake.send_message(RESETTLED, mention_bot=True)
        await fake.send_message("And who founded it?", mention_bot=True)
        sent = await fake.wait_sent(2, timeout=10)
    answer, notice = sorted(sent, key=lambda m: m["content"].startswith("Please wait"))
    assert embeds_of(answer) and notice["content"].startswith("Please wait")
    assert notice["channel_id"] == str(fake.dm_channel_id(fake.human_ids[0]))  # privately, in a DM


@pytest.mark.asyncio
async def test_a_flood_within_one_cooldown_gets_one_notice_not_one_each(fake, fast_retriever: Retriever):
    flood = 60
    async with running_bot(fake, fast_retriever, cooldown_seconds=30) as bot:
        for n in range(flood):
            await fake.send_message(f"Question number {n} about NAUH?", mention_bot=True)
        await fake.wait_sent(2, timeout=10)
        await fake.send_message("Who founded NAUH?", mention_bot=True, author=fake.human_ids[1])
        await fake.wait_sent(3, timeout=10)  # another user is answered, and the flood was all handled before
        bot.service.cooldown.last_asked[fake.human_ids[0]] -= 31  # the window passes
        await fake.send_message("One more about NAUH?", mention_bot=True)
        await fake.send_message("And another?", mention_bot=True)
        sent = await fake.wait_sent(5, timeout=10)
    notices = [m for m in sent if m["content"].startswith("Please wait")]
    assert len(notices) == 2  # one for the flood, one for the next window
    assert len(sent) == 5


@pytest.mark.slow
@pytest.mark.asyncio
async def test_twenty_questions_at_once_are_all_answered_while_heartbeats_are_acked(
        fake, retriever: Retriever, pytestconfig: pytest.Config):
    channel = fake.channel_id("questions")
    questions = [q.q for q in load_gold(GOLD) if q.on_topic][:20]  # twenty different questions
    async with running_bot(fake, retriever):
        beats_before = len(fake.heartbeats)
        sent_at = asyncio.get_running_loop().time()
        asked = await asyncio.gather(*(fake.send_message(q, channel_id=channel, author=fake.human_ids[n % 2])
                                       for n, q in enumerate(questions)))
        await fake.wait_sent(20, channel_id=channel, timeout=30)
        await fake.wait_until(lambda: len(fake.heartbeats) >= beats_before + 2, 5, "two more heartbeats")
    replies = [r for r in fake.requests if r.path == f"/channels/{channel}/messages" and r.method == "POST"]
    answered = {str(r.json["message_reference"]["message_id"]): r.json for r in replies}
    assert set(answered) == {m["id"] for m in asked}
    assert all(embeds_of(reply) or reply["content"].startswith("The sources do not cover") for reply in
               answered.values())
    assert max(b.ack_delay for b in fake.heartbeats) < 0.25
    delays = [r.received_at - sent_at for r in replies]
    pytestconfig.stash.setdefault(REPORTS, []).append((
        "20 concurrent questions (fake Discord)",
        f"question sent -> reply received: median {statistics.median(delays) * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms"))
    assert fake.violations == []


@pytest.mark.asyncio
async def test_questions_are_still_answered_after_a_gateway_reconnect(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        session = await fake.send_reconnect()
        assert session.resumes
        await fake.send_message(RESETTLED, mention_bot=True)
        (reply,) = await fake.wait_sent(1, timeout=10)
    assert embeds_of(reply)[0]["title"] == PARK_CITATION


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_paragraph_copied_in_two_sources_is_shown_once_citing_both(fake, retriever: Retriever):
    question = "What should be done instead of giving official assistance to the North Korean government?"
    async with running_bot(fake, retriever):
        await fake.send_message(question, mention_bot=True)
        (reply,) = await fake.wait_sent(1, timeout=10)
    copies = [e for e in embeds_of(reply) if "instead of giving official assistance" in e["description"]]
    assert len(copies) == 1
    cited = copies[0]["title"] + copies[0]["footer"]["text"]
    assert "Interviews with Ji Seong-ho" in cited and "Ji Seong-ho: Hero fostering unity" in cited
    assert "Also in" in copies[0]["footer"]["text"]


@pytest.mark.asyncio
async def test_more_passages_than_one_message_holds_follow_the_reply(fake, fast_retriever: Retriever, monkeypatch):
    async with running_bot(fake, fast_retriever) as bot:
        retriever = bot.service.retriever.get()
        monkeypatch.setattr(retriever, "settings", replace(retriever.settings, top_k=25, clear=1.0, related=0.0))
        asked = await fake.send_message("North Korean refugees", mention_bot=True)
        sent = await fake.wait_sent(3, timeout=10)
    assert [len(embeds_of(m)) for m in sent] == [10, 10, 5]
    assert str(sent[0]["message_reference"]["message_id"]) == asked["id"]
    assert all(m["channel_id"] == asked["channel_id"] for m in sent)
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_right_to_left_override_in_a_question_is_not_echoed(fake, fast_retriever: Retriever):
    question = "How many refugees has \u202eNAUH\u2066 resettled?\u202c"
    async with running_bot(fake, fast_retriever, reply_in_thread=True):
        await fake.send_message(question, channel_id=fake.channel_id("questions"))
        (answer,) = await fake.wait_sent(1, timeout=10)
    thread = next(r for r in fake.requests if r.method == "POST" and r.path.endswith("/threads"))
    assert "How many refugees has NAUH resettled?" in answer["content"]
    assert not any(c in answer["content"] + thread.json["name"] for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2069")


@pytest.mark.asyncio
async def test_a_question_the_model_cannot_read_is_told_so_privately(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        await fake.send_message("지성호는 누구인가?", mention_bot=True)
        (notice,) = await fake.wait_sent(1, timeout=10)
        handle = await fake.send_interaction("ask", {"question": "Wie viele Flüchtlinge hat NAUH umgesiedelt?"})
        (asked,) = await handle.wait_followups(1, timeout=10)
    assert notice["content"].startswith("I can only search these sources in English (this looks like Korean)")
    assert notice["channel_id"] == str(fake.dm_channel_id(fake.human_ids[0]))  # privately, not in the channel
    assert "looks like German" in asked["content"] and asked["flags"] & EPHEMERAL and not asked.get("embeds")
    assert fake.violations == []
