"""bench-uploads' parts on small files: a Word bomb probed in a fresh process, a folder timed both ways."""

from __future__ import annotations

from pathlib import Path

from retrieval.benchmarks.uploads import folders_table, probe, time_folder, upload_table, word_bomb
from retrieval.settings import ReadSettings

from ...conftest import SEEDS


def test_a_small_bomb_is_probed_in_a_fresh_process_and_tabled(tmp_path: Path):
    refusal = probe(word_bomb(tmp_path / "bomb.docx", 20_000_000), ReadSettings())
    assert refusal.outcome.startswith("holds a part ('word/document.xml') that unzips to")
    assert refusal.seconds > 0 and 30 < refusal.reader_mb < 1000 and 30 < refusal.worker_mb < 1000
    assert refusal.size_mb < 0.1
    assert upload_table([refusal]).splitlines()[1].startswith("bomb.docx")


def test_a_folder_is_timed_within_bounds_and_unbounded():
    timed = time_folder(SEEDS, ReadSettings(), repeats=1)
    assert timed.files == 3 and timed.bounded_seconds > 0 and timed.unbounded_seconds > 0
    assert "seeds" in folders_table([timed])
