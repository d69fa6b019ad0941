""""Check against sources" from a message's Apps menu: privately first, then posted in reply on request."""

from __future__ import annotations

import pytest

from retrieval import Retriever

from .conftest import plain, running_bot
from .fake_discord.codes import EPHEMERAL, Callback, CommandType

CLAIM = "I read that NAUH has rescued about 215 North Korean refugees and resettled them."


def buttons(message: dict) -> dict[str, dict]:
    return {b["label"]: b for row in message.get("components", []) for b in row["components"]}


@pytest.mark.asyncio
async def test_a_claim_is_checked_privately_then_posted_in_reply(fake, fast_retriever: Retriever):
    general = fake.channel_id("general")
    member = fake.human_ids[1]
    async with running_bot(fake, fast_retriever):
        menu = next(c for c in fake.commands if c["name"] == "Check against sources")
        assert menu["type"] == CommandType.MESSAGE and menu["description"] == ""  # a message command
        claim = await fake.send_message(CLAIM, channel_id=general, author=member)
        handle = await fake.send_interaction("Check against sources", target=claim)
        (private,) = await handle.wait_followups(1, timeout=10)
        assert handle.ephemeral and private["flags"] & EPHEMERAL
        embed = private["embeds"][0]
        assert embed["title"].startswith("\\[Robert Park,") and "about 215" in plain(embed["description"])
        assert fake.sent_messages(channel_id=general) == []  # nothing public yet

        post = buttons(private)["Post publicly"]
        press = await fake.send_interaction(custom_id=post["custom_id"], message=private)
        # the private message is edited: its button disabled
        assert (await press.wait_response())["type"] == Callback.UPDATE_MESSAGE
        assert buttons(fake.message(private["id"]))["Post publicly"]["disabled"] is True
        (public,) = await fake.wait_sent(1, channel_id=general, timeout=10)
        (done,) = await press.wait_followups(1, timeout=10)
    assert done["content"] == "Posted in reply to the message." and done["flags"] & EPHEMERAL
    assert str(public["message_reference"]["message_id"]) == claim["id"]  # in reply to the checked message
    assert public["embeds"][0]["title"] == embed["title"] and not public.get("flags", 0) & EPHEMERAL
    posted = next(r for r in fake.requests if r.method == "POST" and r.path == f"/channels/{general}/messages")
    assert posted.json["allowed_mentions"]["parse"] == [] and posted.json["allowed_mentions"]["replied_user"] is False
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_message_without_a_claim_is_not_searched(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        short = await fake.send_message("lol ok", author=fake.human_ids[1])
        handle = await fake.send_interaction("Check against sources", target=short)
        response = await handle.wait_response()
    assert response["type"] == Callback.CHANNEL_MESSAGE and response["data"]["flags"] & EPHEMERAL
    assert response["data"]["content"] == "That message has no claim to check: it needs at least 3 words of text."


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_claim_about_nauh_rescues_gets_robert_parks_passage(fake, retriever: Retriever):
    async with running_bot(fake, retriever):
        claim = await fake.send_message("NAUH has rescued hundreds of refugees from China and none was ever sent "
                                        "back", author=fake.human_ids[1])
        handle = await fake.send_interaction("Check against sources", target=claim)
        (private,) = await handle.wait_followups(1, timeout=10)
    assert private["flags"] & EPHEMERAL
    assert any(embed["title"].startswith("\\[Robert Park,") for embed in private["embeds"])
