"""The I/O ledger's buckets by hand: background requests as they join, client reads from their columns."""

import numpy as np
import pytest

from vstack_sim.model import io_ledger
from vstack_sim.model.disk_queue import CLIENT, CONVERSION, REPAIR
from vstack_sim.model.io_ledger import COLUMNS, IoLedger


@pytest.mark.parametrize("slice_rows", [1 << 22, 2])
def test_buckets_by_hand(monkeypatch, slice_rows):
    monkeypatch.setattr(io_ledger, "SLICE", slice_rows)     # the reads binned in slices give the same sums
    ledger = IoLedger(10.0)
    ledger.add(REPAIR, False, 0.0, 100)
    ledger.add(REPAIR, True, 9.999, 50)
    ledger.add(CONVERSION, False, 10.0, 7)
    ledger.add(CONVERSION, True, 25.0, 3)
    ledger.add(CLIENT, False, 12.0, 1000)                   # a hedge
    ledger.add(CONVERSION, True, 30.0, 11)                  # at the end of the run: the last bucket
    times = np.array([1.0, 5.0, 15.0, 29.0, 30.0])
    nbytes = np.array([10, 20, 40, 80, 160])
    kind = np.array([0, 4, 1, 2, 0], dtype=np.int8)          # the read at 5 s is a cache hit: no disk
    table = ledger.table(30.0, times, nbytes, kind, no_disk_kind=4)
    col = {name: i for i, name in enumerate(COLUMNS)}
    assert table.shape == (3, 6)
    assert table[:, col["client_read"]].tolist() == [10, 1040, 80 + 160]
    assert table[:, col["repair_read"]].tolist() == [100, 0, 0]
    assert table[:, col["repair_written"]].tolist() == [50, 0, 0]
    assert table[:, col["conversion_read"]].tolist() == [0, 7, 0]
    assert table[:, col["conversion_written"]].tolist() == [0, 0, 3 + 11]
    assert table[:, col["client_written"]].tolist() == [0, 0, 0]
    assert ledger.lengths(30.0).tolist() == [10.0, 10.0, 10.0]
    assert ledger.lengths(25.0).tolist() == [10.0, 10.0, 5.0]
    assert ledger.table(30.0, times, nbytes, kind)[:, col["client_read"]].tolist() == [30, 1040, 240]


def test_no_request_and_a_bad_bucket():
    ledger = IoLedger(3600.0)
    empty = np.zeros(0)
    assert ledger.table(100.0, empty, empty, empty).tolist() == [[0] * 6]
    with pytest.raises(ValueError, match="bucket"):
        IoLedger(0.0)
