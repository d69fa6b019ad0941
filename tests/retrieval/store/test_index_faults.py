"""The index under stress: builds racing each other, readers racing builds, full disks, bad manifests, edited models."""

import errno
import json
import multiprocessing
import os
import shutil
import threading
from pathlib import Path

import pytest

from retrieval import IndexCorrupt, IndexProblem, RetrievalConfig, RetrievalError, load_corpus, open_retriever
from retrieval.encode.embed import resolve_model
from retrieval.errors import IndexBusy
from retrieval.ingest.prepared import prepare
from retrieval.store.build import build_index
from retrieval.store.index import BUILDS, CURRENT, MANIFEST, open_index
from retrieval.store.lexical import Lexical
from retrieval.store.lock import writer_lock

from ...conftest import SEED_PASSAGES, SEEDS
from ...encoders import WordHashEncoder


def build_seeds(index_dir: Path) -> None:
    build_index(prepare(load_corpus(SEEDS)), WordHashEncoder(), index_dir, SEEDS, progress=False, reuse=False)


def build_seeds_repeatedly(index_dir: str, times: int) -> None:
    for _ in range(times):
        build_seeds(Path(index_dir))


@pytest.fixture
def index(tmp_path: Path) -> Path:
    build_seeds(tmp_path / "index")
    return tmp_path / "index"


@pytest.mark.slow
def test_two_builds_of_one_index_at_once_leave_it_working(tmp_path: Path):
    index_dir = tmp_path / "index"
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, as two `retrieval build` runs would be
    builders = [spawn.Process(target=build_seeds_repeatedly, args=(str(index_dir), 6)) for _ in range(2)]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join(timeout=120)
    assert [builder.exitcode for builder in builders] == [0, 0]
    assert (index_dir / CURRENT).resolve().is_dir()
    assert open_index(index_dir).manifest.vectors == SEED_PASSAGES


def test_a_build_waits_for_the_writer_before_it_and_names_it(index: Path):
    first_writer = writer_lock(index)
    with first_writer, pytest.raises(IndexBusy, match=rf"pid {os.getpid()} \(.*python"), writer_lock(index, wait=0.2):
        pass
    with writer_lock(index, wait=0.2):  # released: the next writer goes ahead
        pass


@pytest.mark.slow
def test_opening_while_rebuilding_sees_one_whole_build(index: Path):
    rebuilds = 0

    def rebuild() -> None:
        nonlocal rebuilds
        while rebuilds < 40:  # opening failed within about 20 rebuilds before readers kept to one build
            build_seeds(index)
            rebuilds += 1

    rebuilder = threading.Thread(target=rebuild)
    rebuilder.start()
    opened = []
    try:
        while rebuilder.is_alive():
            opened.append(open_index(index).manifest.vectors)
    finally:
        rebuilder.join()
    assert rebuilds == 40 and set(opened) == {SEED_PASSAGES}


def test_a_full_disk_during_a_build_keeps_the_old_index_and_says_so(index: Path, monkeypatch):
    before = (index / CURRENT).resolve()

    def full_disk(self, folder: Path) -> None:
        folder.mkdir()
        (folder / "part").write_bytes(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "part"))

    monkeypatch.setattr(Lexical, "save", full_disk)
    with pytest.raises(IndexProblem, match=rf"{index}.*free disk space"):
        build_seeds(index)
    assert [p.name for p in (index / BUILDS).iterdir()] == [before.name]  # the half-written build is gone
    assert open_index(index).manifest.vectors == SEED_PASSAGES


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_index_folder_keeps_the_old_index_and_says_so(index: Path):
    for folder in (index, index / BUILDS):
        folder.chmod(0o555)
    try:
        with pytest.raises(IndexProblem, match=rf"{index}.*check (its )?permissions"):
            build_seeds(index)
    finally:
        for folder in (index, index / BUILDS):
            folder.chmod(0o755)
    assert open_index(index).manifest.vectors == SEED_PASSAGES


@pytest.mark.parametrize("edit", [{"checksums": None}, {"checksums": ["vectors.faiss"]}, {"model_sha256": 5},
                                  {"skipped": "scan.pdf"}, {"skipped": [{"file": "scan.pdf", "reason": None}]}])
def test_a_manifest_field_of_the_wrong_type_is_reported_as_corrupt(index: Path, edit: dict):
    manifest = index / CURRENT / MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), **edit}))
    config = RetrievalConfig(sources=SEEDS, index=index, auto_build="never")
    with pytest.raises(IndexCorrupt, match=f"{next(iter(edit))}.*rebuild"):
        open_retriever(config, encoder=WordHashEncoder())


def test_a_manifest_written_before_skipped_files_were_recorded_still_opens(index: Path):
    manifest = index / CURRENT / MANIFEST
    data = json.loads(manifest.read_text())
    assert data.pop("skipped") == []
    manifest.write_text(json.dumps(data))
    config = RetrievalConfig(sources=SEEDS, index=index, auto_build="never")
    retriever = open_retriever(config, encoder=WordHashEncoder())
    assert retriever.index.manifest.skipped == [] and retriever.index.manifest.vectors == SEED_PASSAGES


def test_a_model_with_another_pooling_is_not_the_packaged_model(tmp_path: Path):
    packaged = resolve_model(backend="torch")
    cls_model = Path(shutil.copytree(packaged.path, tmp_path / "model"))
    pooling = cls_model / "1_Pooling" / "config.json"
    settings = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**settings, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    with pytest.raises(RetrievalError, match="differ"):
        resolve_model(str(cls_model), expected_sha256=packaged.sha256, backend="torch")
    assert resolve_model(str(cls_model), backend="torch").sha256 != packaged.sha256
