"""The source waits: the sets a freed node may start are found by walking free branches only."""

import random
from itertools import combinations

import pytest

from vstack_sim.model.repair_waits import SWEEP_MIN, SourceWaits


def startable_by_scan(waits: SourceWaits, woken, free) -> set:
    """The rule stated plainly: live sets whose nodes are all free, one of them woken."""
    return {nodes for nodes in waits.sets if set(nodes) <= free and set(nodes) & set(woken)}


def test_the_trie_search_finds_exactly_the_free_sets_holding_a_woken_node():
    rng = random.Random(7)
    gone: set = set()
    waits = SourceWaits(lambda item: item[3] not in gone)
    job = 0
    for _ in range(300):
        for _ in range(rng.randint(0, 4)):                 # new waiting jobs: 1-of-2 replicas or 3-of-4 fragments
            need, width = rng.choice([(1, 2), (3, 4), (3, 5)])
            live = sorted(rng.sample(range(30), width))
            waits.add((rng.randint(-1, 2), job, job, job, 0), live, need)
            job += 1
        gone.update(rng.sample(range(job), min(job, 3)))   # jobs that started or left: their entries go stale
        free = set(rng.sample(range(30), rng.randint(0, 30)))
        woken = rng.sample(sorted(free), min(len(free), rng.randint(0, 3)))
        expected = {nodes for nodes in startable_by_scan(waits, woken, free)
                    if any(item[3] not in gone for item in waits.sets[nodes])}
        heads = waits.heads(woken, free)
        assert {nodes for _, nodes in heads} == expected
        for head, nodes in heads:                          # each is its set's most endangered live entry
            assert head == min(item for item in waits.sets[nodes] if item[3] not in gone)


def test_a_set_whose_entries_all_went_stale_leaves_the_index():
    gone: set = set()
    waits = SourceWaits(lambda item: item[3] not in gone)
    waits.add((0, 0, 0, 0, 0), [1, 4, 7, 9], 3)
    waits.add((0, 1, 1, 1, 0), [2, 4], 1)
    assert len(waits.sets) == len(list(combinations([1, 4, 7, 9], 3))) + 2
    gone.update({0, 1})
    assert waits.heads([1, 2, 4, 7, 9], {1, 2, 4, 7, 9}) == []
    assert waits.sets == {} and waits.trie == {}


def test_sets_of_two_sizes_above_one_are_refused_by_name():
    waits = SourceWaits(lambda item: True)
    waits.add((0, 0, 0, 0, 0), [1, 2, 3], 3)
    waits.add((0, 1, 1, 1, 0), [4, 5], 1)
    with pytest.raises(ValueError, match="need"):
        waits.add((0, 2, 2, 2, 0), [4, 5, 6], 2)


def test_sets_left_behind_by_jobs_that_started_elsewhere_are_swept_as_the_sets_double():
    gone: set = set()
    waits = SourceWaits(lambda item: item[3] not in gone)
    for job in range(3000):                       # each job waits under 4 sets, then starts under one
        base = 4 * job
        waits.add((0, job, job, job, 0), [base, base + 1, base + 2, base + 3], 3)
        gone.add(job)
    assert len(waits.sets) <= SWEEP_MIN + 4       # without the sweep: 12,000 distinct sets, all stale
    waits.sweep()
    assert waits.sets == {} and waits.trie == {}


def test_heads_kept_across_a_sweep_are_refreshed_to_their_sets_new_tops():
    gone: set = set()
    waits = SourceWaits(lambda item: item[3] not in gone)
    j, k = (0, 0, 0, 0, 0), (1, 1, 1, 1, 0)
    waits.add(j, [1, 2, 3], 2)                      # J under (1, 2), (1, 3), (2, 3)
    waits.add(k, [1, 3], 2)                         # K under (1, 3), behind J
    heads = waits.heads([1, 2, 3], {1, 2, 3})
    assert sorted(nodes for _, nodes in heads) == [(1, 2), (1, 3), (2, 3)]
    gone.add(0)                                     # J starts under one set; its other entries go stale
    waits.sweep()                                   # pops J off (1, 3): K is that set's top now
    waits.refresh(heads)
    assert sorted(heads) == [(k, (1, 3))]           # K is still found; the emptied sets are gone
