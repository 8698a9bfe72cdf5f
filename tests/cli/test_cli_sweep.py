"""`vstack-sim sweep` and `vstack-sim compare`: bad files exit 2 with one line and write nothing; resume after
SIGKILL; the progress bar; the comparison report."""

import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from tests.sweep_builders import write_base, write_sweep
from vstack_sim.cli.main import main
from vstack_sim.experiments.executors import SerialExecutor
from vstack_sim.experiments.sweep_files import load_sweep
from vstack_sim.experiments.sweeps import run_sweep

SWEEP = "base: base.yaml\ngrid:\n  redundancy.policy: [adaptive, erasure_coding]\nreplications: {reps}\n"


def listing(folder: Path) -> list:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("text,key", [
    ("grid: {cluster.nodez: [7]}", "cluster.nodez: unknown key"),
    ("grid: {}", "grid: is empty"),
    ("grid: {cluster.nodes: [7, many]}", "cluster.nodes: Input should be a valid integer"),
    ("zip: {cluster.nodes: [7, 8], cluster.io_slots: [1, 2, 3]}", "zip: lists of unequal length"),
    ("grid: {cluster.nodes: [7]}\nbase: missing.yaml", "base: missing.yaml: scenario file not found"),
])
def test_bad_sweep_files_exit_2_with_one_line_and_write_nothing(tmp_path, monkeypatch, capsys, text, key):
    write_base(tmp_path)
    monkeypatch.chdir(tmp_path)
    body = text if "base:" in text else "base: base.yaml\n" + text
    write_sweep(tmp_path, body + "\n")
    before = listing(tmp_path)
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vstack-sim: error: s.yaml:") and key in err, err
    assert listing(tmp_path) == before


def test_sweep_and_compare_commands(tmp_path, monkeypatch, capsys):
    write_base(tmp_path)
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path, SWEEP.format(reps=2))
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "results: results/s" in out and "p1-policy-erasure_coding (n=2)" in out
    folder = tmp_path / "results" / "s"
    for name in ("runs.csv", "points.csv", "sweep.yaml", "base.yaml", "manifest.json", "report.html"):
        assert (folder / name).is_file(), name
    assert len(list((folder / "runs").iterdir())) == 4
    # the resolved sweep.yaml reruns on its own and gives the same table
    assert main(["sweep", str(folder / "sweep.yaml"), "--workers", "1", "--quiet", "--out", "again"]) == 0
    assert (tmp_path / "again" / "runs.csv").read_bytes() == (folder / "runs.csv").read_bytes()
    capsys.readouterr()
    one = folder / "runs" / "p0-policy-adaptive-r0"
    assert main(["compare", str(folder), str(one), "--out", "cmp"]) == 0
    out = capsys.readouterr().out
    assert "storage savings at the end" in out and "p0-policy-adaptive-r0 (n=1)" in out and "[" in out
    assert {"comparison.csv", "differences.csv", "report.html"} <= set(os.listdir(tmp_path / "cmp"))
    assert main(["compare", str(tmp_path / "nothing")]) == 2


def test_resume_refuses_a_changed_sweep_file_or_base(tmp_path, monkeypatch, capsys):
    write_base(tmp_path)
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path, SWEEP.format(reps=1))
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet", "--out", "o"]) == 0
    capsys.readouterr()
    before = listing(tmp_path / "o")
    write_sweep(tmp_path, SWEEP.format(reps=2))
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet", "--out", "o", "--resume"]) == 2
    assert "sweep file changed" in capsys.readouterr().err
    write_sweep(tmp_path, SWEEP.format(reps=1))
    write_base(tmp_path, run={"duration": "2h", "seed": 5})
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet", "--out", "o", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "base scenario base.yaml changed" in err and err.count("\n") == 1
    assert listing(tmp_path / "o") == before
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet", "--out", "o"]) == 2
    assert "already exists (use --resume" in capsys.readouterr().err


def _sweep_cmd(*args):
    return [sys.executable, "-c", "import sys; from vstack_sim.cli.main import main; sys.exit(main(sys.argv[1:]))",
            *args]


def test_resume_after_sigkill_keeps_finished_runs_and_ends_like_an_uninterrupted_sweep(tmp_path):
    write_base(tmp_path, run={"duration": "6h", "seed": 5})
    path = write_sweep(tmp_path, SWEEP.format(reps=4))
    out = tmp_path / "killed"
    proc = subprocess.Popen(_sweep_cmd("sweep", str(path), "--workers", "1", "--quiet", "--out", str(out)),
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runs = out / "runs"

    def finished_runs():  # a folder being written is a .tmp-* one until its rename
        return {p.parent.name: p.stat().st_ino for p in runs.glob("*/summary.json")
                if not p.parent.name.startswith(".")}

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(finished_runs()) < 2:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = finished_runs()
    assert 2 <= len(finished) < 8 and not (out / "runs.csv").exists()
    done = subprocess.run(_sweep_cmd("sweep", str(path), "--workers", "1", "--quiet", "--out", str(out), "--resume"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = finished_runs()
    assert {name: after[name] for name in finished} == finished  # kept, not rerun
    assert len(after) == 8 and not list(runs.glob(".tmp-*"))
    whole = run_sweep(load_sweep(path), executor=SerialExecutor(), out=tmp_path / "whole", progress=False)
    assert (out / "runs.csv").read_bytes() == (whole.path / "runs.csv").read_bytes()


def test_progress_bar_over_runs_with_eta_on_a_terminal_and_quiet_silences_it(tmp_path):
    write_base(tmp_path)
    path = write_sweep(tmp_path, SWEEP.format(reps=1))

    def stderr_of(*extra):
        master, slave = pty.openpty()
        # a real terminal has a width; a fresh pty has 0 columns, and tqdm would draw nothing
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
        chunks = []
        reader = threading.Thread(target=lambda: _drain(master, chunks), daemon=True)
        reader.start()
        proc = subprocess.run(_sweep_cmd("sweep", str(path), "--workers", "1", *extra), stderr=slave,
                              stdout=subprocess.DEVNULL, cwd=tmp_path, timeout=300)
        os.close(slave)
        reader.join(10)
        assert proc.returncode == 0
        return b"".join(chunks).decode(errors="replace")

    shown = stderr_of("--out", "a")
    assert "2/2 runs" in shown and "ETA" in shown and "sweep s" in shown
    assert stderr_of("--out", "b", "--quiet") == ""


def _drain(fd, chunks):
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            return
        if not data:
            return
        chunks.append(data)


def test_a_shipped_sweep_by_name_with_set_and_replications_opens_its_report_with_the_verdict(tmp_path, capsys):
    # Issue 23: `vstack-sim sweep policies --replications 2 --set run.duration=6h`.
    code = main(["sweep", "policies", "--replications", "2", "--set", "run.duration=6h", "--quiet",
                 "--out", str(tmp_path / "pol")])
    assert code == 0
    md = (tmp_path / "pol" / "report.md").read_text(encoding="utf-8").splitlines()
    assert md[:3] == ["# vstack-sim sweep: policies", "", "## Verdict"]
    assert md[4].startswith("- p1-policy-replication against p0-policy-adaptive: ")
    assert md[5].startswith("- p2-policy-erasure_coding dominates p0-policy-adaptive here: better on storage")
    table = [line for line in md if line.startswith("|")]
    assert table and max(len(line) for line in table) < 120
    resolved = (tmp_path / "pol" / "sweep.yaml").read_text(encoding="utf-8")
    assert "replications: 2" in resolved and "run.duration: 6h" in resolved
    manifest = json.loads((tmp_path / "pol" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete"
    assert '&quot;status&quot;: &quot;complete&quot;' in (tmp_path / "pol" / "report.html").read_text(encoding="utf-8")


def test_a_sweeps_base_may_name_a_shipped_scenario(tmp_path):
    from vstack_sim.experiments.sweep_files import load_sweep

    path = write_sweep(tmp_path, "base: baseline\ngrid:\n  catalog.hot_fraction: [0.05, 0.1]\n")
    spec = load_sweep(path)
    assert spec.base.name == "baseline" and spec.n_points() == 2


def test_compare_and_resume_on_a_damaged_sweep_folder_are_one_line(tmp_path, monkeypatch, capsys):
    write_base(tmp_path)
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path, SWEEP.format(reps=1))
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet", "--out", "o"]) == 0
    capsys.readouterr()
    runs_csv = Path("o") / "runs.csv"   # as given on the command line
    good = runs_csv.read_bytes()

    def one_line(code: int, *fragments: str) -> None:
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        for fragment in fragments:
            assert fragment in err, err

    lines = good.decode().splitlines(keepends=True)
    runs_csv.write_text("".join(line.split(",", 1)[1] for line in lines))        # no point column
    one_line(main(["compare", "o"]), str(runs_csv), "point")
    runs_csv.write_bytes(b"")
    one_line(main(["compare", "o"]), str(runs_csv))
    runs_csv.write_bytes(lines[0].encode())                                        # the header, no runs
    one_line(main(["compare", "o"]), str(runs_csv), "no runs")
    runs_csv.write_bytes(b'point,replication\n"a,1\n\x00\xff\xfe')
    one_line(main(["compare", "o"]), str(runs_csv))
    runs_csv.write_bytes(good)

    summary = Path("o") / "runs" / "p0-policy-adaptive-r0" / "summary.json"
    summary.write_text(summary.read_text()[:40])
    one_line(main(["sweep", "s.yaml", "--workers", "1", "--quiet", "--out", "o", "--resume"]), str(summary),
             "broken JSON", "--resume again")
    import shutil

    shutil.rmtree(summary.parent)   # as the message says: that run is run again
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet", "--out", "o", "--resume"]) == 0
    assert runs_csv.read_bytes() == good


STOP = "run: {stop_at_first_loss: true, duration: 36500000d}"


@pytest.mark.parametrize("sets,grid,key", [
    # a point with stop_at_first_loss, 100,000 years and no possible end ran until killed
    (STOP, "failures.node_mttf: [3h, 0]", "run.stop_at_first_loss: no failure source"),
    # 1000 views/s for 10,000 days ran until killed
    ("run: {duration: 10000d}\n  outputs: {timeline_interval: 1d}", "workload.view_rate: [0, 1000/s]",
     "workload.view_rate:"),
    # 33,000 replicas ended in an int16 OverflowError traceback
    ("redundancy: {policy: replication}\n  cluster: {racks: 1}",
     "redundancy.replication_factor: [3, 33000]\n  cluster.nodes: [7, 33000]",
     "redundancy.replication_factor: 33,000 slots"),
    # 200 M videos allocated for 43 s, then exit 1 (without failures, so the chunk state is the biggest part:
    # with the base's 3 h MTTF the repairs table would be, and the refusal names failures.node_mttf)
    ("cluster: {node_capacity: 100TB}\n  failures: {node_mttf: 0}", "catalog.videos: [12, 200000000]",
     "catalog.videos:"),
])
def test_sweep_refuses_a_point_run_would_refuse_before_any_run(tmp_path, monkeypatch, capsys, sets, grid, key):
    write_base(tmp_path)
    monkeypatch.chdir(tmp_path)
    axis = "zip" if "\n" in grid else "grid"
    write_sweep(tmp_path, f"base: base.yaml\nset:\n  {sets}\n{axis}:\n  {grid}\n")
    before = listing(tmp_path)
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet", "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vstack-sim: error: point p1-") and key in err, err
    assert listing(tmp_path) == before


def test_require_names_the_cheapest_point_meeting_the_constraints_in_sweep_and_compare(tmp_path, monkeypatch, capsys):
    write_base(tmp_path)
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path, SWEEP.format(reps=2))
    loose = ["--require", "reads.latency_ms.all.p99<=100000", "--require", "storage_mean_savings_percent >= -1"]
    assert main(["sweep", "s.yaml", "--workers", "1", "--quiet", "--out", "o", *loose]) == 0
    out = capsys.readouterr().out
    said = [line for line in out.splitlines() if line.startswith("The cheapest option with ")]
    assert len(said) == 1 and said[0].startswith(
        "The cheapest option with reads.latency_ms.all.p99 <= 100000 and storage_mean_savings_percent >= -1: p")
    assert " at $" in said[0]
    assert said[0] in (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
    assert "The cheapest option with " in (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    # an existing sweep folder answers through compare, without running it again
    assert main(["compare", "o", "--require", "storage_mean_savings_percent>=1000", "--out", "c"]) == 0
    out = capsys.readouterr().out
    assert "No option meets storage_mean_savings_percent >= 1000 (closest: " in out
    assert "No option meets" in (tmp_path / "c" / "report.html").read_text(encoding="utf-8")
    # a bad constraint, or a metric no option has: exit 2, one line naming --require, nothing written
    before = listing(tmp_path)
    for bad, key in ((["sweep", "s.yaml", "--require", "p99<60"], "--require: bad constraint 'p99<60'"),
                     (["compare", "o", "--require", "p99<=sixty"], "'sixty' is not a number"),
                     (["compare", "o", "--require", "reads.p99<=60"], "--require reads.p99 <= 60: no option has")):
        assert main(bad) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("vstack-sim: error: ") and key in err, err
        assert "Traceback" not in err
    assert listing(tmp_path) == before
