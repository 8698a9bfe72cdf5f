"""Results folders are written atomically and never take user data with them (--force, stale .tmp-*)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vstack_sim.results.folders import (
    LOCK_NAME,
    AtomicFolder,
    FolderError,
    TargetTaken,
    check_target,
    clean_stale_tmp,
    is_results_folder,
    next_free,
    why_not_replaceable,
)
from vstack_sim.results.runner import choose_target, run_to_folder

TESTS = Path(__file__).resolve().parent


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def results_folder(tmp_path, fake_result, fake_simulate) -> Path:
    return run_to_folder(fake_result.config, out=tmp_path / "out", simulate=fake_simulate)


# --------------------------------------------------------------------------- what --force replaces

def test_a_written_folder_is_a_complete_results_folder(results_folder):
    assert is_results_folder(results_folder)
    assert json.loads((results_folder / "manifest.json").read_text())["format"] == "vstack-sim results folder"
    assert LOCK_NAME not in names(results_folder)


def test_explicit_out_that_exists_is_an_error_without_force(tmp_path, fake_result):
    (tmp_path / "out").mkdir()
    with pytest.raises(FolderError, match="already exists"):
        choose_target(fake_result.config, tmp_path / "out", force=False)


def test_force_replaces_a_complete_results_folder(tmp_path, results_folder, fake_result, fake_simulate):
    (results_folder / "summary.json").write_text(json.dumps({"old": True}))  # contents may change, the shape not
    run_to_folder(fake_result.config, out=results_folder, force=True, simulate=fake_simulate)
    assert "old" not in json.loads((results_folder / "summary.json").read_text())
    assert names(tmp_path) == ["out"]  # no .tmp-old-* left


@pytest.mark.parametrize("extra", ["stray.txt", "tables/notes.txt", "figures/sub/x.png", "precious/"])
def test_force_refuses_a_results_folder_with_anything_else_in_it(results_folder, fake_result, extra):
    path = results_folder / extra
    if extra.endswith("/"):
        path.mkdir()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("keep me")
    with pytest.raises(FolderError, match="not part of a results folder"):
        choose_target(fake_result.config, results_folder, force=True)
    assert path.exists()


def test_force_refuses_folders_without_a_vstack_sim_manifest(tmp_path, fake_result):
    home = tmp_path / "home"
    home.mkdir()
    (home / "summary.json").write_text("{}")   # looks like one, says nothing
    (home / "manifest.json").write_text('{"format": "something else"}')
    with pytest.raises(FolderError, match="no vstack-sim manifest"):
        choose_target(fake_result.config, home, force=True)
    # an empty folder may be used: it holds nothing
    (tmp_path / "empty").mkdir()
    assert choose_target(fake_result.config, tmp_path / "empty", force=True) == (tmp_path / "empty", False)


def test_force_over_a_symlink_or_a_file_is_refused_and_touches_nothing(tmp_path, results_folder, fake_result):
    link = tmp_path / "link"
    link.symlink_to(results_folder)
    afile = tmp_path / "afile"
    afile.write_text("mine")
    with pytest.raises(FolderError, match="symbolic link"):
        choose_target(fake_result.config, link, force=True)
    with pytest.raises(FolderError, match="not a folder"):
        choose_target(fake_result.config, afile, force=True)
    assert link.is_symlink() and afile.read_text() == "mine"


def test_force_rechecks_at_the_rename_and_keeps_a_folder_made_meanwhile(tmp_path, fake_result, fake_simulate):
    out = tmp_path / "out"
    said = []

    def meanwhile(config, progress=None):
        out.mkdir()
        (out / "precious.txt").write_text("made while the run was going")
        return fake_simulate(config, progress)

    with pytest.raises(TargetTaken) as caught:
        run_to_folder(fake_result.config, out=out, force=True, simulate=meanwhile, echo=said.append)
    final = caught.value.final
    assert (out / "precious.txt").read_text() == "made while the run was going"
    assert final == tmp_path / "out-1" and is_results_folder(final)
    message = str(caught.value)
    assert "not a results folder" in message and message.endswith(f"this run's results are in {final}")
    assert "\n" not in message and str(out) in message and said == []
    assert names(tmp_path) == ["out", "out-1"]


def test_force_keeps_a_results_folder_that_gained_a_file_during_the_run(tmp_path, results_folder, fake_result,
                                                                        fake_simulate):
    def meanwhile(config, progress=None):
        (results_folder / "notes.md").write_text("my notes")
        return fake_simulate(config, progress)

    with pytest.raises(TargetTaken) as caught:
        run_to_folder(fake_result.config, out=results_folder, force=True, simulate=meanwhile, echo=lambda _: None)
    assert (results_folder / "notes.md").read_text() == "my notes" and caught.value.final.name == "out-1"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_explicit_out_taken_meanwhile_without_force_is_kept(tmp_path, fake_result, fake_simulate):
    out = tmp_path / "out"

    def meanwhile(config, progress=None):
        out.mkdir()
        (out / "x").write_text("theirs")
        return fake_simulate(config, progress)

    with pytest.raises(TargetTaken, match="created by something else while this run went on") as caught:
        run_to_folder(fake_result.config, out=out, simulate=meanwhile, echo=lambda _: None)
    assert (out / "x").read_text() == "theirs" and caught.value.final == tmp_path / "out-1"
    assert is_results_folder(caught.value.final)


def test_without_fallback_a_target_taken_meanwhile_is_an_error_and_kept(tmp_path):
    with pytest.raises(FolderError, match="already exists"):
        with AtomicFolder(tmp_path / "r") as folder:
            (tmp_path / "r").mkdir()
            (tmp_path / "r" / "x").write_text("theirs")
    assert names(tmp_path) == ["r"] and (tmp_path / "r" / "x").read_text() == "theirs"
    assert not folder.tmp.exists()


def test_atomic_folder_auto_moves_on_when_the_name_is_taken_meanwhile(tmp_path):
    with AtomicFolder(tmp_path / "r", auto=True) as folder:
        (folder.tmp / "f").write_text("1")
        (tmp_path / "r").mkdir()
        (tmp_path / "r" / "other").write_text("someone else")
    assert folder.final == tmp_path / "r-1"
    assert (tmp_path / "r-1" / "f").read_text() == "1"
    assert (tmp_path / "r" / "other").read_text() == "someone else"


def test_next_free(tmp_path):
    assert next_free(tmp_path / "a") == tmp_path / "a"
    (tmp_path / "a").mkdir()
    (tmp_path / "a-1").mkdir()
    assert next_free(tmp_path / "a") == tmp_path / "a-2"


# --------------------------------------------------------------------------- places that cannot hold a folder

def test_targets_that_cannot_be_results_folders_are_refused_up_front(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for target, fragment in ((".", "working folder"), ("..", "working folder"), ("afile/out", "is not a folder"),
                             ("x" * 300, "longer than 255 bytes"), ("loop", "symbolic link loop"),
                             (str(tmp_path), "working folder")):
        with pytest.raises(FolderError, match=fragment):
            check_target(Path(target), force=True)
    assert names(tmp_path) == ["afile", "loop"]


def test_a_long_name_that_fits_gets_a_temporary_folder_that_fits_too(tmp_path):
    with AtomicFolder(tmp_path / ("n" * 250)) as folder:
        assert len(folder.tmp.name) < 255
    assert folder.final == tmp_path / ("n" * 250)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_parent_is_one_line(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(FolderError, match="cannot create the results folder"):
            AtomicFolder(ro / "out").__enter__()
    finally:
        ro.chmod(0o700)


def test_proc_is_refused_with_one_line():
    with pytest.raises(FolderError, match="/proc/x/out: cannot create the results folder"):
        AtomicFolder(Path("/proc/x/out")).__enter__()


# --------------------------------------------------------------------------- stale temporary folders

_HOLD = """
import sys, time
sys.path.insert(0, {tests!r})
from vstack_sim.results.folders import AtomicFolder
with AtomicFolder({target!r}) as folder:
    print(folder.tmp, flush=True)
    time.sleep(60)
"""


def _holder(target: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD.format(tests=str(TESTS), target=str(target))],
                            stdout=subprocess.PIPE, text=True)
    return proc, Path(proc.stdout.readline().strip())


def test_stale_tmp_cleaner_removes_only_our_abandoned_folders(tmp_path):
    live_proc, live = _holder(tmp_path / "live")
    dead_proc, dead = _holder(tmp_path / "dead")
    dead_proc.kill()
    dead_proc.wait(timeout=30)
    try:
        # another program's folders, whatever their names look like: never touched
        foreign = [tmp_path / ".tmp-4194000-cache", tmp_path / f".tmp-x-{dead_proc.pid}-abcd1234",
                   tmp_path / ".tmp-old-out-1-abcd"]
        for p in foreign:
            p.mkdir()
            (p / "data").write_text("not yours")
        fake_lock = tmp_path / ".tmp-linked-1-ab"   # a lock file that is a symlink is not ours either
        fake_lock.mkdir()
        (fake_lock / LOCK_NAME).symlink_to(dead / LOCK_NAME)
        assert clean_stale_tmp(tmp_path) == [dead]
        assert live.is_dir() and all((p / "data").is_file() for p in foreign) and fake_lock.is_dir()
        assert clean_stale_tmp(tmp_path) == []  # the live run keeps its lock
    finally:
        live_proc.kill()
        live_proc.wait(timeout=30)


def test_a_lock_held_in_this_process_protects_its_folder_too(tmp_path):
    with AtomicFolder(tmp_path / "a") as first:
        assert clean_stale_tmp(tmp_path) == []
        assert first.tmp.is_dir()


def test_the_lock_file_appears_only_once_locked(tmp_path):
    with AtomicFolder(tmp_path / "a") as folder:
        fd = os.open(folder.tmp / LOCK_NAME, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        assert [p.name for p in folder.tmp.iterdir()] == [LOCK_NAME]


def test_why_not_replaceable_of_a_missing_path_is_none(tmp_path):
    assert why_not_replaceable(tmp_path / "missing") is None
