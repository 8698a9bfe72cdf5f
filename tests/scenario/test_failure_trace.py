"""failures.trace: a CSV failure log replays exactly like the same failures.scheduled events."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.builders import config, fail
from vstack_sim.model.simulation import simulate
from vstack_sim.scenario.failure_trace import load_trace

BASE = {"run": {"duration": "3d"}, "catalog": {"videos": 10, "chunks_per_video": 3, "chunk_size": 3000},
        "cluster": {"nodes": 8, "racks": 4}}


def test_replay_equals_scheduled_failures(tmp_path):
    log = tmp_path / "events.csv"
    log.write_text("time,node,rack,kind,duration\n6h,3,,transient,20min\n\n1d,,1,transient,2h\n"
                   "172800,7,,permanent,4h\n60h,2,,transient,\n")
    replayed = simulate(config(BASE, {"failures": {"trace": str(log)}}))
    scheduled = simulate(config(BASE, {"failures": {"scheduled": [
        fail("6h", 3, "transient", "20min"), {"at": "1d", "rack": 1, "kind": "transient", "duration": "2h"},
        fail(172800, 7, "permanent", "4h"), fail("60h", 2, "transient")]}}))
    assert len(replayed.failures) == 1 + 2 + 1 + 1                      # a rack of 8 nodes in 4 racks is 2 nodes
    pd.testing.assert_frame_equal(replayed.failures, scheduled.failures)
    assert replayed.summary == scheduled.summary


@pytest.mark.parametrize("text, message", [
    ("", "line 1: the file is empty"),
    ("when,node\n1h,2\n", "line 1: column when: unknown column"),
    ("node,kind\n2,transient\n", "line 1: column time: missing column"),
    ("time,kind\n1h,transient\n", "line 1: column node: missing column"),
    ("time,node,kind\n1h,2,transient\n2h,9,transient\n", "line 3: column node: node 9 does not exist (8 nodes)"),
    ("time,rack\n1h,4\n", "line 2: column rack: rack 4 does not exist (4 racks)"),
    ("time,node,rack\n1h,2,1\n", "line 2: columns node, rack: give exactly one of node or rack"),
    ("time,node,kind\n1h,2,broken\n", "line 2: column kind:"),
    ("time,node\nsoon,2\n", "line 2: column time: not a duration"),
    ("time,node\n1h,two\n", "line 2: column node: must be a non-negative integer, got 'two'"),
    ("time,node,duration\n1h,2,-5\n", "line 2: column duration:"),
    ("time,node\n1h,2,extra\n", "line 2: 3 fields, the header has 2"),
    # Issue 19: '²' passed isdigit() and then broke int(); a huge number is refused, never wrapped.
    ("time,node\n1h,\u00b2\n", "line 2: column node: must be a non-negative integer, got '\u00b2'"),
    ("time,rack\n1h,\u0663\n", "line 2: column rack: must be a non-negative integer"),
    ("time,node\n1h,2\n2h," + "9" * 5000 + "\n", "line 3: column node: must be a non-negative integer, got '9999"),
    ("time,node\n1h,9223372036854775808\n", "line 2: column node: must be at most 2^63 - 1"),
    ("time,node\n1h,2147483648\n", "line 2: column node: node 2147483648 does not exist (8 nodes)"),
    ("time,node\n1h,2\n2h,3\n3h," + "x" * 140_000 + "\n", "line 4: not a readable CSV line: field larger than"),
    # §6: the disk column is bounded by cluster.disks_per_node.
    ("time,node,disk\n1h,2,0\n2h,3,2\n", "line 3: column disk: disk 2 does not exist (2 disks a node"),
    ("time,node,disk\n1h,2,9223372036854775807\n", "line 2: column disk: disk 9223372036854775807 does not exist"),
    ("time,rack,disk\n1h,2,1\n", "line 2: column"),
])
def test_bad_lines_are_named(tmp_path, text, message):
    log = tmp_path / "events.csv"
    log.write_text(text)
    with pytest.raises(ValueError) as err:
        load_trace(log, 8, 4, 2)
    assert str(err.value).startswith(f"failures.trace: {log} ")
    assert message in str(err.value)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


def test_missing_trace_is_a_config_error(tmp_path):
    with pytest.raises(ValueError, match="failures.trace: .*nope.csv: file not found"):
        config(BASE, {"failures": {"trace": str(tmp_path / "nope.csv")}})


def test_a_byte_order_mark_is_accepted_as_in_catalog_source(tmp_path):
    log = tmp_path / "events.csv"
    log.write_bytes("time,node,kind\n6h,3,permanent\n".encode("utf-8-sig"))
    (event,) = load_trace(log, 8, 4)
    assert (event.at, event.node, event.kind) == (6 * 3600.0, 3, "permanent")


def test_a_disk_line_replays_like_a_scheduled_disk_failure(tmp_path):
    log = tmp_path / "events.csv"
    log.write_text("time,node,disk,duration\n6h,3,1,2h\n")
    base = {**BASE, "cluster": {**BASE["cluster"], "disks_per_node": 2}}
    replayed = simulate(config(base, {"failures": {"trace": str(log)}}))
    scheduled = simulate(config(base, {"failures": {"scheduled": [
        {"at": "6h", "node": 3, "disk": 1, "duration": "2h"}]}}))
    assert len(replayed.failures) == 1
    pd.testing.assert_frame_equal(replayed.failures, scheduled.failures)
    assert replayed.summary == scheduled.summary
    with pytest.raises(ValueError, match="line 2: column disk: disk 1 does not exist"):
        config(BASE, {"failures": {"trace": str(log)}})
