"""All settings in one typed place: read once from a TOML file, checked key by key, never global."""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar

from .errors import ConfigError
from .settings import ReadSettings, SearchSettings, ServeSettings, SettingError, within

PACKAGED_MODEL = "packaged"
# A document larger than this is skipped with a warning. War and Peace is 3.3 MB of plain text (Project Gutenberg), so
# 20 MB is several books in one file: at least 10,000 passages and minutes of embedding. A file past it is more
# likely a log or a dump than a source; before long paragraphs were split, a 50 MB file took 6.8 GB of memory
# to index.
MAX_FILE_MB = 20.0
# A FAISS index keeps its passages' token vectors for late interaction (store/tokens.py) while they take at most
# this many MB: int8, 388 bytes a word piece with all-MiniLM-L6-v2, so 512 MB holds about 1.38 million word pieces.
# The seeds take 1 MB, the SQuAD articles 5.3 MB, SciFact's 5,183 abstracts 502 MB (1.36 million word pieces, each
# abstract read to the model's 256; BENCHMARKS.md, "Late interaction, cheap"): the default keeps a corpus of that
# size. Past it an index keeps none, and late interaction reads its candidates at question time.
TOKEN_VECTORS_MB = 512.0


class Uri(str):
    """A server's URL (with "://"), or else a file path, relative to the config file like every other path."""


EMPTY_URI = Uri("")
MILVUS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,100}")  # Milvus's rule for names, less room for a build's


@dataclass(frozen=True)
class RetrievalConfig:
    """Where the documents and the index live, which model embeds them, and how a search is cut."""

    sources: Path = Path("seeds")
    index: Path = Path("index")
    model: str = PACKAGED_MODEL
    model_sha256: str = ""
    auto_build: Literal["never", "missing", "stale"] = "missing"
    batch_size: int = 32
    backend: Literal["auto", "torch", "torch-bf16", "onnx", "onnx-int8"] = "auto"
    question_backend: Literal["onnx", "same", "onnx-int8"] = "onnx"  # how questions are encoded (encode/embed.py)
    model_cache: Path = Path(".cache/models")
    index_type: Literal["auto", "exact", "ivf-sq8", "hnsw"] = "auto"
    search: SearchSettings = field(default_factory=SearchSettings)  # the [retrieval.search] table
    serve: ServeSettings = field(default_factory=ServeSettings)  # the [retrieval.serve] table
    max_file_mb: float = MAX_FILE_MB
    token_vectors_mb: float = TOKEN_VECTORS_MB  # 0 keeps none
    reading: ReadSettings = field(default_factory=ReadSettings)  # the [retrieval.reading] table
    # Where the index lives: FAISS files in `index`, or Milvus (a server's URL, or a Milvus Lite file ending
    # .db), in collections named after `milvus_collection`.
    store: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: Uri = EMPTY_URI
    milvus_collection: str = "sourcebot"

    def __post_init__(self) -> None:
        # Python callers may pass strings where paths are meant, as the TOML loader does
        for name in ("sources", "index", "model_cache"):
            object.__setattr__(self, name, Path(getattr(self, name)))
        within("batch_size", self.batch_size, 1, 4096)
        within("max_file_mb", self.max_file_mb, 0.01, 100_000.0)
        within("token_vectors_mb", self.token_vectors_mb, 0.0, 1_000_000.0)
        if self.store == "milvus":
            uri = str(self.milvus_uri)
            if not uri:
                raise SettingError("`milvus_uri` is needed with store = \"milvus\": a server's URL "
                                 "(http://host:19530) or a Milvus Lite file (milvus.db)")
            if "://" not in uri and not uri.endswith(".db"):
                raise SettingError(f"`milvus_uri` {uri!r} is neither a URL nor a Milvus Lite file; a file's name "
                                 "must end in .db")
        if not MILVUS_NAME.fullmatch(self.milvus_collection):
            raise SettingError(f"`milvus_collection` must be letters, digits and underscores (at most 101, not "
                             f"starting with a digit), not {self.milvus_collection!r}")


@dataclass(frozen=True)
class Config:
    """What the retrieval library reads from a config file: its [retrieval] section, and the file it came from."""

    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    path: Path | None = None


Shape = TypeVar("Shape")
# Sections of the other program that reads the same file (the Discord bot's [bot]): the library leaves them to it.
OTHER_PROGRAMS_SECTIONS = ("bot",)


def load_config(path: Path | str | None, shape: type[Shape] = Config, *,
                others: tuple[str, ...] = OTHER_PROGRAMS_SECTIONS) -> Shape:
    """The configuration in `path` (defaults for everything when None); relative paths follow the file.
    `shape` is a dataclass with one field a section (its type the section's dataclass) and `path`. The sections
    in `others` belong to another program sharing the file and are skipped; any other section is a mistake (a
    misspelt `[retrival]` would silently leave every setting at its default), refused naming the nearest one."""
    if path is None:
        return shape()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found; copy config.example.toml to {path} and edit it") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder; give the path of a TOML file (config.toml)") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    hints = typing.get_type_hints(shape)
    known = {f.name: hints[f.name] for f in fields(shape) if f.name != "path"}
    for name, value in data.items():
        if name in others:
            continue
        if name not in known:
            raise ConfigError(unknown_section(path, name, [*known, *others]))
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: `{name}` must be a [{name}] table")
    base = path.parent
    sections = {name: parse_section(cls, data.get(name, {}), f"{path} [{name}]", base)
                for name, cls in known.items()}
    return shape(**sections, path=path)


def unknown_section(path: Path, name: str, valid: list[str]) -> str:
    nearest = difflib.get_close_matches(name, valid, n=1)
    guess = f"did you mean [{nearest[0]}]? " if nearest else ""
    return f"{path}: unknown section [{name}]; {guess}known sections: {', '.join(valid)}"


def parse_section(cls: type, table: dict[str, Any], where: str, base: Path) -> Any:
    """Build the dataclass `cls` from a TOML table, naming the key and file of any mistake."""
    known = {f.name: f for f in fields(cls)}
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown key `{key}`; known keys: {', '.join(known)}")
    hints = typing.get_type_hints(cls)
    # a field kept out of reprs (the bot token) is a secret: its value is never shown in a message either
    values = {key: check_value(hints[key], value, field_where(where, key, hints[key]), base,
                               secret=not known[key].repr) for key, value in table.items()}
    try:
        return cls(**values)
    except ValueError as exc:
        raise ConfigError(f"{where} {exc}") from None


def field_where(where: str, key: str, hint: Any) -> str:
    """How a message names a key: the key in backquotes after its table, or a nested table as [retrieval.search]."""
    return f"{where[:-1]}.{key}]" if dataclasses.is_dataclass(hint) else f"{where} `{key}`"


def check_value(hint: Any, value: Any, where: str, base: Path, secret: bool = False) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return parse_section(hint, expect(dict, value, where), where, base)
    if hint is Path or hint == Path | None:
        return base / expect(str, value, where, secret)
    if hint is Uri:
        text = expect(str, value, where, secret)
        return Uri(text if "://" in text or not text else str(base / text))
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            wrong = "" if secret else f", not {value!r}"
            raise ConfigError(f"{where} must be one of {', '.join(map(repr, choices))}{wrong}")
        return value
    if origin is list:
        (item,) = typing.get_args(hint)
        return [expect(item, v, f"{where}[{i}]", secret) for i, v in enumerate(expect(list, value, where, secret))]
    return expect(hint, value, where, secret)


def expect(kind: type, value: Any, where: str, secret: bool = False) -> Any:
    # TOML integers are fine where a float is expected; booleans are never numbers.
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        wrong = "" if secret else f" ({value!r})"
        raise ConfigError(f"{where} must be {kind.__name__}, not {type(value).__name__}{wrong}")
    return value
