"""Each server's own settings, changed with /settings, in the bot's SQLite database beside the votes: a guild id
and the values it changed in; the config file's values are the defaults for everything else."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from .config import BotConfig
from .database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS server_settings (
    guild_id INTEGER PRIMARY KEY, changed TEXT NOT NULL, changed_at REAL NOT NULL, changed_by INTEGER);
"""


@dataclass(frozen=True)
class ServerSettings:
    """What one server (or DMs, guild None) gets: the config file's values unless the server changed them."""

    question_channels: tuple[int, ...]
    private_replies: bool
    reply_in_thread: bool
    cooldown_seconds: float
    count: int | None  # passages per answer; None: the retrieval settings' top_k
    min_relevance: float | None  # a stricter relevance threshold than retrieval's; None: retrieval's own
    keep_questions: bool  # keep questions, what they were shown and votes on them (the report uses them)

    @classmethod
    def defaults(cls, config: BotConfig) -> ServerSettings:
        return cls(question_channels=tuple(config.question_channels), private_replies=config.private_replies,
                   reply_in_thread=config.reply_in_thread, cooldown_seconds=config.cooldown_seconds, count=None,
                   min_relevance=None, keep_questions=config.feedback)

    def changed(self, changes: dict) -> ServerSettings:
        """These settings with `changes` (as stored: JSON values) applied; unknown keys are ignored."""
        known = {f.name for f in fields(self)}
        values = {k: tuple(v) if k == "question_channels" else v for k, v in changes.items() if k in known}
        return replace(self, **values)


class SettingsStore(Database):
    """The server_settings table; every method runs on the bot's writer thread."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA, "settings database", "server settings are the config file's")

    def load(self) -> dict[int, dict]:
        """Every server's changes."""
        with self._transaction("read") as db:
            rows = db.execute("SELECT guild_id, changed FROM server_settings").fetchall()
        return {int(guild): json.loads(changed) for guild, changed in rows}

    def save(self, guild_id: int, changes: dict, user_id: int) -> None:
        """Replace a server's changes (an empty dict: back to the config file's values)."""
        with self._transaction("written") as db:
            if changes:
                db.execute("INSERT INTO server_settings VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
                           "changed = excluded.changed, changed_at = excluded.changed_at, "
                           "changed_by = excluded.changed_by", (guild_id, json.dumps(changes), time.time(), user_id))
            else:
                db.execute("DELETE FROM server_settings WHERE guild_id = ?", (guild_id,))


def as_stored(settings: ServerSettings, defaults: ServerSettings) -> dict:
    """What differs from the defaults, as JSON values."""
    now, base = asdict(settings), asdict(defaults)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in now.items() if v != base[k]}
