"""Records: a table's frame is the one pandas built from copies, without the copies (issue 20)."""

import numpy as np
import pandas as pd
import pytest

from tests.builders import config
from vstack_sim.model import records
from vstack_sim.model.records import Table
from vstack_sim.model.simulation import Simulation

LABELS = ("none", "some", "many")


def copied_frame(table: Table, rows=None) -> pd.DataFrame:
    """The frame as ``to_frame`` built it before issue 20: each column copied, then consolidated by pandas."""
    out = {}
    for c, t in table.columns.items():
        values = table.column(c).copy()
        if rows is not None:
            values = values[rows]
        if isinstance(t, tuple):
            out[c] = pd.Categorical.from_codes(values.astype(np.int64), categories=list(t))
        elif t == "b":
            out[c] = values.astype(bool)
        else:
            out[c] = values
    return pd.DataFrame(out)


def filled(n: int) -> Table:
    table = Table("t", {"x": "f", "n": "i", "ok": "b", "label": LABELS})
    rng = np.random.default_rng(1)
    for i in range(n):
        table.append(float(rng.normal()), int(rng.integers(-2**40, 2**40)), bool(i % 3), int(i % 3))
    return table


@pytest.mark.parametrize("n", [0, 1, 1000])
def test_frame_equals_the_copied_one_in_values_dtypes_and_csv(n):
    table = filled(n)
    new, old = table.to_frame(), copied_frame(table)
    pd.testing.assert_frame_equal(new, old)
    assert new.to_csv(index=False) == old.to_csv(index=False)


def test_a_frame_of_some_rows_equals_the_copied_one():
    table = filled(500)
    rows = np.arange(3, 500, 7)
    pd.testing.assert_frame_equal(table.to_frame(rows), copied_frame(table, rows))


def test_a_frame_views_the_table_so_the_table_takes_no_more_rows():
    table = filled(100)
    frame = table.to_frame()
    assert np.shares_memory(frame["x"].to_numpy(), table.column("x"))
    with pytest.raises(BufferError):
        table.append(1.0, 2, True, 0)
    assert len(table) == 100


def test_a_framed_table_takes_rows_again_once_its_frame_is_gone():
    table = filled(10)
    frame = table.to_frame()
    del frame
    table.append(1.0, 2, True, 0)
    assert len(table) == 11


def test_the_frames_of_a_run_equal_the_copied_ones():
    cfg = config({"name": "records", "run": {"seed": 5, "duration": "10d"},
                  "catalog": {"videos": 30, "chunks_per_video": 6, "hot_fraction": 0.2},
                  "cluster": {"nodes": 10, "racks": 5}, "workload": {"view_rate": "2/min"},
                  "migration": {"check_interval": "6h"},
                  "failures": {"node_mttf": "4d", "permanent_fraction": 0.5, "transient_downtime": "1h"}})
    sim = Simulation(cfg).build().start().run().finalize()
    w = sim.world
    tables = [w.failures, w.repair.table, sim.migrator.table, w.losses, w.node_events, sim.reads.table,
              sim.reads.views]
    assert len(w.repair.table) > 20 and len(sim.reads.table) > 100
    expected = [copied_frame(t) for t in tables]
    for table, old in zip(tables, expected, strict=True):
        new = table.to_frame()
        pd.testing.assert_frame_equal(new, old)
        assert new.to_csv(index=False) == old.to_csv(index=False)


def test_id_lists_read_as_the_space_separated_text_of_their_integers():
    rows = [[], [0], [17], [12, 145, 7], [2**31 - 1, 0, 3], list(range(40)), [np.int64(5), np.int32(9)]]
    table = Table("t", {"n": "i", "ids": "ids"})
    for i, ids in enumerate(rows):
        table.append(i, ids)
    texts = [" ".join(str(n) for n in ids) for ids in rows]
    assert table.column("ids").tolist() == texts
    frame = table.to_frame()
    pd.testing.assert_series_equal(frame["ids"], pd.DataFrame({"ids": np.array(texts, dtype=object)})["ids"])
    assert frame.to_csv(index=False) == pd.DataFrame({"n": range(len(rows)), "ids": texts}).to_csv(index=False)
    assert table.to_frame(np.array([3, 0]))["ids"].tolist() == [texts[3], texts[0]]


@pytest.mark.parametrize("time_model", ["io", "exponential"])
def test_a_runs_source_nodes_are_the_text_it_wrote_per_repair_before_issue_20(time_model):
    cfg = config({"name": "sources", "run": {"seed": 3, "duration": "10d"},
                  "catalog": {"videos": 30, "chunks_per_video": 6, "hot_fraction": 0.3},
                  "cluster": {"nodes": 10, "racks": 5}, "repair": {"time_model": time_model},
                  "failures": {"node_mttf": "4d", "permanent_fraction": 0.5, "transient_downtime": "1h"}})
    sim = Simulation(cfg).build()
    table, texts = sim.world.repair.table, []
    append = table.append

    def spy(*row):   # the text each repair made of its sources, as repair.py wrote it before issue 20
        texts.append(" ".join(str(n) for n in row[-1]))
        append(*row)

    table.append = spy
    sim.start().run().finalize()
    frame = table.to_frame()
    assert len(texts) > 30 and {len(t.split()) for t in texts} == {1, 3}
    expected = pd.DataFrame({"source_nodes": np.array(texts, dtype=object)})["source_nodes"]
    pd.testing.assert_series_equal(frame["source_nodes"], expected)


@pytest.fixture
def small_spills(monkeypatch):
    monkeypatch.setattr(records, "SPILL_ROWS", 8)


@pytest.mark.parametrize("n", [7, 8, 9, 64, 1000])
def test_a_table_moved_into_its_own_memory_frames_and_reads_as_before(small_spills, n):
    table = filled(n)
    ids = Table("t", {"n": "i", "ids": "ids"})
    rows = [list(range(i % 4)) for i in range(n)]
    for i, r in enumerate(rows):
        ids.append(i, r)
    assert len(table) == n and len(ids) == n
    assert (table._data["x"].store is not None) == (n >= 8)
    new, old = table.to_frame(), copied_frame(table)
    pd.testing.assert_frame_equal(new, old)
    assert new.to_csv(index=False) == old.to_csv(index=False)
    assert ids.column("ids").tolist() == [" ".join(map(str, r)) for r in rows]
    for row in (0, n // 2, n - 1):
        assert table.get("n", row) == int(old["n"][row]) and type(table.get("x", row)) is float
        table.set("n", row, -row)
        assert table.column("n")[row] == -row


def test_a_table_takes_rows_after_its_values_moved_and_its_frame_keeps_its_own(small_spills):
    table = filled(20)
    frame = table.to_frame()
    before = frame.copy()
    for i in range(50):      # spills again, into a larger store: the frame's view is the old one
        table.append(float(i), i, False, 2)
    assert len(table) == 70 and len(table.to_frame()) == 70
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(table.to_frame().iloc[:20], before)
