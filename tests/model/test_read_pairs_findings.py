"""Regressions from a red-team pass on exact withdrawal of hedged pairs (reads.hedge_withdraw: exact).

Each test failed before its fix (its docstring says what happened). The small cases reuse test_read_hedge's
constants: one-slot disks, SERVICE = 4 ms + 2 MiB / 50 MB/s (45.94 ms), TAIL = NIC + client link + latency
(18.95 ms).
"""

import pytest

from tests.builders import config, fail, layout
from tests.model.test_read_hedge import SERVICE
from vstack_sim.model.simulation import Simulation

S = 2 * 2**20


FAST_TAIL = S / 1.25e9 + S / 1.25e9 + 0.0005     # NIC + a 10 Gbit/s reader link + latency (3.86 ms)


def three_replicas(views, after, failures=()):
    return config({
        "run": {"duration": 3600},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
        "cluster": {"nodes": 3, "racks": 3, "io_slots": 1, "client_bandwidth": 1.25e9},
        "redundancy": {"policy": "replication"},
        "reads": {"replica_choice": "random", "hedge_after": after},
        "failures": {"detection_timeout": "30d", "scheduled": list(failures)},
        "workload": {"scheduled_views": [{"at": at, "video": 0} for at in views]}})


def run(cfg, draws):
    sim = Simulation(cfg).build()
    sim.reads._rand = list(reversed(draws))       # fixed draws: the pump pops from the end
    r = sim.start().run().finalize().collect()
    return r.reads.sort_values("view_id"), r.summary["reads"]["hedges"]


def test_background_io_to_a_disk_nobody_holds_goes_on_at_once_while_the_pump_is_ahead():
    """The read pump serves its own heap ahead of the clock, so the holds' clock (holds.now, the time of the last
    hold event) may be later than env.now. A background request (a repair write, a repair read, an upload) issued
    at env.now to a disk that nobody holds joins it at once; its continuation must run then, inline.
    Got: client_write sent every continuation through at_release, which delays it to holds.now: a repair's write
    issued at 13.36 s ran its continuation at 14.10 s with a finish before then, and the repair's end timer had a
    negative delay (ValueError: Negative delay; random scenarios with repairs and io_slots 1 crashed this way)."""
    sim = Simulation(three_replicas([], 0.05)).build()
    cl = sim.world.cluster
    assert cl.holds is not None and cl.holds.held[0] is None
    cl.holds.now = 5.0                            # the pump has served hold events up to 5 s; the clock is at 0
    got = []
    cl.client_write(0, 0.0, S, lambda start, finish: got.append((start, finish)))
    assert len(got) == 1 and got[0][0] == 0.0


def test_a_hedge_whose_node_fails_before_it_answers_is_counted_unanswered():
    """Random choice; views 0-2 at 10 s read a (U = 0.0); the 10 Gbit/s link and a 52 ms hedge. View 1 answers at
    10 + 2 SERVICE + FAST_TAIL = 10.0957 s; view 2 at 10.1417 s. At 10.052 s both hedge (to b: U = 0.0 of slots
    [1, 2]; then to c: U = 0.9). View 1's hedge answers at 10.1018 s: lost. View 2's (c, idle) would answer at
    10.1018 s and win, but c fails at 10.06 s, before it is out: view 2's primary answers (at 10.1417 s). Every hedge
    sent is won, lost, cancelled or unanswered: 2 sent, 1 lost, 1 unanswered.
    Got: the winning hedge that failed was taken off won and counted nowhere (sent 2 = won 0 + lost 1 + ...)."""
    cfg = three_replicas([10.0, 10.0, 10.0], 0.052)
    c = layout(cfg)[2]
    reads, h = run(three_replicas([10.0, 10.0, 10.0], 0.052, [fail(10.06, c, "transient", "1h")]),
                   [0.0, 0.0, 0.0, 0.0, 0.9])
    assert list(reads["latency_ms"] / 1000.0) == pytest.approx(
        [SERVICE + FAST_TAIL, 2 * SERVICE + FAST_TAIL, 3 * SERVICE + FAST_TAIL], abs=1e-9)
    assert (h["sent"], h["won"], h["lost"], h["cancelled"], h["unanswered"]) == (2, 0, 1, 0, 1)
