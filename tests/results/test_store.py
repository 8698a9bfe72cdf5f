"""The results folder: atomic writing, naming, --force safety, stale .tmp-* cleanup, reading back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vstack_sim import load_result
from vstack_sim.results import plots
from vstack_sim.results.manifest import build_manifest
from vstack_sim.results.runner import run_to_folder
from vstack_sim.results.store import TABLES, ResultsError, dump_json, read_table, write_data, write_table
from vstack_sim.scenario.emit import config_sha256, to_yaml

TESTS = Path(__file__).resolve().parent


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_run_writes_the_whole_contract(tmp_path, fake_result, fake_simulate):
    folder = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate, argv=["run", "x.yaml"])
    assert folder == tmp_path / "fake"
    files = set(listing(folder))
    for name in ("scenario.yaml", "summary.json", "manifest.json", "report.html", "report.md"):
        assert name in files
    assert {f"tables/{t}.csv" for t in TABLES} <= files
    assert "figures/storage_by_mode.png" in files and "figures/read_latency_cdf.png" in files
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert json.loads((folder / "summary.json").read_text()) == fake_result.summary


def test_manifest_records_what_produced_the_run(tmp_path, fake_result, fake_simulate):
    folder = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate,
                           argv=["run", "my scenario.yaml", "--seed", "3"])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert manifest["config_sha256"] == config_sha256(fake_result.config)
    assert manifest["command"] == "vstack-sim run 'my scenario.yaml' --seed 3"
    assert manifest["versions"]["numpy"] == np.__version__
    assert manifest["versions"]["pandas"] == pd.__version__
    assert manifest["python"].count(".") == 2
    assert set(manifest["timings_s"]) == {"build", "run", "finalize", "write"}
    assert manifest["wall_time_s"] >= 0
    assert "git_commit" in manifest


def test_manifest_git_commit_is_the_build_record_not_the_working_folders_repository(tmp_path, fake_result,
                                                                                   fake_simulate, monkeypatch):
    import subprocess

    from vstack_sim.results.buildinfo import build_info

    other = tmp_path / "someone-elses-repo"
    other.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(git + ["init", "-q"], cwd=other, check=True)
    subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "x"], cwd=other, check=True)
    theirs = subprocess.run(["git", "rev-parse", "HEAD"], cwd=other, capture_output=True, text=True).stdout.strip()
    monkeypatch.chdir(other)
    folder = run_to_folder(fake_result.config, root=tmp_path / "out", simulate=fake_simulate)
    manifest = json.loads((folder / "manifest.json").read_text())
    info = build_info()
    assert manifest["git_commit"] == info["git_commit"] != theirs
    assert manifest["git_dirty"] == info["git_dirty"] and manifest["editable"] == info["editable"]


def test_default_folder_takes_the_next_free_name_and_says_so(tmp_path, fake_result, fake_simulate):
    said = []
    first = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate, echo=said.append)
    second = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate, echo=said.append)
    third = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate, echo=said.append)
    assert [first.name, second.name, third.name] == ["fake", "fake-1", "fake-2"]
    assert said == [f"{tmp_path / 'fake'} exists; writing {tmp_path / 'fake-1'}",
                    f"{tmp_path / 'fake'} exists; writing {tmp_path / 'fake-2'}"]


def test_failure_while_writing_leaves_nothing(tmp_path, fake_result):
    def broken(config, progress=None):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run_to_folder(fake_result.config, root=tmp_path, simulate=broken)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):  # nor the parent folders it made for the target
        run_to_folder(fake_result.config, out=tmp_path / "new" / "deeper" / "out", simulate=broken)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_names_the_results_folder_and_leaves_nothing(tmp_path, fake_result, fake_simulate,
                                                                 monkeypatch):
    import errno

    from vstack_sim.results import runner

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/somewhere/.tmp-x/tables/reads.csv")

    monkeypatch.setattr(runner, "write_data", full)
    with pytest.raises(OSError) as info:
        run_to_folder(fake_result.config, out=tmp_path / "out", simulate=fake_simulate)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_load_result_refuses_summaries_that_are_not_a_runs(tmp_path, fake_result, fake_simulate):
    folder = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate)
    for text, fragment in (("", "broken JSON"), ("[1, 2]", "expected a JSON object, got a list"),
                           ("{}", "not a run's summary (no 'run' section)"), ("\x00\xff\xfe", "not a text file")):
        (folder / "summary.json").write_bytes(text.encode("latin-1"))
        with pytest.raises(ResultsError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
            load_result(folder)


def test_keyboard_interrupt_leaves_nothing(tmp_path, fake_result):
    def interrupted(config, progress=None):
        assert [p.name[:5] for p in tmp_path.iterdir()] == [".tmp-"]  # written beside the target
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_to_folder(fake_result.config, root=tmp_path, simulate=interrupted)
    assert list(tmp_path.iterdir()) == []


def test_tables_round_trip_with_empty_text_and_nan(tmp_path, fake_result):
    for name, df in fake_result.tables.items():
        write_table(df, tmp_path / f"{name}.csv")
        back = read_table(tmp_path / f"{name}.csv")
        assert list(back.columns) == list(df.columns), name
        assert len(back) == len(df)
    reads = read_table(tmp_path / "reads.csv")
    assert set(reads["reason"]) == {"", "unavailable"}
    assert reads["latency_ms"].isna().sum() == (fake_result.tables["reads"]["kind"] == "failed").sum()
    np.testing.assert_array_equal(reads["time_s"], fake_result.tables["reads"]["time_s"])  # exact floats


def test_csv_and_json_are_byte_stable(tmp_path, fake_result):
    from tests.conftest import make_fake_result

    write_data(tmp_path / "a", fake_result.config, fake_result.summary, fake_result.tables, {})
    other = make_fake_result()
    write_data(tmp_path / "b", other.config, other.summary, other.tables, {})
    for rel in listing(tmp_path / "a"):
        if (tmp_path / "a" / rel).is_file():
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_dump_json_is_strict():
    assert dump_json({"x": float("nan"), "y": np.int64(3), "z": (1, 2)}) == (
        '{\n  "x": null,\n  "y": 3,\n  "z": [\n    1,\n    2\n  ]\n}\n')


def test_load_result_reads_back_like_a_result(tmp_path, fake_result, fake_simulate):
    folder = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate)
    loaded = load_result(folder)
    assert loaded.config == fake_result.config
    assert loaded.summary == fake_result.summary
    assert set(loaded.tables) == set(TABLES)
    assert loaded.reads.shape == fake_result.tables["reads"].shape  # attribute shortcut
    assert loaded.manifest["seed"] == 3
    with pytest.raises(AttributeError):
        _ = loaded.nothing


def test_load_result_errors_are_one_line(tmp_path):
    with pytest.raises(ResultsError, match="no such results folder"):
        load_result(tmp_path / "missing")
    with pytest.raises(ResultsError, match="not a results folder"):
        load_result(tmp_path)


def test_scenario_yaml_is_the_resolved_scenario(tmp_path, fake_result, fake_simulate):
    folder = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate)
    assert (folder / "scenario.yaml").read_text() == to_yaml(fake_result.config)


def test_build_manifest_without_argv_uses_sys_argv(fake_result):
    manifest = build_manifest(fake_result.config, None, 1.0, {})
    assert manifest["command"]


_SLOW_RUN = """
import sys, time
sys.path.insert(0, {tests!r})
from tests.conftest import make_fake_result
from vstack_sim.results.runner import run_to_folder

def slow(config, progress=None):
    print("started", flush=True)
    time.sleep(60)  # the test interrupts or kills the process here
    return make_fake_result(config)

try:
    run_to_folder(make_fake_result().config, root={root!r} + "/made/by/run", simulate=slow)
except KeyboardInterrupt:
    sys.exit(130)
"""


def _default_sigint() -> None:
    """A shell's background job starts with SIGINT ignored, and Python then never raises
    KeyboardInterrupt; give the child the default disposition, as a terminal would. The same for the other
    signals the test sends: an ignored disposition is inherited, and the pytest worker may have been left with
    one by an earlier test (the runner, rightly, keeps a signal its parent ignores ignored)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def _start_slow(root: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_RUN.format(tests=str(TESTS), root=str(root))],
                            stdout=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    assert proc.stdout.readline().strip() == "started"
    return proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT])
def test_interrupted_process_leaves_no_folder_not_even_the_parents_it_made(tmp_path, sig):
    proc = _start_slow(tmp_path)
    assert [p.name[:5] for p in (tmp_path / "made" / "by" / "run").iterdir()] == [".tmp-"]
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == 130
    assert list(tmp_path.iterdir()) == []


def test_killed_process_leftover_is_removed_by_the_next_run(tmp_path, fake_result, fake_simulate):
    proc = _start_slow(tmp_path)
    proc.kill()
    proc.wait(timeout=60)
    root = tmp_path / "made" / "by" / "run"
    leftovers = [p for p in root.iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1
    run_to_folder(fake_result.config, root=root, simulate=fake_simulate)
    assert [p.name for p in root.iterdir()] == ["fake"]


def test_committed_example_is_a_small_complete_results_folder():
    example = TESTS.parents[1] / "results" / "example-seed"
    size = sum(p.stat().st_size for p in example.rglob("*") if p.is_file())
    assert size <= 5 * 2**20
    loaded = load_result(example)
    assert loaded.config.name == "seed"
    assert loaded.summary["storage_initial"]["total_physical_bytes"] == 181_753_252_500
    assert set(loaded.tables) == set(TABLES)
    assert len(loaded.reads) == loaded.config.outputs.reads_table_sample
    from vstack_sim.results.plots.relevance import left_out

    figures = {p.stem for p in (example / "figures").glob("*.png")}
    with_content = {name for name in plots.FIGURES if not left_out(name, loaded)}   # a week without failures
    assert (example / "report.html").is_file() and figures == with_content
    assert {"recovery_times", "repair_traffic"} & with_content == set()


HOSTILE_IDS = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "'quoted", "''", "007", "NA", "null", "plain",
               "a=b"]


def test_text_cells_that_start_like_formulas_are_escaped_and_read_back_exactly(tmp_path):
    # Issue 19 §5: a video id from catalog.source became a live formula in tables/videos.csv (OWASP CSV injection).
    df = pd.DataFrame({"video_id": range(len(HOSTILE_IDS)), "video_key": HOSTILE_IDS,
                       "view_count": [-1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]})
    write_table(df, tmp_path / "videos.csv")
    lines = (tmp_path / "videos.csv").read_text().splitlines()
    cells = [line.split(",", 1)[1].rsplit(",", 1)[0] for line in lines[1:]]
    assert cells[:7] == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "'\tx", "''quoted", "'''"]
    assert cells[7:] == ["007", "NA", "null", "plain", "a=b"]
    assert lines[1].endswith(",-1")                                   # numbers are numbers, never escaped
    back = read_table(tmp_path / "videos.csv")
    assert back["video_key"].tolist() == HOSTILE_IDS                  # "007" stays text, "NA" is not missing
    assert back["view_count"].tolist() == df["view_count"].tolist()
    assert df["video_key"].tolist() == HOSTILE_IDS                    # the caller's frame is left as it was


def test_a_run_with_formula_ids_reads_back_to_the_same_keys(tmp_path):
    from tests.builders import config

    ids = ["=1+1", "-3", "@x", "safe"]
    (tmp_path / "v.csv").write_text("video_id,views,chunks\n" + "".join(f"{i},{n},1\n" for n, i in enumerate(ids)))
    cfg = config({"run": {"duration": "1h"}, "catalog": {"source": str(tmp_path / "v.csv"), "chunk_size": 1000},
                  "cluster": {"nodes": 6, "racks": 3}, "outputs": {"figures": False, "catalog": False}})
    folder = run_to_folder(cfg, out=tmp_path / "run", quiet=True)
    text = (folder / "tables" / "videos.csv").read_text()
    assert "\n0,'=1+1," in text and "\n1,'-3," in text and "\n2,'@x," in text and "\n3,safe," in text
    assert load_result(folder).videos["video_key"].tolist() == ids


def test_a_folder_written_before_the_read_path_rules_reads_back_with_the_rules_it_ran_under(tmp_path):
    import shutil

    import yaml

    example = Path(__file__).resolve().parents[2] / "results" / "example-seed"
    old = tmp_path / "old"
    old.mkdir()
    for name in ("summary.json", "manifest.json"):
        shutil.copy(example / name, old / name)
    data = yaml.safe_load((example / "scenario.yaml").read_text())
    data.pop("reads"), data.pop("cache"), data["repair"].pop("source_choice")   # keys issue 21 added
    (old / "scenario.yaml").write_text(yaml.safe_dump(data))
    then, now = load_result(old).config, load_result(example).config
    assert (then.reads.replica_choice, then.repair.source_choice) == ("oracle", "oracle")
    assert (then.reads.failure_timeout, then.reads.failure_detection, then.cache.capacity) == (0, 0, 0)
    assert (now.reads.replica_choice, now.repair.source_choice) == ("random", "random")
    assert now.cache.capacity > 0
