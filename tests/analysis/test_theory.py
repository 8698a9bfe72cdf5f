"""Closed forms of vstack_sim.analysis.theory not covered by the model's theory checks: Che's approximation."""

import numpy as np
import pytest

from vstack_sim.analysis.theory import che_lru_hit_probabilities, che_lru_hit_ratio


def test_che_with_equal_popularity_is_the_cached_fraction():
    assert che_lru_hit_ratio(np.ones(1000), 250) == pytest.approx(0.25, abs=1e-9)


def test_che_edges_and_skew():
    zipf = np.arange(1, 1001, dtype=float) ** -0.8
    assert che_lru_hit_ratio(zipf, 0) == 0.0 and che_lru_hit_ratio(zipf, 1000) == 1.0
    assert 0.25 < che_lru_hit_ratio(zipf, 250) < 1.0          # a skewed catalog hits more than its share


def test_che_hit_probabilities_fill_the_cache_and_rank_by_popularity():
    zipf = 1.0 / np.arange(1, 1001)
    hit = che_lru_hit_probabilities(zipf, 250)
    assert hit.sum() == pytest.approx(250, rel=1e-9)             # T fills the cache: sum of occupancies = C
    assert np.all(np.diff(hit) <= 0) and 0.0 < hit[-1] < 0.25     # more popular, more often cached
    assert che_lru_hit_ratio(zipf, 250) == pytest.approx(float(np.sum(zipf / zipf.sum() * hit)))
