"""Videos named by key or id: redundancy.overrides, workload.flash_crowds[].video, workload.scheduled_views[].video."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from pydantic import ValidationError

from tests.builders import config
from vstack_sim.cli.main import main
from vstack_sim.model.world import World
from vstack_sim.scenario.catalog_source import load_videos_csv
from vstack_sim.scenario.files import load_scenario
from vstack_sim.scenario.reading import SCENARIO_DIR, ScenarioError
from vstack_sim.scenario.schema import Config
from vstack_sim.scenario.sections import validation_error_line
from vstack_sim.scenario.video_refs import check_video_refs, resolve_video_refs

ZIPF = {"catalog": {"videos": 100}}


def crowd(video) -> dict:
    return {"video": video, "start": 0, "duration": 60, "view_rate": 1}


def error(data: dict) -> str:
    with pytest.raises(ValidationError) as exc:
        Config.model_validate(data)
    return validation_error_line(exc.value)


def zipf_keys(n: int = 100, uploads: tuple[str, ...] = ()) -> np.ndarray:
    return np.array([str(i) for i in range(n)] + list(uploads), dtype=object)


# --------------------------------------------------------------------------- the Zipf catalog: keys are the ids' text

def test_an_int_is_the_id_and_digit_text_is_the_same_video():
    cfg = config(ZIPF, {"redundancy": {"overrides": {5: "replication", "7": "erasure_coding"}},
                        "workload": {"flash_crowds": [crowd(3), crowd("4")],
                                     "scheduled_views": [{"at": 1, "video": "0"}]}})
    assert cfg.redundancy.overrides == {5: "replication", "7": "erasure_coding"}   # as written
    assert check_video_refs(cfg) == []
    ids = resolve_video_refs(cfg, zipf_keys())
    assert ids.overrides == {5: "replication", 7: "erasure_coding"}
    assert ids.flash_crowds == (3, 4) and ids.scheduled_views == (0,)
    assert ids.by_path(cfg) == {"redundancy.overrides.5": 5, "redundancy.overrides.7": 7,
                                "workload.flash_crowds.0.video": 3, "workload.flash_crowds.1.video": 4,
                                "workload.scheduled_views.0.video": 0}


@pytest.mark.parametrize("data, message", [
    ({"workload": {"flash_crowds": [crowd(100)]}}, "workload.flash_crowds.0.video: video 100 does not exist (100 "
                                                   "videos)"),
    ({"workload": {"scheduled_views": [{"at": 1, "video": "250"}]}},
     "workload.scheduled_views.0.video: video 250 does not exist (100 videos)"),
    ({"redundancy": {"overrides": {100: "replication"}}},
     "redundancy.overrides.100: video 100 does not exist (100 videos)"),
    ({"redundancy": {"overrides": {-1: "replication"}}}, "redundancy.overrides.-1: a video id must be >= 0, got -1"),
    ({"redundancy": {"overrides": {" ": "replication"}}}, "redundancy.overrides. : empty video key"),
    ({"workload": {"flash_crowds": [crowd(2.5)]}}, "workload.flash_crowds.0.video: expected a video id (an integer) "
                                                   "or key (text), got 2.5"),
    ({"workload": {"flash_crowds": [crowd("a\nb")]}}, "workload.flash_crowds.0.video: the video key 'a\\nb' holds a "
                                                      "control character; keys are printable text"),
    # One video, two overrides: 5 and "5" are the same video of a Zipf catalog.
    ({"redundancy": {"overrides": {5: "replication", "5": "erasure_coding"}}},
     "redundancy.overrides.5: '5' is video 5, and so is 5; give each video one override"),
])
def test_bad_references_name_the_key_path(data, message):
    assert error({**ZIPF, **data}) == message


def test_a_key_unknown_when_read_is_resolved_by_the_world():
    # "upload-3" is not a video of the starting catalog: it may be uploaded during the run.
    cfg = config(ZIPF, {"redundancy": {"overrides": {"upload-3": "replication"}},
                        "workload": {"flash_crowds": [crowd("abc")]}})
    assert check_video_refs(cfg) == ["redundancy.overrides.upload-3", "workload.flash_crowds.0.video"]
    ids = resolve_video_refs(cfg, lambda: zipf_keys(uploads=("abc", "upload-3")))
    assert ids.overrides == {101: "replication"} and ids.flash_crowds == (100,)
    with pytest.raises(ValueError, match=r"^workload\.flash_crowds\.0\.video: no video 'abc' in the catalog$"):
        resolve_video_refs(cfg, zipf_keys(uploads=("upload-3",)))


def test_keys_are_only_read_when_a_key_is_looked_up():
    cfg = config(ZIPF, {"redundancy": {"overrides": {5: "replication"}}})
    assert resolve_video_refs(cfg, lambda: pytest.fail("keys read")).overrides == {5: "replication"}


def test_set_names_an_override_by_key_or_id():
    cfg = load_scenario(None, ["catalog.videos=100", "redundancy.overrides.abc=replication",
                               "redundancy.overrides.7=erasure_coding"])
    assert cfg.redundancy.overrides == {"abc": "replication", "7": "erasure_coding"}
    assert resolve_video_refs(cfg, zipf_keys(uploads=("abc",))).overrides == {100: "replication", 7: "erasure_coding"}


def test_the_cli_refuses_a_missing_video_in_one_line(capsys):
    assert main(["validate", "default", "--set", "catalog.videos=100",
                 "--set", "redundancy.overrides.100=replication"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "redundancy.overrides.100: video 100 does not exist (100 videos)" in err


# --------------------------------------------------------------------------- a catalog.source: the file's keys

# Ids: 0 'a', 1 'b', 2 '2' (keyed as its own id), 3 '0' (keyed as another row's id), 4 'x y'.
CSV = "video_id,views,chunks\na,5,1\nb,4,1\n2,3,1\n0,2,1\nx y,1,1\n"


@pytest.fixture
def source(tmp_path) -> dict:
    path = tmp_path / "videos.csv"
    path.write_text(CSV)
    return {"catalog": {"source": str(path), "chunk_size": 1000}, "cluster": {"nodes": 6, "racks": 3}}


@pytest.mark.parametrize("ref, vid", [
    ("x y", 4),   # a key
    ("0", 3),     # text of digits is the key when a video has it...
    ("4", 4),     # ...and the id when none has
    (2, 2),       # an int is the id; video 2 is keyed "2" itself: no ambiguity
    (1, 1),
])
def test_source_keys_and_ids(source, ref, vid):
    cfg = config(source, {"redundancy": {"overrides": {ref: "replication"}},
                          "workload": {"flash_crowds": [crowd(ref)], "scheduled_views": [{"at": 1, "video": ref}]}})
    assert check_video_refs(cfg) == []
    ids = resolve_video_refs(cfg, load_videos_csv(source["catalog"]["source"]).keys)
    assert ids.overrides == {vid: "replication"} and ids.flash_crowds == (vid,) and ids.scheduled_views == (vid,)


@pytest.mark.parametrize("data, message", [
    # 0 is video 0 ('a') by id, but the file keys video 3 as "0": refused, whichever was meant.
    ({"workload": {"flash_crowds": [crowd(0)]}},
     "workload.flash_crowds.0.video: 0 is ambiguous: video 0 (keyed 'a') or the video keyed '0' (video 3); name it "
     "by its key, quoted: 'a' or '0'"),
    ({"redundancy": {"overrides": {5: "replication"}}}, "redundancy.overrides.5: video 5 does not exist (5 videos)"),
    ({"redundancy": {"overrides": {"0": "replication", 3: "erasure_coding"}}},
     "redundancy.overrides.3: 3 is video 3, and so is '0'; give each video one override"),
])
def test_source_ambiguous_missing_and_twice(source, data, message):
    assert error({**source, **data}) == message


def test_source_key_not_in_the_file_is_left_to_the_world(source):
    cfg = config(source, {"workload": {"flash_crowds": [crowd("abc")]}})
    assert check_video_refs(cfg) == ["workload.flash_crowds.0.video"]
    keys = load_videos_csv(source["catalog"]["source"]).keys
    with pytest.raises(ValueError, match=r"^workload\.flash_crowds\.0\.video: no video 'abc' in the catalog$"):
        resolve_video_refs(cfg, keys)
    assert resolve_video_refs(cfg, np.append(keys, "abc")).flash_crowds == (5,)


# --------------------------------------------------------------------------- the shipped own-catalog, by key

KEY = "Hh5dMoGpzn5"   # row 1 of scenarios/examples/videos.csv: 6 views, erasure coded at ingest


def own_catalog(*sets: str):
    return load_scenario(SCENARIO_DIR / "own-catalog.yaml", ["run.duration=1h", "workload.view_rate=0",
                                                              "failures.node_mttf=0", *sets])


def test_own_catalog_resolves_keys_against_the_built_catalog():
    cfg = own_catalog(f"redundancy.overrides.{KEY}=replication", f"workload.scheduled_views=[{{at: 60, video: {KEY}}}]")
    world = World(cfg)   # the catalog as a run builds it
    ids = resolve_video_refs(cfg, world.catalog.keys)
    assert ids.overrides == {1: "replication"} and ids.scheduled_views == (1,)
    assert world.catalog.keys()[1] == KEY and world.catalog.starting_views[1] == 6


def test_own_catalog_run_with_an_override_a_crowd_and_a_view_by_key(tmp_path):
    from vstack_sim.results.runner import run_to_folder

    cfg = own_catalog(f"redundancy.overrides.{KEY}=replication", "migration.check_interval=0",
                      f"workload.flash_crowds=[{{video: {KEY}, start: 10min, duration: 10min, view_rate: 0.05}}]",
                      f"workload.scheduled_views=[{{at: 5min, video: {KEY}}}]", "outputs.figures=false")
    folder = run_to_folder(cfg, out=tmp_path / "run", quiet=True)
    conn = sqlite3.connect(folder / "catalog.sqlite")
    modes = {m for (m,) in conn.execute("SELECT redundancy_mode FROM chunks WHERE video_id = ?", (KEY,))}
    assert modes == {"replication"}
    (views,) = conn.execute("SELECT view_count FROM video_stats WHERE video_id = ?", (KEY,)).fetchone()
    assert views > 6 + 1   # its starting views, the scheduled view and the crowd's (about 30)


def test_own_catalog_missing_video_through_the_cli_is_one_line(capsys):
    code = main(["validate", str(SCENARIO_DIR / "own-catalog.yaml"), "--set",
                 "workload.scheduled_views=[{at: 1, video: 300}]"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.endswith("workload.scheduled_views.0.video: video 300 does not exist (300 videos)\n"), err


def test_load_scenario_errors_name_the_set(source):
    with pytest.raises(ScenarioError, match=r"--set workload.flash_crowds.0.video=0: workload.flash_crowds.0.video: "
                                            r"0 is ambiguous"):
        load_scenario(None, ["catalog.source=" + source["catalog"]["source"], "catalog.chunk_size=1000",
                             "cluster.nodes=6", "cluster.racks=3", "workload.view_rate=0",
                             "workload.flash_crowds=[{video: 1, start: 0, duration: 60, view_rate: 1}]",
                             "workload.flash_crowds.0.video=0"])


def test_validate_refuses_a_key_no_video_has_in_one_line(capsys):
    # Not in the starting catalog, so left to the world; validate builds it and the world refuses it.
    code = main(["validate", "default", "--set", "workload.flash_crowds=[{video: nope, start: 0, duration: 60, "
                                                 "view_rate: 1}]"])
    err = capsys.readouterr().err
    assert code == 2 and err == "vstack-sim: error: workload.flash_crowds.0.video: no video 'nope' in the catalog\n"
