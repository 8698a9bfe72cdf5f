"""The repair queue: a dispatch looks only at jobs that may start, most endangered first."""

import numpy as np

from tests.builders import config, fail, layout
from vstack_sim.model.simulation import Simulation

DECLARED = 3600 + 900        # the failure at 1 h, declared after the 15 min detection timeout


def backlog(node_failed=5):
    """Replicated chunks on 10 nodes; node 5 fails at 1 h and is declared at 1 h 15 min. Every
    node's one source stream is taken just before, so its ~150 jobs all wait."""
    cfg = config({
        "catalog": {"videos": 50, "chunks_per_video": 10},
        "cluster": {"nodes": 10, "racks": 10},
        "redundancy": {"policy": "replication"},
        "repair": {"streams_per_node": 4, "source_streams_per_node": 1},
        "failures": {"scheduled": [fail(3600, node_failed)], "replacement_delay": "30d"},
    })
    sim = Simulation(cfg).build().start()
    w = sim.world
    w.env.run(until=DECLARED - 1)
    q = w.repair.queue
    busy = [n for n in range(10) if n != node_failed]
    q.take(-1, 0, busy)              # one running job reading from every live node
    q.release_target(-1, 0)
    q.log = []
    w.env.run(until=DECLARED + 1)
    return w, q


def test_a_backlog_behind_busy_sources_is_examined_once_then_each_freed_stream_looks_at_one_job():
    w, q = backlog()
    st = w.state
    assert q.log == [(len(q.entry), 0)] and len(q.entry) > 100   # each new job looked at once, none started
    waiting_on_0 = [key for key in q.entry if 0 in st.slot_node[key // st.width].tolist()]
    assert len(waiting_on_0) > 20
    for _ in range(5):
        first = min(waiting_on_0, key=lambda key: q.entry[key][:2])    # most endangered, then queued first
        q.release_sources([0])                                         # node 0's stream frees
        q.dispatch()
        assert q.log[-1] == (1, 1)                                     # one job looked at, and it started
        assert first not in q.entry and st.job.reshape(-1)[first] != 0
        assert q.serving[0] == 1                                       # the cap holds
        waiting_on_0.remove(first)
    # A dispatch with nothing freed looks at nothing, however long the backlog.
    before = q.examined
    q.dispatch()
    assert q.examined == before and q.log[-1] == (0, 0)


def test_when_every_stream_frees_jobs_start_most_endangered_first_then_in_queue_order():
    w, q = backlog()
    st = w.state
    order = [key for key, _ in sorted(q.entry.items(), key=lambda kv: kv[1][:2])]
    q.release_sources([n for n in range(10) if n != 5])
    q.dispatch()
    started = [key for key in order if key not in q.entry]
    assert order[0] in started and 1 <= len(started) <= 9   # one stream per live node
    last = max(order.index(key) for key in started)
    for key in order[:last]:
        if key in q.entry:           # passed over: each of its live copies' nodes serves a job already
            c, s = divmod(key, st.width)
            nodes = [int(n) for j, n in enumerate(st.slot_node[c]) if j != s and st.slot_has_data[c, j]
                     and w.cluster.up[n]]
            assert nodes and all(q.serving[n] == 1 for n in nodes)


def test_a_repair_target_is_drawn_by_free_space_over_the_allowed_nodes_from_one_variate():
    from vstack_sim.model.placement import NodeSampler

    rack = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    weights = np.array([5, 1, 0, 2, 3, 4, 6, 7], dtype=float) * 1e9
    sampler = NodeSampler(weights, rack, [np.flatnonzero(rack == r) for r in range(4)])
    rng = np.random.default_rng(1)
    # A replica (width 3, one per rack) held on 1 and 4: racks 0 and 2 are full; node 6 is busy.
    drawn = np.array([sampler.draw(rng, [1, 4], 3, {6}) for _ in range(20_000)])
    assert set(drawn.tolist()) == {3, 7}
    assert abs((drawn == 3).mean() - 2 / 9) < 0.01
    assert sampler.draw(rng, [1, 4], 3, {3, 6, 7}) == -2     # only busy nodes allowed
    assert sampler.draw(rng, [0, 2, 4, 6], 3) == -1          # every rack full
    calls = []

    class Counting:
        def random(self):
            calls.append(1)
            return rng.random()

    sampler.draw(Counting(), [1], 3, {3, 4, 5, 6})
    assert len(calls) == 1


def test_a_slot_too_large_for_the_placement_cache_margin_is_still_rebuilt():
    """A simulated chunk standing for 4,000 real ones: each RS slot is 89.5 GB, so no 4 TB node has room for
    the 64 slots the cached repair sampler keeps as margin, yet every one has room for this slot. The job
    used to be parked as if no node could take it, and the slot stayed missing for the run."""
    scenario = {
        "run": {"seed": 1, "duration": "2d"},
        "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": "64MiB", "hot_fraction": 0.0,
                    "chunk_weight": 4000},
        "cluster": {"nodes": 8, "racks": 1, "node_capacity": "4TB"},
        "redundancy": {"policy": "erasure_coding"},
        "failures": {"permanent_fraction": 1.0, "detection_timeout": "6h", "replacement_delay": "1h"},
        "repair": {"time_model": "io", "bandwidth": "20MB/s"},
    }
    node = layout(config(scenario))[0]                  # slot 0's node fails at 1000 s, declared 6 h later
    cfg = config(scenario, {"failures": {"scheduled": [fail(1000, node)]}})
    sim = Simulation(cfg).build().start()
    w = sim.world
    w.env.run(until=cfg.run.duration)
    st = w.state
    assert int(st.mode_slot_bytes[st.mode[0]]) * 64 > w.cluster.capacity.max()    # beyond the margin
    assert st.job[0, 0] == 0 and st.missing[0] == 0 and not w.repair.queue.blocked
    assert int(st.slot_node[0, 0]) != node and st.slot_has_data[0, 0]


def test_a_node_back_with_a_slot_whose_rebuild_runs_takes_no_second_slot_of_that_chunk():
    """Red-team regression: a node declared dead comes back with its data while its slot's rebuild runs on. A second
    slot of the chunk lost meanwhile must not be rebuilt onto it (it was, and a later repair wait crashed on two live
    slots of one chunk on one node). Six nodes for five fragments: the spare takes the first rebuild; the second
    node is gone for good, so the only node left for the second rebuild is the one that came back, which may take it
    only once the first rebuild has made its copy stale."""
    base = {"catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": "64MiB", "hot_fraction": 0.0},
            "cluster": {"nodes": 6, "racks": 1, "node_capacity": "4TB"},
            "redundancy": {"policy": "erasure_coding"},
            "repair": {"time_model": "io", "bandwidth": "1KB/s",    # a rebuild reads 3 x 22 MB: about 19 h
                       "restart": "complete"},                      # the first one keeps its target throughout
            "run": {"duration": "6d"}}
    nodes = layout(config(base))
    first, second = nodes[1], nodes[3]
    cfg = config(base, {"failures": {"detection_timeout": "1h", "replacement_delay": "30d", "scheduled": [
        fail(1000.0, first, "transient", duration=3 * 3600.0), fail(20000.0, second)]}})
    sim = Simulation(cfg).build().start()
    w = sim.world
    seen = []

    def watch():
        while True:
            live = w.state.slot_node[0][w.state.slot_has_data[0]]
            seen.append(len(live) == len(set(live.tolist())))
            yield w.env.timeout(600.0)

    w.env.process(watch())
    w.env.run(until=cfg.run.duration)
    assert all(seen)
    assert w.state.exist[0] == 5 and not w.state.lost[0]
