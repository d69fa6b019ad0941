"""👍 / 👎 under every answer: each press is stored per user and can be changed."""

import pytest

from retrieval import Retriever
from retrieval.feedback import FeedbackStore

from .conftest import running_bot

EPHEMERAL = 64


def vote_buttons(message: dict) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in message.get("components", []) for b in row["components"]}


@pytest.mark.asyncio
async def test_votes_are_stored_per_user_and_can_change(fake, retriever: Retriever, tmp_path):
    votes = tmp_path / "votes.sqlite"
    async with running_bot(fake, retriever, feedback_db=votes):
        await fake.send_message("How many North Korean refugees has NAUH resettled?", mention_bot=True)
        (answer,) = await fake.wait_sent(1, timeout=10)
        buttons = vote_buttons(answer)
        assert set(buttons) == {"Helpful", "Not helpful"}
        alice, bob = fake.human_ids[0], fake.human_ids[1]
        for user, label in ((alice, "Helpful"), (alice, "Not helpful"), (bob, "Not helpful")):
            press = await fake.send_interaction(custom_id=buttons[label], message=answer, user=user)
            thanks = await press.wait_response()
            assert thanks["data"]["flags"] & EPHEMERAL and "recorded" in thanks["data"]["content"]
    report = FeedbackStore(votes).report()
    assert (report.answers, report.up, report.down) == (1, 0, 2)
    assert fake.violations == []


@pytest.mark.asyncio
async def test_ask_answers_carry_vote_buttons_too(fake, retriever: Retriever):
    async with running_bot(fake, retriever):
        handle = await fake.send_interaction("ask", {"question": "Who won the 2018 World Cup?"})
        (answer,) = await handle.wait_followups(1, timeout=10)
    assert set(vote_buttons(answer)) == {"Helpful", "Not helpful"}
