"""The one k-of-n rule: which slots reads, repairs and conversions use, and what decoding costs."""

from vstack_sim.model.kofn import choose, decode_time
from vstack_sim.system.codec import needs_decode, systematic_order
from vstack_sim.system.modes import MODE_ERASURE_CODING as EC
from vstack_sim.system.modes import MODE_REPLICATION as REP


def test_coded_chunks_are_read_data_fragments_first_and_decode_only_with_parity():
    assert systematic_order([4, 0, 3, 2], 3) == [0, 2, 3, 4]
    assert choose(EC, [4, 0, 3, 2], 3) == [0, 2, 3]
    assert choose(EC, [4, 0, 3, 2], 3, extra=1) == [0, 2, 3, 4]
    assert not needs_decode([0, 1, 2], 3) and needs_decode([0, 2, 3], 3)
    assert decode_time(EC, [0, 1, 2], 3, 3000, 1e-3) == 0.0
    assert decode_time(EC, [0, 2, 3], 3, 3000, 1e-3) == 3.0


def test_a_caller_order_wins_replicas_never_decode_and_a_rebuild_always_does():
    assert choose(EC, [0, 1, 2, 3], 3, preferred=[3, 1, 0, 2]) == [3, 1, 0]
    assert choose(REP, [2, 0, 1], 1) == [2]
    assert decode_time(REP, [1], 3, 3000, 1e-3) == 0.0
    assert decode_time(EC, [0, 1, 2], 3, 3000, 1e-3, rebuild=True) == 3.0
