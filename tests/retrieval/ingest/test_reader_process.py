"""Reading within bounds: a Word zip bomb refused before it is inflated, a reading stopped at its deadline or its
memory ceiling with the reason, and the worker that reads replaced when it dies. Hostile files made with real
libraries (python-docx, zipfile, pypdf), small enough to be quick."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest

from retrieval import ConfigError, SourceError, add_document, load_config, load_corpus
from retrieval.benchmarks.uploads import slow_pdf, word_bomb
from retrieval.ingest.reader_process import WORKERS, Request, Worker, read_bounded
from retrieval.settings import ReadSettings, SettingError

from ...conftest import PROJECT
from ...support.documents import make_docx

MB = 1_000_000


def ledger_docx(path: Path, paragraphs: int) -> Path:
    """A real Word file (python-docx) with `paragraphs` short paragraphs written straight into its XML (adding
    them one by one through python-docx would take minutes)."""
    docx.Document().save(str(path))
    with zipfile.ZipFile(path) as plain:
        parts = [(info.filename, plain.read(info)) for info in plain.infolist()]
    body = b"".join(b"<w:p><w:r><w:t>Ledger line %d of the ferry.</w:t></w:r></w:p>" % n for n in range(paragraphs))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as ledger:
        for name, data in parts:
            if name == "word/document.xml":
                at = data.index(b"<w:body>") + len(b"<w:body>")
                data = data[:at] + body + data[at:]
            ledger.writestr(name, data)
    return path


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "harbour.txt").write_text("Harbour Notes\n\nThe harbour opens at dawn and closes at dusk.\n")
    return folder


def test_a_word_zip_bomb_is_refused_from_its_directory_before_anything_is_inflated(sources: Path, tmp_path: Path):
    bomb = word_bomb(tmp_path / "bomb.docx", 8 * MB)  # 45 KB that unzip to 8 MB of white space in valid XML
    assert bomb.stat().st_size < 100_000
    with pytest.raises(SourceError, match=r"^bomb\.docx was not added: holds a part \('word/document\.xml'\) that "
                                          r"unzips to [\d,]+ times its size, as zip bombs do"):
        add_document(sources, "bomb.docx", bomb.read_bytes(), 20.0)
    with pytest.raises(SourceError, match=r"would unzip to 9 MB, over the 5 MB a Word file may unzip to "
                                          r"\(`max_unzipped_mb`"):
        read_bounded(bomb, "bomb", ReadSettings(max_unzipped_mb=5))
    assert sorted(p.name for p in sources.iterdir()) == ["harbour.txt"]


def test_a_part_that_holds_more_than_it_declares_is_cut_at_its_declared_size(tmp_path: Path):
    """zipfile never gives more of a part than the directory says: the directory check caps what is inflated."""
    lying = make_docx(tmp_path / "lying.docx")
    data = bytearray(lying.read_bytes())
    with zipfile.ZipFile(lying) as archive:
        start, info = archive.start_dir, archive.getinfo("word/document.xml")
    entry = data.index(b"PK\x01\x02", start)  # the central directory's entries, each before its name
    while data[entry + 46:entry + 46 + len(info.filename)] != info.filename.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    assert int.from_bytes(data[entry + 24:entry + 28], "little") == info.file_size  # its uncompressed size
    data[entry + 24:entry + 28] = (100).to_bytes(4, "little")  # says 100 bytes, holds thousands
    lying.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"not a readable Word document \(BadZipFile\)"):
        read_bounded(lying, "lying")


def test_a_reading_past_its_deadline_is_stopped_and_the_manager_told_why(sources: Path, tmp_path: Path):
    slow = slow_pdf(tmp_path / "slow.pdf", 3, 20_000)  # three pages that share one stream: seconds a page
    with pytest.raises(SourceError, match=r"^slow\.pdf was not added: took more than 0\.5 s to read, so it was "
                                          r"stopped \(`seconds` in the config's \[retrieval\.reading\] table\)"):
        add_document(sources, "slow.pdf", slow.read_bytes(), 20.0, ReadSettings(seconds=0.5))
    assert sorted(p.name for p in sources.iterdir()) == ["harbour.txt"]  # nor a scratch folder left
    make_docx(sources / "ferry.docx")
    assert "ferry" in load_corpus(sources).sources  # the next reading gets a fresh worker


def test_a_reading_past_its_memory_ceiling_is_stopped_and_says_so(tmp_path: Path):
    ledger = ledger_docx(tmp_path / "ledger.docx", 20_000)  # 90 KB; its XML tree takes tens of MB
    with pytest.raises(SourceError, match=r"ledger\.docx needs more than 16 MB of memory to read, so it was stopped "
                                          r"\(`memory_mb`"):
        read_bounded(ledger, "ledger", ReadSettings(memory_mb=16))
    assert len(read_bounded(ledger, "ledger").blocks) == 20_000  # within the default ceiling it reads


def test_a_folder_build_skips_a_file_past_a_bound_and_keeps_the_rest(sources: Path, tmp_path: Path):
    slow_pdf(sources / "slow.pdf", 3, 20_000)
    corpus = load_corpus(sources, reading=ReadSettings(seconds=0.5))
    assert list(corpus.sources) == ["harbour"]
    assert [s.file for s in corpus.skipped] == ["slow.pdf"]
    assert corpus.skipped[0].reason.startswith("took more than 0.5 s to read")


def test_many_tiny_word_paragraphs_read_well_within_the_deadline(tmp_path: Path):
    """python-docx found each paragraph's style by scanning every style (1 ms a paragraph: 200,000 took minutes);
    the reader looks each style up once."""
    ledger = ledger_docx(tmp_path / "ledger.docx", 30_000)
    assert len(read_bounded(ledger, "ledger", ReadSettings(seconds=20)).blocks) == 30_000


def test_a_worker_killed_while_idle_is_replaced(tmp_path: Path):
    make_docx(tmp_path / "ferry.docx")
    assert read_bounded(tmp_path / "ferry.docx", "ferry").blocks
    for worker in WORKERS.idle:
        worker.process.kill()
        worker.process.wait()
    assert read_bounded(tmp_path / "ferry.docx", "ferry").blocks


def test_reading_bounds_are_settings_checked_on_load(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[retrieval.reading]\nseconds = 5\nmemory_mb = 512\nmax_unzipped_mb = 50\n")
    assert load_config(config).retrieval.reading == ReadSettings(seconds=5, memory_mb=512, max_unzipped_mb=50)
    config.write_text("[retrieval.reading]\nseconds = 0\n")
    with pytest.raises(ConfigError, match=r"\[retrieval\.reading\] `seconds` must be between"):
        load_config(config)
    with pytest.raises(SettingError, match="memory_mb"):
        ReadSettings(memory_mb=1)


def test_a_refused_file_leaves_its_worker_for_the_next_file(tmp_path: Path):
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not a zip at all")
    make_docx(tmp_path / "ferry.docx")
    read_bounded(tmp_path / "ferry.docx", "ferry")
    before = {worker.process.pid for worker in WORKERS.idle}
    with pytest.raises(SourceError, match="not a readable Word document"):
        read_bounded(tmp_path / "broken.docx", "broken")
    assert {worker.process.pid for worker in WORKERS.idle} == before  # no new process started for a refusal


def test_a_worker_whose_owner_died_mid_reading_still_stops_at_its_cpu_limit(tmp_path: Path):
    slow = slow_pdf(tmp_path / "slow.pdf", 20, 20_000)  # a minute of work or more
    worker = Worker()
    worker.pipe.send(Request(str(slow), "slow", ReadSettings(seconds=0.5), False))
    worker.pipe.close()  # nobody watches its clock any more
    assert worker.process.wait(timeout=60) == -signal.SIGXCPU


def test_ctrl_c_in_the_terminal_leaves_the_reader_to_its_owner(tmp_path: Path):
    # Ctrl-C reaches the whole process group: the owner stops its worker itself, and prints one line; a worker
    # interrupted on its own printed a traceback under it
    script = ("import os, signal, sys, time\n"
              "from retrieval.ingest.reader_process import Worker\n"
              "worker = Worker()\n"
              "os.kill(worker.process.pid, signal.SIGINT)\n"
              "time.sleep(1)\n"
              "print(worker.alive())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert (done.stdout, done.stderr) == ("True\n", "")


def test_ctrl_c_while_a_reader_starts_leaves_nothing_behind_to_complain():
    # interrupted while waiting for a new worker's "ready": the worker, still importing, must not be left to find
    # its owner gone and print a BrokenPipeError under the owner's one line
    script = ("import signal, sys, time\n"
              "from retrieval.ingest.reader_process import Worker\n"
              "def interrupt(*_):\n"
              "    raise KeyboardInterrupt\n"
              "signal.signal(signal.SIGALRM, interrupt)\n"
              "signal.setitimer(signal.ITIMER_REAL, 0.05)\n"
              "try:\n"
              "    Worker()\n"
              "except KeyboardInterrupt:\n"
              "    print('interrupted')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert (done.stdout, done.stderr) == ("interrupted\n", "")
