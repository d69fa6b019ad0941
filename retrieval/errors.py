"""The one exception family the retrieval library raises: each carries a message a user can act on."""


class RetrievalError(Exception):
    """Base class: the message is one line that says what went wrong and what to do next."""


class SourceError(RetrievalError):
    """A sources folder, file or manifest cannot be read as documents."""


class IndexProblem(RetrievalError):
    """An index on disk is missing, damaged, or not what this code can open."""


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


class StoreUnavailable(Unavailable, IndexProblem):
    """The index's store (a Milvus server) cannot be reached or failed a request."""


class QueryError(RetrievalError):
    """A question cannot be searched as given (empty, too long)."""


class ConfigError(RetrievalError):
    """A configuration file has an unknown key, a wrong type or a bad value."""
