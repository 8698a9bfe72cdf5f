"""Red-team findings on the living catalog's scenarios (issue 24): each test failed before its fix."""

from __future__ import annotations

from vstack_sim.cli.main import main

SCENARIO = """\
name: dupkeys
run: {seed: 1, duration: 6h}
catalog: {source: videos.csv, chunk_size: 4096}
cluster: {nodes: 10, racks: 5, node_capacity: 1GB}
workload:
  view_rate: 0.001/s
  uploads: {rate: 200/d, chunks_per_video: 2, mean_views: 5}
outputs: {figures: false, catalog: true}
"""


def test_a_source_key_that_an_upload_would_take_is_refused_before_the_run(tmp_path, monkeypatch, capsys):
    # Uploaded videos are keyed upload-<i>. A catalog.source video keyed so made two videos with one key: the run went
    # to its end and then could not write catalog.sqlite (UNIQUE constraint failed), and a reference to the key named
    # whichever came first. Reading the scenario now refuses it, in one line naming the key.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "videos.csv").write_text("video_id,views,chunks\nabc,10,3\nupload-1,5,2\n")
    (tmp_path / "s.yaml").write_text(SCENARIO)
    for command in ("validate", "run"):
        assert main([command, "s.yaml"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert "catalog.source" in err and "'upload-1'" in err and "line 3" in err
    # Without uploads the key is an ordinary one.
    (tmp_path / "s.yaml").write_text(SCENARIO.replace("rate: 200/d", "rate: 0"))
    assert main(["validate", "s.yaml"]) == 0
