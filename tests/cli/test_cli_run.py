"""`vstack-sim run`, `validate`, `report` and `scenario`: folders, overrides, bad input, atomicity, determinism."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from vstack_sim.cli.main import main
from vstack_sim.results import plots
from vstack_sim.scenario.reference import schema_markdown

SMALL = """\
# A small scenario for CLI tests: 40 videos of 10 chunks, half a day, one permanent failure.
name: small
run: {duration: 12h, seed: 7}
catalog: {videos: 40, chunks_per_video: 10}
cluster: {nodes: 8, racks: 4}
workload: {view_rate: 0.02/s}
failures:
  node_mttf: 0
  scheduled:
    - {at: 30min, node: 3, kind: permanent}
"""


@pytest.fixture
def small(tmp_path, monkeypatch) -> Path:
    """A small scenario file, with the working folder set to tmp_path (so results/ lands there)."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, out, err, *fragments):
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vstack-sim: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def folders(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir())


# --------------------------------------------------------------------------- run


def test_run_writes_results_named_after_the_scenario_and_prints_a_summary(small, capsys):
    code, out, err = cli(capsys, "run", small, "--quiet")
    assert code == 0, err
    folder = small.parent / "results" / "small"
    assert (folder / "report.html").is_file() and (folder / "tables" / "reads.csv").is_file()
    summary = json.loads((folder / "summary.json").read_text())
    assert out.splitlines()[-1] == "results: results/small"
    assert f"{summary['storage_initial']['storage_savings_percent']:.2f} %" in out
    assert "recovery time" in out and "chunks lost" in out and "migrations" in out
    assert summary["recovery"]["node_failures"] == 1
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["command"] == f"vstack-sim run {small} --quiet"
    assert err == ""


def test_running_twice_takes_the_next_free_name(small, capsys):
    assert cli(capsys, "run", small, "--quiet", "--set", "run.duration=1h")[0] == 0
    code, out, err = cli(capsys, "run", small, "--quiet", "--set", "run.duration=1h")
    assert code == 0
    assert err == "vstack-sim: results/small exists; writing results/small-1\n"
    assert folders(small.parent / "results") == ["small", "small-1"]


def test_run_set_and_seed_reach_the_resolved_scenario(small, capsys):
    code, _, err = cli(capsys, "run", small, "--quiet", "--out", "o", "--seed", "11",
                       "--set", "run.duration=2h", "--set", "name=renamed")
    assert code == 0, err
    resolved = yaml.safe_load((small.parent / "o" / "scenario.yaml").read_text())
    assert (resolved["name"], resolved["run"]["seed"], resolved["run"]["duration"]) == ("renamed", 11, 7200.0)


def test_explicit_out_exists_needs_force(small, capsys):
    (small.parent / "o").mkdir()
    (small.parent / "o" / "summary.json").write_text("{}")
    assert_one_line_error(*cli(capsys, "run", small, "--quiet", "--out", "o", "--set", "run.duration=1h"),
                          "o: already exists (use --force to replace it)")
    assert (small.parent / "o" / "summary.json").read_text() == "{}"
    # a folder that merely looks like results is not replaced even with --force
    assert_one_line_error(*cli(capsys, "run", small, "--quiet", "--out", "o", "--force"),
                          "o: exists and is not a results folder")
    assert (small.parent / "o" / "summary.json").read_text() == "{}"
    (small.parent / "o" / "summary.json").unlink()
    for duration in ("2h", "1h"):  # a real results folder is
        code, _, err = cli(capsys, "run", small, "--quiet", "--out", "o", "--force",
                           "--set", f"run.duration={duration}")
        assert code == 0, err
    assert json.loads((small.parent / "o" / "summary.json").read_text())["run"]["duration_s"] == 3600.0
    assert sorted(p.name for p in small.parent.iterdir()) == ["o", "small.yaml"]


def test_run_without_scenario_uses_the_embedded_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "run", "--quiet", "--set", "run.duration=10min", "--set", "catalog.videos=20")
    assert code == 0, err
    assert folders(tmp_path / "results") == ["default"]


def test_progress_bar_only_on_a_terminal_and_not_with_quiet(small, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for quiet, expect_bar in ((False, True), (True, False)):
        stream = Terminal()
        monkeypatch.setattr(sys, "stderr", stream)
        args = ["run", str(small), "--set", "run.duration=2h", "--out", f"bar-{quiet}"] + (["--quiet"] if quiet else [])
        assert main(args) == 0
        assert ("simulated days" in stream.getvalue()) is expect_bar
        assert ("ETA]" in stream.getvalue()) is expect_bar     # the bar says how long is left (issue 23)


# --------------------------------------------------------------------------- bad input: exit 2, one line, no folder

BAD_FILES = {
    "malformed YAML": ("cluster:\n  nodes: [8\n", "malformed YAML"),
    "unknown key": ("cluster:\n  nodez: 8\n", "bad.yaml:2: cluster.nodez: unknown key (did you mean 'nodes'?)"),
    "wrong type": ("cluster:\n  nodes: eight\n", "bad.yaml:2: cluster.nodes: Input should be a valid integer"),
    "bad unit": ("cluster:\n  disk_bandwidth: 2MB/x\n", "bad.yaml:2: cluster.disk_bandwidth: not a byte rate"),
    "negative count": ("catalog:\n  videos: -5\n", "bad.yaml:2: catalog.videos: Input should be greater than"),
    "negative rate": ("workload:\n  view_rate: -1/s\n", "bad.yaml:2: workload.view_rate: must not be negative"),
    "stripe too wide": ("cluster:\n  nodes: 4\n  racks: 2\n", "bad.yaml:2: redundancy.data_shards: RS(3,2) needs 5"),
    "replicas too many": ("cluster: {nodes: 2, racks: 1}\nredundancy: {policy: replication}\n",
                          "redundancy.replication_factor: 3 replicas need 3 distinct nodes"),
    "racks > nodes": ("cluster:\n  nodes: 6\n  racks: 9\n", "bad.yaml:3: cluster.racks: 9 racks but only 6 nodes"),
    "cache below a chunk": ("cache:\n  capacity: 1MiB\n", "cache.capacity: 1,048,576 bytes hold no whole chunk"),
    "unsafe name": ("name: ../up\n", "bad.yaml:1: name: '../up' is not a safe folder name"),
    "extends cycle": ("extends: bad.yaml\n", "extends cycle"),
    "missing base": ("extends: nowhere.yaml\n", "bad.yaml:1: extends: nowhere.yaml: scenario file not found"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_scenario_files_exit_2_with_one_line_and_no_folder(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    text, fragment = BAD_FILES[case]
    (tmp_path / "bad.yaml").write_text(text)
    for command in ("run", "validate"):
        code, out, err = cli(capsys, command, "bad.yaml")
        assert_one_line_error(code, out, err, fragment)
        assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


@pytest.mark.parametrize("argv, fragment", [
    (["run", "missing.yaml"], "missing.yaml: scenario file not found"),
    (["run", "--set", "cluster.nodes"], "--set cluster.nodes: expected KEY.PATH=VALUE"),
    (["run", "--set", "cluster.nodes=-1"], "--set cluster.nodes=-1: cluster.nodes: Input should be greater than"),
    (["run", "--set", "catalog.vidoes=10"], "did you mean 'videos'?"),
    (["run", "--seed", "-1"], "--seed: must be a non-negative integer"),
    (["run", "--set", "name=a/b"], "not a safe folder name"),
    (["run", "--set", "name=evil\n"], "--set name: a name may not hold a control character, got '\\n'"),
    (["report", "nowhere"], "nowhere: no such results folder"),
    (["report", "."], "not a results folder"),
    (["validate"], "SCENARIO"),
    (["scenario"], "--schema"),
])
def test_bad_arguments_exit_2_with_one_line_and_no_folder(argv, fragment, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(*cli(capsys, *argv), fragment)
    assert list(tmp_path.iterdir()) == []


def test_bad_input_in_a_subprocess_prints_no_traceback(tmp_path):
    (tmp_path / "bad.yaml").write_text("cluster:\n  nodez: 3\n")
    proc = subprocess.run([sys.executable, "-m", "vstack_sim.cli.main", "run", "bad.yaml"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == "vstack-sim: error: bad.yaml:2: cluster.nodez: unknown key (did you mean 'nodes'?)\n"
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


# --------------------------------------------------------------------------- validate, scenario, report


def test_validate_prints_the_resolved_scenario(small, capsys):
    code, out, err = cli(capsys, "validate", small, "--set", "run.duration=1d")
    assert code == 0 and err == ""
    resolved = yaml.safe_load(out)
    assert resolved["run"] == {"seed": 7, "duration": 86400.0, "stop_at_first_loss": False, "replications": 0,
                               "replication_model": "one_stripe", "estimator": "plain", "failure_bias": None}
    assert resolved["cluster"]["disk_bandwidth"] == 200e6  # the default (hdd) profile's value, filled in
    assert resolved["failures"]["scheduled"][0]["node"] == 3
    assert not (small.parent / "results").exists()


def test_scenario_schema_is_the_docs_page(capsys):
    code, out, _ = cli(capsys, "scenario", "--schema")
    assert code == 0 and out == schema_markdown()


def test_scenario_list_gives_name_duration_and_a_one_line_description(capsys):
    code, out, _ = cli(capsys, "scenario", "--list")
    assert code == 0 and "site-packages" not in out and ".yaml" not in out
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line and not line.startswith("Run")}
    assert {"baseline", "seed", "flash-crowd", "rack-failure", "all-ec", "all-replication"} <= set(rows)
    assert " 14 d " in rows["baseline"] and "Realistic mix" in rows["baseline"]
    assert " 7 d " in rows["seed"] and "V-Stack design" in rows["seed"]


def test_empty_scenario_file_exits_2(tmp_path, capsys):
    (tmp_path / "empty.yaml").write_text("")
    code, out, err = cli(capsys, "validate", str(tmp_path / "empty.yaml"))
    assert code == 2 and "empty scenario file" in err and err.count("\n") == 1


def test_run_comes_first_in_help(capsys):
    code, out, _ = cli(capsys, "--help")
    commands = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and line.split()]
    assert code == 0 and commands[0] == "run"
    assert "seed's" not in out and "demo" in commands


def test_report_rebuilds_figures_and_reports_identically(small, capsys):
    assert cli(capsys, "run", small, "--quiet", "--out", "r", "--set", "run.duration=3h")[0] == 0
    folder = small.parent / "r"
    rebuilt = ["report.html", "report.md"] + [f"figures/{p.name}" for p in (folder / "figures").glob("*.png")]
    before = {name: (folder / name).read_bytes() for name in rebuilt}
    for name in rebuilt:
        (folder / name).unlink()
    code, out, err = cli(capsys, "report", "r")
    assert code == 0, err
    assert out.strip() == "r/report.html"
    assert {name: (folder / name).read_bytes() for name in rebuilt} == before


# --------------------------------------------------------------------------- determinism


def test_same_scenario_and_seed_give_identical_summary_tables_and_figures(small, capsys):
    for out in ("a", "b"):
        assert cli(capsys, "run", small, "--quiet", "--out", out)[0] == 0
    a, b = small.parent / "a", small.parent / "b"
    names = ["summary.json", "scenario.yaml"] + [f"tables/{p.name}" for p in (a / "tables").glob("*.csv")] \
        + [f"figures/{p.name}" for p in (a / "figures").glob("*.png")]
    from vstack_sim.results.plots.relevance import left_out
    from vstack_sim.results.store import load_result

    drawn = [n for n in plots.FIGURES if not left_out(n, load_result(a))]   # a figure with nothing to show is left out
    assert sorted(names[-len(drawn):]) == sorted(f"figures/{n}.png" for n in drawn) and len(drawn) >= 9
    assert len(names) == 2 + 9 + len(drawn)
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (a, b))
    assert ma["config_sha256"] == mb["config_sha256"]


def test_a_different_seed_changes_the_tables(small, capsys):
    assert cli(capsys, "run", small, "--quiet", "--out", "a", "--set", "run.duration=3h")[0] == 0
    assert cli(capsys, "run", small, "--quiet", "--out", "b", "--set", "run.duration=3h", "--seed", "8")[0] == 0
    reads = [(small.parent / d / "tables" / "reads.csv").read_bytes() for d in ("a", "b")]
    assert reads[0] != reads[1]


# --------------------------------------------------------------------------- atomicity of a real run


def _default_sigint() -> None:
    """A shell's background job starts with SIGINT ignored, and Python then never raises
    KeyboardInterrupt; give the child the default disposition, as a terminal would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_run(cwd: Path, *extra) -> subprocess.Popen:
    """A long real run; returns once its temporary folder exists (the simulation is under way)."""
    proc = subprocess.Popen([sys.executable, "-m", "vstack_sim.cli.main", "run", "small.yaml", "--quiet",
                             "--set", "run.duration=3650d", "--set", "workload.view_rate=1/s", "--allow-huge", *extra],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    results = cwd / "results"
    while not (results.is_dir() and any(p.name.startswith(".tmp-") for p in results.iterdir())):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    return proc


def test_sigint_midway_leaves_no_results_folder(small):
    proc = _start_run(small.parent)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err == "vstack-sim: error: interrupted\n"
    assert not (small.parent / "results").exists()  # nor the results/ folder the run made


def test_sigkill_leftover_is_cleaned_by_the_next_run(small, capsys):
    proc = _start_run(small.parent)
    proc.kill()
    proc.wait(timeout=60)
    results = small.parent / "results"
    assert [p.name[:5] for p in results.iterdir()] == [".tmp-"]
    assert cli(capsys, "run", small, "--quiet", "--set", "run.duration=1h")[0] == 0
    assert [p.name for p in results.iterdir()] == ["small"]



def test_validate_shows_the_units_the_user_wrote_beside_base_units(tmp_path, capsys):
    path = tmp_path / "u.yaml"
    path.write_text("run:\n  duration: 7d\ncatalog:\n  chunk_size: 2MiB\n"
                    "failures:\n  scheduled:\n    - {at: 3d, node: 2, kind: transient, duration: 6h}\n")
    code, out, err = cli(capsys, "validate", path, "--set", "cluster.disk_bandwidth=100MB/s")
    assert code == 0, err
    assert "duration: 604800.0  # 7d" in out and "chunk_size: 2097152  # 2MiB" in out
    assert "disk_bandwidth: 100000000.0  # 100MB/s" in out and "at: 259200.0  # 3d" in out
    from vstack_sim.scenario.files import load_scenario

    again = tmp_path / "again.yaml"
    again.write_text(out)
    assert load_scenario(again) == load_scenario(path, ["cluster.disk_bandwidth=100MB/s"])


# --------------------------------------------------------------------------- OS errors, pipes, same checks


@pytest.mark.parametrize("out, fragment", [
    (".", ".: is the working folder"),
    ("/proc/x", "/proc/x: cannot create the results folder"),
    ("small.yaml/out", "small.yaml/out: small.yaml is not a folder"),
    ("o" * 300, "longer than 255 bytes"),
])
def test_out_that_cannot_be_a_folder_is_one_line_and_leaves_nothing(small, capsys, out, fragment):
    assert_one_line_error(*cli(capsys, "run", small, "--quiet", "--force", "--out", out, "--set", "run.duration=1h"),
                          fragment)
    assert sorted(p.name for p in small.parent.iterdir()) == ["small.yaml"]


def test_report_of_broken_folders_is_one_line_naming_the_path(small, capsys):
    assert cli(capsys, "run", small, "--quiet", "--out", "r", "--set", "run.duration=1h")[0] == 0
    folder = small.parent / "r"
    good = (folder / "summary.json").read_bytes()
    for content, fragment in ((b"", "r/summary.json: broken JSON"), (b"[]", "r/summary.json: expected a JSON object"),
                              (b"\x89PNG\x00\xff", "r/summary.json: not a text file"),
                              (b'{"run": {}}', "r/summary.json: not a run's summary")):
        (folder / "summary.json").write_bytes(content)
        assert_one_line_error(*cli(capsys, "report", "r"), fragment)
    (folder / "summary.json").write_bytes(good)
    (folder / "tables" / "storage_timeline.csv").write_bytes(b"\x00\xff\xfe" * 100)
    assert_one_line_error(*cli(capsys, "report", "r"), "r")
    cli(capsys, "run", small, "--quiet", "--out", "r", "--force", "--set", "run.duration=1h")
    import shutil

    shutil.rmtree(folder / "figures")
    (folder / "figures").write_text("a file")
    assert_one_line_error(*cli(capsys, "report", "r"), "r/figures: is not a folder")


def test_run_into_a_closed_pipe_exits_quietly_with_the_folder_complete(small):
    proc = subprocess.Popen([sys.executable, "-m", "vstack_sim.cli.main", "run", "small.yaml", "--quiet", "--out", "o",
                             "--set", "run.duration=1h"], cwd=small.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` that has already gone
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and err == b""
    from vstack_sim.results.folders import is_results_folder

    assert is_results_folder(small.parent / "o") and (small.parent / "o" / "report.html").is_file()


@pytest.mark.parametrize("sets, fragment", [
    (["run.stop_at_first_loss=true", "failures.node_mttf=0", "failures.scheduled=[]"], "no loss can end the run"),
    (["codec.verify_payloads=true", "catalog.chunk_size=2MiB", "catalog.videos=200", "catalog.chunks_per_video=1",
      "catalog.chunk_count_distribution=lognormal", "catalog.chunk_count_sigma=2.5"], "codec.verify_payloads"),
    (["outputs.timeline_interval=1us", "run.duration=365d"], "--allow-huge"),
])
def test_validate_refuses_what_run_refuses(small, capsys, sets, fragment):
    args = [a for s in sets for a in ("--set", s)]
    v = cli(capsys, "validate", small, *args)
    r = cli(capsys, "run", small, "--quiet", *args)
    assert_one_line_error(*v, fragment)
    assert v == r
    assert sorted(p.name for p in small.parent.iterdir()) == ["small.yaml"]


def test_a_full_disk_exits_1_with_one_line_naming_the_folder(small, capsys, monkeypatch):
    import errno

    from vstack_sim.results import runner

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "results/.tmp-small-1-ab/tables/reads.csv")

    monkeypatch.setattr(runner, "write_data", full)
    code, out, err = cli(capsys, "run", small, "--quiet", "--out", "o", "--set", "run.duration=1h")
    assert code == 1 and out == ""
    assert err == "vstack-sim: error: o: cannot write the results folder: No space left on device\n"
    assert sorted(p.name for p in small.parent.iterdir()) == ["small.yaml"]


def test_a_scheduled_event_after_the_end_of_the_run_is_a_warning_line(capsys):
    # Issue 23: flash-crowd shortened to one day runs no flash crowd; the user hears it at once.
    assert main(["validate", "flash-crowd", "--set", "run.duration=1d"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["vstack-sim: warning: a flash crowd on video 400 at 1.00 d is at or after run.duration "
                   "(86400 s), so it never happens"]
    assert main(["validate", "flash-crowd"]) == 0
    assert capsys.readouterr().err == ""


OVERFLOW_SCENARIO = ("name: csvp\nrun: {duration: 1h, seed: 3}\ncatalog: {source: v.csv, chunk_size: 1MiB}\n"
                     "cluster: {nodes: 8, racks: 4}\nworkload: {view_rate: 0.05/s}\nfailures: {node_mttf: 0}\n")


@pytest.mark.parametrize("rows, fragment", [
    # Issue 19's reproductions: an int64 sum of the chunks wrapped (a segfault; "negative dimensions are not
    # allowed"), and views wrapped to give an unviewed video 51 views. Each is now refused at its line.
    ("a,1,9223372036854775807\nb,1,9223372036854775807\nc,1,4\n", "v.csv line 2, column chunks"),
    ("a,1,4611686018427387904\nb,1,4611686018427387904\nc,1,4611686018427387904\n", "v.csv line 2, column chunks"),
    ("a,4611686018427387904,1\nb,4611686018427387904,1\nc,4611686018427387904,1\nd,5,1\n",
     "v.csv line 2, column views"),
])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_overflowing_counts_in_a_videos_file_exit_2_naming_the_line(tmp_path, monkeypatch, capsys, rows, fragment,
                                                                     command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.csv").write_text("video_id,views,chunks\n" + rows)
    (tmp_path / "c.yaml").write_text(OVERFLOW_SCENARIO)
    argv = [command, "c.yaml"] + (["--out", "o", "--quiet"] if command == "run" else [])
    code, out, err = cli(capsys, *argv)
    assert_one_line_error(code, out, err, "catalog.source:", fragment, "is over the limit")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "v.csv"]
