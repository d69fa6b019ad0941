"""bench-uploads' parts on small files: a Word bomb probed in a fresh process, a folder timed both ways."""

from __future__ import annotations

from pathlib import Path

from retrieval.benchmarks.uploads import folders_table, probe, time_folder, upload_table, word_bomb
from retrieval.settings import ReadSettings

from ...conftest import SEEDS
from ...support.documents import make_docx

BOMB_BYTES = 20_000_000


def test_a_small_bomb_is_probed_in_a_fresh_process_and_tabled(tmp_path: Path):
    refusal = probe(word_bomb(tmp_path / "bomb.docx", BOMB_BYTES), ReadSettings())
    ordinary = probe(make_docx(tmp_path / "ordinary.docx"), ReadSettings())
    assert refusal.outcome.startswith("holds a part ('word/document.xml') that unzips to")
    assert ordinary.outcome == "read"
    assert refusal.seconds > 0 and refusal.reader_mb > 0 and refusal.size_mb < 0.1
    # Refused from its zip directory, the bomb costs its reader what an ordinary Word file does, on any machine:
    # inflating its part alone would take its 20 MB, and parsing it several times that.
    assert 0 < refusal.worker_mb < ordinary.worker_mb + BOMB_BYTES / 2**20
    assert upload_table([refusal]).splitlines()[1].startswith("bomb.docx")


def test_a_folder_is_timed_within_bounds_and_unbounded():
    timed = time_folder(SEEDS, ReadSettings(), repeats=1)
    assert timed.files == 3 and timed.bounded_seconds > 0 and timed.unbounded_seconds > 0
    assert "seeds" in folders_table([timed])
