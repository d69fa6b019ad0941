"""Slash commands end to end: /ask, /sources and /source with autocomplete and paging buttons."""

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, Retriever, open_retriever

from ..conftest import SEEDS
from .conftest import plain, running_bot
from .fake_discord.codes import EPHEMERAL, Callback


def buttons(message: dict) -> dict[str, dict]:
    """The message's buttons by label."""
    return {b["label"]: b for row in message.get("components", []) for b in row["components"]}


@pytest.mark.asyncio
async def test_ask_defers_then_answers_in_public(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        handle = await fake.send_interaction("ask", {"question": "How many North Korean refugees has NAUH resettled?"})
        (answer,) = await handle.wait_followups(1, timeout=10)
    assert handle.response["type"] == Callback.DEFERRED_CHANNEL_MESSAGE and not handle.ephemeral  # "thinking", public
    assert plain(answer["embeds"][0]["description"]).startswith("To date, about 215 North Korean refugees")
    followup = next(r for r in fake.requests if r.method == "POST" and r.path.startswith("/webhooks/"))
    assert followup.json["allowed_mentions"]["parse"] == []
    assert fake.violations == []


@pytest.mark.asyncio
async def test_ask_privately_with_a_count(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        handle = await fake.send_interaction("ask", {"question": "What is NAUH?", "count": 1, "private": True})
        (answer,) = await handle.wait_followups(1, timeout=10)
    assert handle.ephemeral and answer["flags"] & EPHEMERAL
    assert len(answer["embeds"]) == 1


@pytest.mark.slow
@pytest.mark.asyncio
async def test_ask_off_topic_says_not_covered(fake, retriever: Retriever):
    async with running_bot(fake, retriever):
        handle = await fake.send_interaction("ask", {"question": "How do I reset my password?"})
        (answer,) = await handle.wait_followups(1, timeout=10)
    assert answer["content"].startswith("The sources do not cover this question") and not answer.get("embeds")


@pytest.mark.asyncio
async def test_sources_lists_every_source(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        handle = await fake.send_interaction("sources")
        response = await handle.wait_response()
    text = response["data"]["embeds"][0]["description"]
    for source_id in ("lee-defectors-2017", "park-hero", "freedom-collection-ji"):
        assert f"`{source_id}`" in text
    assert "Robert Park" in text and "24 passages" in text
    park = next(line for line in text.splitlines() if "`park-hero`" in line)
    assert "Korea Herald; opinion; text; 24 passages" in park  # publication, kind and file format
    assert not response["data"].get("components")  # one page: no buttons


@pytest.mark.asyncio
async def test_sources_pages_with_buttons_only_for_the_asker(fake, odd_retriever: Retriever):
    async with running_bot(fake, odd_retriever):
        handle = await fake.send_interaction("sources")
        await handle.wait_response()
        message = handle.original
        assert "Page 1 of 3" in message["embeds"][0]["footer"]["text"]
        assert buttons(message)["◀ Previous"].get("disabled") is True

        turn = await fake.send_interaction(custom_id=buttons(message)["Next ▶"]["custom_id"], message=message)
        assert (await turn.wait_response())["type"] == Callback.UPDATE_MESSAGE  # the message is edited in place
        page_two = fake.message(message["id"])
        assert "Page 2 of 3" in page_two["embeds"][0]["footer"]["text"]

        stranger = fake.human_ids[1]
        other = await fake.send_interaction(custom_id=buttons(page_two)["Next ▶"]["custom_id"], message=page_two,
                                            user=stranger)
        refusal = await other.wait_response()
        assert refusal["data"]["flags"] & EPHEMERAL and "Only the person who asked" in refusal["data"]["content"]
        assert "Page 2 of 3" in fake.message(message["id"])["embeds"][0]["footer"]["text"]
    assert fake.violations == []


@pytest.mark.asyncio
async def test_page_buttons_are_disabled_when_they_time_out(fake, odd_retriever: Retriever):
    async with running_bot(fake, odd_retriever) as bot:
        bot.service.pager_timeout = 0.3
        handle = await fake.send_interaction("sources")
        await handle.wait_response()
        message_id = handle.original["id"]
        await fake.wait_until(lambda: buttons(fake.message(message_id))["Next ▶"].get("disabled") is True, 10,
                              "the buttons disabled")
        page = fake.message(message_id)
    assert all(button.get("disabled") for button in buttons(page).values())
    assert "Page 1 of 3" in page["embeds"][0]["footer"]["text"]  # the text stays as it was
    assert fake.violations == []


@pytest.mark.asyncio
async def test_source_autocomplete_matches_ids_and_titles(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        by_id = await fake.send_interaction("source", {"id": "park"}, focused="id")
        by_title = await fake.send_interaction("source", {"id": "interviews"}, focused="id")
        everything = await fake.send_interaction("source", {"id": ""}, focused="id")
        choices = [(await h.wait_response())["data"]["choices"] for h in (by_id, by_title, everything)]
    assert [c["value"] for c in choices[0]] == ["park-hero"]
    assert [c["value"] for c in choices[1]] == ["freedom-collection-ji"]
    assert len(choices[2]) == 3


@pytest.mark.asyncio
async def test_source_opens_at_a_paragraph_and_pages_through_the_text(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        handle = await fake.send_interaction("source", {"id": "park-hero", "paragraph": 20})
        await handle.wait_response()
        message = handle.original
        assert "**¶20**" in message["embeds"][0]["description"]
        assert "Robert Park" in message["content"]  # the source's metadata heads every page
        previous = buttons(message)["◀ Previous"]
        turn = await fake.send_interaction(custom_id=previous["custom_id"], message=message)
        await turn.wait_response()
        while "**¶1** _(heading)_" not in fake.message(message["id"])["embeds"][0]["description"]:
            page = fake.message(message["id"])
            turn = await fake.send_interaction(custom_id=buttons(page)["◀ Previous"]["custom_id"], message=page)
            await turn.wait_response()
        assert buttons(fake.message(message["id"]))["◀ Previous"].get("disabled") is True
    assert fake.violations == []


@pytest.mark.asyncio
async def test_source_with_a_giant_paragraph_fits_every_limit(fake, odd_retriever: Retriever):
    async with running_bot(fake, odd_retriever):
        handle = await fake.send_interaction("source", {"id": "giant"})
        response = await handle.wait_response()
    # the paragraph comes cut into passages at sentence ends, so every page shows whole sentences
    description = response["data"]["embeds"][0]["description"]
    assert "**¶2** Lighthouse keepers" in description and description.endswith("every night.")
    assert fake.violations == []


@pytest.mark.asyncio
async def test_an_unknown_source_id_gets_a_private_message(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        handle = await fake.send_interaction("source", {"id": "no-such-source"})
        response = await handle.wait_response()
    assert response["data"]["flags"] & EPHEMERAL
    assert "Unknown source id no-such-source" in response["data"]["content"]
    assert "/sources" in response["data"]["content"]


@pytest.mark.asyncio
async def test_ask_for_25_passages_gets_them_all_across_follow_ups(fake, fast_retriever: Retriever):
    # Never clear and every passage related: every passage up to the count is shown, so 25 are asked for and come.
    everything = Retriever(fast_retriever.index, fast_retriever.encoder,
                           replace(fast_retriever.settings, clear=1.0, related=0.0))
    async with running_bot(fake, everything):
        handle = await fake.send_interaction("ask", {"question": "North Korean refugees", "count": 25})
        messages = await handle.wait_followups(3, timeout=10)
    assert [len(m["embeds"]) for m in messages] == [10, 10, 5]  # Discord allows 10 embeds to a message
    assert messages[0]["content"].startswith("25 passages from the sources")
    assert messages[2]["content"] == "Passages 21-25 of 25, continued."
    assert [bool(m.get("components")) for m in messages] == [False, False, True]  # votes under the last
    assert fake.violations == []  # each within 10 embeds and 6,000 characters


@pytest.mark.asyncio
async def test_ask_at_every_allowed_count_answers_within_discords_limits(fake, fast_retriever: Retriever):
    everything = Retriever(fast_retriever.index, fast_retriever.encoder,
                           replace(fast_retriever.settings, clear=1.0, related=0.0))
    async with running_bot(fake, everything):
        for count in range(1, 26):
            handle = await fake.send_interaction("ask", {"question": "North Korean refugees", "count": count})
            messages = await handle.wait_followups(-(-count // 10), timeout=10)
            assert sum(len(m["embeds"]) for m in messages) == count
            assert all(len(m["embeds"]) <= 10 for m in messages)
    assert fake.violations == []  # every message within Discord's limits


# what a hostile document may call itself: markdown, a masked link, mentions, a spoiler and a right-to-left override
HOSTILE = "**Official** [Click here](http://evil.example/nitro) @everyone <@&1200000000000000001> ||x|| \u202eevil"
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
LIGHTHOUSE = "The harbour lighthouse opens at dawn for every visitor who climbs its spiral stairs."


def shown_as_written(markdown: str) -> str:
    """The text Discord shows for `markdown`; fails on live markdown, a mention or a direction control."""
    assert not BIDI_CONTROLS.search(markdown), f"a direction control in {markdown!r}"
    live = re.sub(r"\\.", "", markdown)  # what is left once escaped characters are taken out
    assert not re.search(r"@(everyone|here)|<@", live), f"a mention in {markdown!r}"
    assert not re.search(r"[*_~|`\[\]<]", live), f"live markdown in {markdown!r}"
    return re.sub(r"\\(.)", r"\1", markdown).replace("@\u200b", "@")


@pytest.fixture
def hostile_retriever(fast_retriever: Retriever, tmp_path: Path) -> Retriever:
    """The seeds and one document whose title and author are hostile."""
    sources = Path(shutil.copytree(SEEDS, tmp_path / "sources"))
    (sources / "notice.txt").write_text(f"Notice\n\n{LIGHTHOUSE}\n", encoding="utf-8")
    with (sources / "sources.toml").open("a", encoding="utf-8") as manifest:  # JSON's escapes are TOML's too
        manifest.write(f'\n[[source]]\nid = "notice"\nfile = "notice.txt"\ntitle = {json.dumps(HOSTILE)}\n'
                       f'author = {json.dumps(HOSTILE)}\n')
    config = RetrievalConfig(sources=sources, index=tmp_path / "index")
    return open_retriever(config, progress=False, encoder=fast_retriever.encoder)


@pytest.mark.asyncio
async def test_a_hostile_title_is_shown_as_written_in_citations_listings_and_choices(fake, hostile_retriever):
    async with running_bot(fake, hostile_retriever):
        asked = await fake.send_interaction("ask", {"question": LIGHTHOUSE, "count": 1})
        (answer,) = await asked.wait_followups(1, timeout=10)
        opened = await fake.send_interaction("source", {"id": "notice"})
        page = (await opened.wait_response())["data"]
        typed = await fake.send_interaction("source", {"id": "notice"}, focused="id")
        (choice,) = (await typed.wait_response())["data"]["choices"]
    (cited,) = answer["embeds"]
    written = BIDI_CONTROLS.sub("", HOSTILE)
    assert shown_as_written(cited["title"]).startswith(f'[{written}, "{written}", ¶')
    assert not BIDI_CONTROLS.search(cited["footer"]["text"])
    assert shown_as_written(page["embeds"][0]["title"]) == written
    author = next(line for line in page["content"].splitlines() if line.startswith("**Author:** "))
    assert shown_as_written(author.removeprefix("**Author:** ")) == written
    # a choice is plain text (Discord shows its markdown as typed): only the direction controls go
    assert choice["value"] == "notice" and choice["name"].startswith("notice — **Official** [Click here](http")
    assert not BIDI_CONTROLS.search(choice["name"])
    assert fake.violations == []  # allowed_mentions parse nothing on every message
