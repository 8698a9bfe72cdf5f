"""`vstack-sim serve` as a real process on a real port, talked to with httpx."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.builders import config
from vstack_sim.results.runner import run_to_folder
from vstack_sim.system.manager import RedundancyManager

START_TIMEOUT = 60.0


class Server:
    """``vstack-sim serve FOLDER --port 0`` in a subprocess; ``url`` once it answers."""

    def __init__(self, folder: Path, *args: str, env: dict | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vstack_sim.cli.main", "serve", str(folder), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})}, start_new_session=True)
        self.lines: queue.Queue = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = self._wait_for_url()
        self.client = httpx.Client(base_url=self.url, timeout=10.0)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if self.client.get("/openapi.json").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.05)

    def _pump(self):
        for line in self.proc.stderr:
            self.err.append(line)
            self.lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, f"server exited: {''.join(self.err)}"
                continue
            if " on http://" in line:
                return line.split(" on ", 1)[1].split()[0]
        raise AssertionError(f"no listening line: {''.join(self.err)}")

    def stop(self) -> int:
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    cfg = config({"run": {"duration": "6h", "seed": 5},
                  "catalog": {"videos": 60, "chunks_per_video": 2, "chunk_size": 4096, "hot_fraction": 0.1},
                  "cluster": {"nodes": 6, "racks": 3}, "workload": {"view_rate": 0.01}})
    return run_to_folder(cfg, out=tmp_path_factory.mktemp("serve") / "run", quiet=True)


@pytest.fixture
def fresh(folder, tmp_path) -> Path:
    """A copy of the run folder, so each test starts with no serve state."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    return copy


@pytest.fixture
def server(fresh):
    s = Server(fresh)
    yield s
    if s.proc.poll() is None:
        s.stop()


def views(folder: Path) -> dict[str, int]:
    conn = sqlite3.connect(folder / "catalog.sqlite")
    out = dict(conn.execute("SELECT video_id, view_count FROM video_stats").fetchall())
    conn.close()
    return out


def test_recommend_efficiency_and_overhead(server, fresh):
    c = server.client
    counts = views(fresh)
    hot = max(counts, key=counts.get)
    cold = min(counts, key=counts.get)
    r = c.get(f"/redundancy/recommend/{hot}")
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["video_id", "view_count", "recommended_mode", "config"]
    assert body["video_id"] == hot and body["view_count"] == counts[hot] > 1000
    assert body["recommended_mode"] == "replication"
    cold_body = c.get(f"/redundancy/recommend/{cold}").json()
    assert cold_body["recommended_mode"] == "erasure_coding"
    assert cold_body["config"] == {"mode": "erasure_coding", "data_shards": 3, "parity_shards": 2,
                                   "total_shards": 5, "min_shards_for_recovery": 3}
    eff = c.get("/redundancy/efficiency").json()
    expected = RedundancyManager(popularity_threshold=1000, chunk_size=4096).efficiency()
    assert {k: eff[k] for k in ("efficiency", "mode_comparison")} == expected
    assert eff["popularity_threshold"] == {"value": 1000, "source": "run (redundancy.popularity_threshold)"}
    summary = json.loads((fresh / "summary.json").read_text())
    assert c.get("/storage/overhead").json() == summary["storage"]
    assert c.get("/openapi.json").json()["paths"].keys() >= {
        "/redundancy/recommend/{video_id}", "/redundancy/override/{video_id}", "/redundancy/efficiency",
        "/storage/overhead"}


def test_errors_are_json_and_name_the_parameter(server):
    c = server.client
    for method, path in (("GET", "/redundancy/recommend/nope"), ("POST", "/redundancy/override/nope?mode=replication"),
                         ("DELETE", "/redundancy/override/nope")):
        r = c.request(method, path)
        assert r.status_code == 404 and r.headers["content-type"] == "application/json"
        assert r.json()["detail"] == "video_id: no video 'nope' in the catalog"
    r = c.post("/redundancy/override/3?mode=mirrored")
    assert r.status_code == 422 and r.json()["detail"].startswith("mode: ")
    assert "'mirrored'" in r.json()["detail"]
    r = c.post("/redundancy/override/3")
    assert r.status_code == 422 and r.json()["detail"] == "mode: Field required"
    assert c.get("/no/such/endpoint").status_code == 404


def test_docs_work_offline(server):
    c = server.client
    page = c.get("/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text     # nothing from a CDN
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        r = c.get(asset)
        assert r.status_code == 200 and len(r.content) > 10_000


def test_override_survives_a_restart_and_sigterm_is_clean(fresh):
    s = Server(fresh)
    r = s.client.post("/redundancy/override/7?mode=replication")
    assert r.json() == {"status": "ok", "video_id": "7", "override_mode": "replication",
                        "message": "Manual override set to replication"}
    s.client.post("/redundancy/override/0?mode=erasure_coding")
    assert s.stop() == 0
    assert not (fresh / "serve-state.sqlite-wal").exists()          # checkpointed on a clean shutdown
    s = Server(fresh)
    assert s.client.get("/redundancy/recommend/7").json()["recommended_mode"] == "replication"
    assert s.client.get("/redundancy/recommend/0").json()["recommended_mode"] == "erasure_coding"
    cleared = s.client.delete("/redundancy/override/7").json()
    assert cleared["status"] == "ok" and cleared["override_mode"] is None
    assert s.stop() == 0
    s = Server(fresh)
    assert s.client.get("/redundancy/recommend/7").json()["recommended_mode"] == "erasure_coding"
    assert s.stop() == 0
    conn = sqlite3.connect(fresh / "serve-state.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT video_id, mode FROM overrides").fetchall() == [("0", "erasure_coding")]


def test_popularity_threshold_from_the_environment(fresh):
    counts = views(fresh)
    video = next(v for v, n in counts.items() if 20 < n <= 1000)
    s = Server(fresh, env={"POPULARITY_THRESHOLD": "20"})
    try:
        eff = s.client.get("/redundancy/efficiency").json()
        assert eff["popularity_threshold"] == {"value": 20, "source": "environment (POPULARITY_THRESHOLD)"}
        assert s.client.get(f"/redundancy/recommend/{video}").json()["recommended_mode"] == "replication"
    finally:
        assert s.stop() == 0


def test_eight_threads_of_overrides_and_reads(server, fresh):
    ids = sorted(views(fresh), key=int)[:40]
    owned = [ids[i::8] for i in range(8)]
    last: dict[str, str] = {}
    failures: list = []

    def worker(n: int):
        rng = random.Random(n)
        with httpx.Client(base_url=server.url, timeout=10.0) as c:
            for _ in range(25):
                video = rng.choice(owned[n])
                mode = rng.choice(["replication", "erasure_coding"])
                r = c.post(f"/redundancy/override/{video}", params={"mode": mode})
                if r.status_code != 200 or r.json()["override_mode"] != mode:
                    failures.append(r.text)
                last[video] = mode
                g = c.get(f"/redundancy/recommend/{rng.choice(owned[n])}")
                if g.status_code != 200:
                    failures.append(g.text)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    for video, mode in last.items():
        assert server.client.get(f"/redundancy/recommend/{video}").json()["recommended_mode"] == mode
    assert server.stop() == 0
    conn = sqlite3.connect(fresh / "serve-state.sqlite")
    assert dict(conn.execute("SELECT video_id, mode FROM overrides").fetchall()) == last


def test_folder_without_catalog_exits_2_with_how_to_build_it(fresh):
    (fresh / "catalog.sqlite").unlink()
    proc = subprocess.run([sys.executable, "-m", "vstack_sim.cli.main", "serve", str(fresh), "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"vstack-sim catalog {fresh}" in proc.stderr


def test_binding_every_interface_warns(fresh):
    s = Server(fresh, "--host", "0.0.0.0")
    assert any("warning: --host 0.0.0.0" in line for line in s.err)
    assert s.stop() == 0


def test_string_keys_from_a_videos_file(tmp_path):
    videos = tmp_path / "videos.csv"
    videos.write_text("video_id,views,chunks\nu1Ex-TJi_QB,5000,1\ndir/clip 1,3,2\n")
    cfg = config({"run": {"duration": "1h"}, "catalog": {"source": str(videos), "chunk_size": 3000},
                  "cluster": {"nodes": 6, "racks": 3}})
    folder = run_to_folder(cfg, out=tmp_path / "run", quiet=True)
    s = Server(folder)
    try:
        hot = s.client.get("/redundancy/recommend/u1Ex-TJi_QB").json()
        assert (hot["video_id"], hot["view_count"], hot["recommended_mode"]) == ("u1Ex-TJi_QB", 5000, "replication")
        cold = s.client.get("/redundancy/recommend/dir%2Fclip%201").json()
        assert (cold["video_id"], cold["recommended_mode"]) == ("dir/clip 1", "erasure_coding")
        r = s.client.post("/redundancy/override/dir/clip 1", params={"mode": "replication"})
        assert r.status_code == 200 and r.json()["video_id"] == "dir/clip 1"
        assert s.client.get("/redundancy/recommend/7").status_code == 404     # integer ids are not keys here
        assert s.client.get("/storage/overhead").json()["replication_chunks"] == 1
    finally:
        assert s.stop() == 0


def test_the_service_recommends_with_the_runs_own_policy_and_its_settings(tmp_path):
    # The size policy with a setting of the run's own: a 2-chunk video (8,000 B) is under min_ec_bytes 10,000 and
    # stays replicated with no views; a 3-chunk one (12,000 B) follows the threshold rule (5 views).
    videos = tmp_path / "videos.csv"
    videos.write_text("video_id,views,chunks\nsmall,0,2\nbig,0,3\nhot,9,3\n")
    cfg = config({"run": {"duration": "1h"}, "catalog": {"source": str(videos), "chunk_size": 4000},
                  "cluster": {"nodes": 6, "racks": 3},
                  "redundancy": {"policy": "size", "min_ec_bytes": 10_000, "popularity_threshold": 5}})
    folder = run_to_folder(cfg, out=tmp_path / "run", quiet=True)
    s = Server(folder)
    try:
        modes = {key: s.client.get(f"/redundancy/recommend/{key}").json()["recommended_mode"]
                 for key in ("small", "big", "hot")}
        assert modes == {"small": "replication", "big": "erasure_coding", "hot": "replication"}
    finally:
        assert s.stop() == 0


# -- the results folder a service holds (issue 19, section 3) -------------------------------------------

CLI = [sys.executable, "-m", "vstack_sim.cli.main"]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def one_line(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def overrides(at: Path) -> dict[str, str]:
    conn = sqlite3.connect(at / "serve-state.sqlite")
    try:
        return dict(conn.execute("SELECT video_id, mode FROM overrides").fetchall())
    finally:
        conn.close()


def test_run_force_refuses_a_served_folder_and_acknowledged_writes_stay(fresh, tmp_path):
    scenario = tmp_path / "small.yaml"
    scenario.write_text((fresh / "scenario.yaml").read_text())
    s = Server(fresh)
    try:
        assert s.client.post("/redundancy/override/1?mode=erasure_coding").status_code == 200
        proc = cli("run", str(scenario), "--quiet", "--set", "run.duration=1h", "--out", str(fresh), "--force")
        err = one_line(proc)
        assert str(fresh) in err and "vstack-sim serve" in err
        assert (fresh / "serve-state.sqlite").is_file()
        assert s.client.post("/redundancy/override/2?mode=erasure_coding").status_code == 200
    finally:
        assert s.stop() == 0
    assert overrides(fresh) == {"1": "erasure_coding", "2": "erasure_coding"}
    # With the service stopped, the state file is still not the run's to remove.
    proc = cli("run", str(scenario), "--quiet", "--set", "run.duration=1h", "--out", str(fresh), "--force")
    assert "serve-state.sqlite" in one_line(proc)
    s = Server(fresh)
    try:
        assert s.client.get("/redundancy/recommend/2").json()["recommended_mode"] == "erasure_coding"
    finally:
        assert s.stop() == 0


def test_a_second_service_on_the_same_folder_is_refused(fresh):
    s = Server(fresh)
    try:
        err = one_line(cli("serve", str(fresh), "--port", "0", timeout=60))
        assert "another vstack-sim serve" in err and str(fresh) in err
        assert s.client.post("/redundancy/override/3?mode=replication").status_code == 200
    finally:
        assert s.stop() == 0
    s = Server(fresh)   # the lock goes with the service: the next one starts
    assert s.stop() == 0


def test_a_symlinked_state_file_is_refused_and_never_followed(fresh, tmp_path):
    outside = tmp_path / "outside.sqlite"
    outside.write_bytes(b"")
    (fresh / "serve-state.sqlite").symlink_to(outside)
    err = one_line(cli("serve", str(fresh), "--port", "0", timeout=60))
    assert "serve-state.sqlite" in err and "symbolic link" in err
    assert outside.read_bytes() == b""
    (fresh / "serve-state.sqlite").unlink()
    dangling = tmp_path / "made-by-serve.sqlite"
    (fresh / "serve-state.sqlite").symlink_to(dangling)
    one_line(cli("serve", str(fresh), "--port", "0", timeout=60))
    assert not dangling.exists()


def test_a_port_in_use_or_an_unknown_host_writes_nothing(fresh):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        err = one_line(cli("serve", str(fresh), "--port", port, timeout=60))
        assert f"--port {port}" in err
    assert not (fresh / "serve-state.sqlite").exists()
    err = one_line(cli("serve", str(fresh), "--port", "0", "--host", "no-such-host.invalid", timeout=60))
    assert "--host no-such-host.invalid" in err
    assert sorted(p.name for p in fresh.iterdir() if p.name.startswith((".vstack-sim-serve", "serve-state"))) == []


def _damage(at: Path, *sql: str) -> None:
    conn = sqlite3.connect(at / "catalog.sqlite")
    with conn:
        for statement in sql:
            conn.execute(statement)
    conn.close()


def test_an_empty_catalog_meta_is_one_line_naming_the_catalog(fresh):
    _damage(fresh, "DELETE FROM catalog_meta")
    err = one_line(cli("serve", str(fresh), "--port", "0", timeout=60))
    assert "catalog.sqlite" in err and "catalog_meta" in err and "popularity_threshold" in err
    assert not (fresh / "serve-state.sqlite").exists()


def test_a_dropped_video_stats_is_refused_at_start(fresh):
    _damage(fresh, "DROP TABLE video_stats")
    err = one_line(cli("serve", str(fresh), "--port", "0", timeout=60))
    assert "catalog.sqlite" in err and "video_stats" in err


def test_a_non_integer_threshold_names_the_file_and_the_key(fresh):
    _damage(fresh, "UPDATE catalog_meta SET value = 'lots' WHERE key = 'popularity_threshold'")
    err = one_line(cli("serve", str(fresh), "--port", "0", timeout=60))
    assert "catalog.sqlite" in err and "popularity_threshold" in err and "'lots'" in err


def test_the_root_redirects_to_the_docs_and_each_request_is_one_log_line(folder):
    # Issue 23: GET / was a 404, and the service said nothing per request.
    server = Server(folder)
    try:
        first = server.client.get("/", follow_redirects=False)
        assert first.status_code in (302, 307) and first.headers["location"] == "/docs"
        assert server.client.get("/redundancy/efficiency").status_code == 200
        deadline = time.monotonic() + 10
        while not any("GET /redundancy/efficiency 200" in line for line in server.err):
            assert time.monotonic() < deadline, server.err
            time.sleep(0.05)
        line = next(line for line in server.err if "GET /redundancy/efficiency 200" in line)
        assert line.startswith("vstack-sim: 127.0.0.1 GET /redundancy/efficiency 200 ")
        assert line.rstrip().endswith(" ms")
    finally:
        assert server.stop() == 0
    quiet = Server(folder, "--quiet")
    try:
        assert quiet.client.get("/redundancy/efficiency").status_code == 200
        time.sleep(0.3)
        assert not any("/redundancy/efficiency" in line for line in quiet.err)
    finally:
        assert quiet.stop() == 0
