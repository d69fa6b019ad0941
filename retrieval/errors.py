"""The one exception family the retrieval library raises: each carries a message a user can act on, and what may
be shown to people who use a program built on the library without running it."""


class RetrievalError(Exception):
    """Base class: the message is one line that says what went wrong and what to do next, for whoever runs the
    program (it may name the program's files, folders and servers). `public` is the same news for the people who
    only use it (a Discord server's managers): the message itself, unless the raise gave its own wording or the
    kind of error is about the program's own setup (its index, its services, its config), which says so in a
    fixed line of its class (PUBLIC) and leaves the rest to the log."""

    PUBLIC: str | None = None  # said instead of any message of this kind; None: the message is fit to show

    def __init__(self, message: str = "", *, public: str | None = None) -> None:
        super().__init__(message)
        self._public = public

    @property
    def public(self) -> str:
        """What a user who does not run the program is told: never a path or a server's address."""
        return self._public or self.PUBLIC or str(self)


class SourceError(RetrievalError):
    """A sources folder, file or manifest cannot be read as documents."""


class IndexProblem(RetrievalError):
    """An index on disk is missing, damaged, or not what this code can open."""

    PUBLIC = "the index could not be read or written; whoever runs the bot can see why in its log"


class IndexMissing(IndexProblem):
    """There is no index at the given place yet."""


class IndexCorrupt(IndexProblem):
    """The index files are present but cannot be read."""


class IndexStale(IndexProblem):
    """The index was built with another model, format or set of sources."""


class IndexBusy(IndexProblem):
    """Another process is writing the index and did not finish in time."""


class Unavailable(RetrievalError):
    """Something the library relies on (a retrieval service, the index's store) is down or failing: not the
    question's fault, and the same question may well be answered in a minute."""

    PUBLIC = ("a service the sources are kept in is not answering; try again in a few minutes, and if it lasts, "
              "tell whoever runs the bot")


class StoreUnavailable(Unavailable, IndexProblem):
    """The index's store (a Milvus server) cannot be reached or failed a request."""


class QueryError(RetrievalError):
    """A question cannot be searched as given (empty, too long)."""


class ConfigError(RetrievalError):
    """A configuration file has an unknown key, a wrong type or a bad value."""

    PUBLIC = "the bot's configuration has a mistake; whoever runs the bot can see which in its log"
