"""Catalog: Zipf weights, starting views, chunk layout and video_stats."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vstack_sim.model.catalog import build_catalog, hot_fraction_views, total_views_split, zipf_weights
from vstack_sim.scenario.schema import CatalogConfig


@given(st.integers(1, 5000), st.floats(0, 3))
def test_zipf_weights_sum_to_one_and_decrease(n, alpha):
    w = zipf_weights(n, alpha)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert (np.diff(w) <= 1e-15).all()


def test_seed_hot_fraction_gives_exactly_50_of_1000_videos_above_the_threshold():
    v = hot_fraction_views(1000, 1.0, 1000, 0.05)
    assert (v > 1000).sum() == 50 and (v[50:] <= 1000).all()


@given(st.integers(10, 3000), st.floats(0, 2.5), st.floats(0, 1))
def test_hot_fraction_is_exact_for_any_law(n, alpha, fraction):
    v = hot_fraction_views(n, alpha, 1000, fraction)
    assert (v > 1000).sum() == round(fraction * n)


def test_youtube_mix_has_87_percent_under_1000_views():
    v = hot_fraction_views(10_000, 0.8, 1000, 0.13)
    assert (v <= 1000).mean() == pytest.approx(0.87)


def test_total_views_split_sums_exactly():
    v = total_views_split(zipf_weights(777, 1.2), 123_457)
    assert v.sum() == 123_457 and (np.diff(v) <= 0).all()


def test_lognormal_chunk_counts_have_the_configured_mean_and_contiguous_chunks():
    cfg = CatalogConfig(videos=20_000, chunks_per_video=50, chunk_count_distribution="lognormal")
    cat = build_catalog(cfg, 1000, np.random.default_rng(5))
    assert cat.chunks_per_video.mean() == pytest.approx(50, rel=0.03)
    assert cat.chunks_per_video.min() >= 1
    v = 123
    first, n = cat.first_chunk[v], cat.chunks_per_video[v]
    assert (cat.chunk_video[first:first + n] == v).all()
    assert list(cat.chunk_index[first:first + 3]) == [0, 1, 2]
    assert np.isnan(cat.last_viewed).all() and (cat.view_count == cat.starting_views).all()


@pytest.mark.parametrize("alpha, threshold", [(1e6, 1000), (2000.0, 1000), (3.0, 2**53 - 1), (1e300, 0)])
def test_steep_laws_and_huge_thresholds_never_wrap(alpha, threshold):
    # Issue 19: popularity_threshold 2^63 - 1 raised OverflowError, and a steep law cast inf or nan to int64.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # "invalid value encountered in cast"
        v = hot_fraction_views(100, alpha, threshold, 0.05)
    assert v.dtype == np.int64 and v.min() >= 0 and v.max() <= 2**53
    assert (v > threshold).sum() == 5 and np.all(v[5:] <= threshold)
