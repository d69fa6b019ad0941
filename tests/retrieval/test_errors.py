"""Each error tells whoever runs the program everything, and its users (a Discord server's managers) what they can
act on: never a path or a server's address."""

import pickle

import pytest

from retrieval.errors import ConfigError, IndexProblem, QueryError, SourceError, StoreUnavailable

ADDRESS = "http://127.0.0.1:19530"


def test_a_message_naming_nothing_internal_is_shown_as_it_is():
    assert QueryError("the question is empty; type a question").public == "the question is empty; type a question"


@pytest.mark.parametrize("error", [IndexProblem(f"cannot reach Milvus at {ADDRESS}"),
                                   StoreUnavailable(f"Milvus at {ADDRESS} failed"),
                                   ConfigError(f"/srv/bot/config.toml: unknown key {ADDRESS!r}")],
                         ids=["index", "store", "config"])
def test_errors_about_the_programs_own_setup_tell_users_a_fixed_line(error):
    assert ADDRESS in str(error)  # the operator's message, for the log
    assert ADDRESS not in error.public and "whoever runs the bot" in error.public


def test_a_raise_gives_its_own_wording_and_it_survives_the_reader_process():
    error = SourceError("cannot write a.txt into /srv/bot/server-sources/1: No space left on device",
                        public="the bot could not save a.txt (No space left on device); tell whoever runs the bot")
    carried = pickle.loads(pickle.dumps(error))  # how a reader process hands its error back
    assert (str(carried), carried.public) == (str(error), error.public)
