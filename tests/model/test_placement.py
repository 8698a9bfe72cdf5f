"""Placement rules: distinct nodes, racks spread evenly, balanced by free space, eligible nodes only."""

import numpy as np
import pytest

from vstack_sim.model.placement import place_exact, place_fresh, place_one, rack_cap


def racks(n, r):
    node_rack = np.arange(n) % r
    return node_rack, [np.flatnonzero(node_rack == i) for i in range(r)]


def per_rack_max(nodes, node_rack, r):
    rk = node_rack[nodes]
    return max(int((rk == i).sum(axis=1).max()) for i in range(r))


@pytest.mark.parametrize("n,r,width", [(20, 4, 5), (20, 10, 5), (7, 7, 5), (12, 3, 3), (6, 1, 5)])
def test_fresh_layouts_use_distinct_nodes_and_respect_the_rack_cap(n, r, width):
    node_rack, _ = racks(n, r)
    out = place_fresh(np.random.default_rng(1), 5000, width, np.full(n, 1e12), node_rack, r)
    assert (out >= 0).all()
    srt = np.sort(out, axis=1)
    assert not (srt[:, 1:] == srt[:, :-1]).any()
    assert per_rack_max(out, node_rack, r) <= rack_cap(width, r)
    if r >= width:
        assert per_rack_max(out, node_rack, r) == 1


def test_fresh_layouts_balance_by_free_space():
    node_rack, _ = racks(10, 10)
    free = np.array([1, 1, 1, 1, 1, 4, 4, 4, 4, 4], dtype=float) * 1e12
    out = place_fresh(np.random.default_rng(2), 20000, 1, free, node_rack, 10)
    share = np.bincount(out.ravel(), minlength=10) / out.size
    assert share[5:].sum() == pytest.approx(0.8, abs=0.01)


def test_ineligible_nodes_are_never_chosen_and_impossible_rows_are_minus_one():
    node_rack, rack_nodes = racks(6, 6)
    w = np.ones(6)
    w[[1, 4]] = 0
    out = place_fresh(np.random.default_rng(3), 1000, 3, w, node_rack, 6)
    assert not np.isin(out, [1, 4]).any()
    assert (place_fresh(np.random.default_rng(3), 10, 5, w, node_rack, 6) == -1).all()
    assert place_one(np.random.default_rng(3), [0, 2, 3, 5], w, node_rack, rack_nodes, 5) == -1


def test_repair_placement_avoids_the_chunks_nodes_and_full_racks():
    node_rack, rack_nodes = racks(8, 4)          # cap for 5 slots over 4 racks: 2 per rack
    rng = np.random.default_rng(4)
    held = [0, 4, 1, 5]                          # racks 0 and 1 are full
    picks = {place_one(rng, held, np.ones(8), node_rack, rack_nodes, 5) for _ in range(200)}
    assert picks == {2, 3, 6, 7}
    exact = place_exact(rng, np.array([held]), 1, np.ones(8), node_rack, 4, 5)
    assert exact[0, 0] in {2, 3, 6, 7}


def test_place_fresh_with_a_kept_rack_layout_draws_exactly_as_without_one():
    from vstack_sim.model.placement import RackLayout

    for seed in range(60):
        r = np.random.default_rng(seed)
        n = int(r.integers(3, 40))
        racks = int(r.integers(1, min(n, 8) + 1))
        width = int(r.integers(1, min(n, 6) + 1))
        node_rack = np.arange(n) % racks
        w = r.uniform(0, 1e12, n)
        w[r.random(n) < 0.2] = 0
        layout = RackLayout(node_rack, racks, width)
        for rows in (1, 7):
            kept = place_fresh(np.random.default_rng(seed), rows, width, w, node_rack, racks, layout=layout)
            fresh = place_fresh(np.random.default_rng(seed), rows, width, w, node_rack, racks)
            assert (kept == fresh).all()
    # A layout kept for other racks or another width is not used.
    other = RackLayout(np.arange(10) % 2, 2, 3)
    assert not other.fits(np.arange(10) % 5, 5, 3) and not other.fits(other.node_rack, 2, 4)
