"""The catalog: videos, their chunks, Zipf popularity, starting views and video_stats.

Video ids are popularity ranks: video 0 is rank 1, the most popular. A video's
chunks are contiguous chunk ids, ``first_chunk[v] .. first_chunk[v] + n - 1``.
``video_stats`` keeps the seed's table (view_count, last_viewed,
total_bytes_served) as arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vstack_sim.scenario.schema import CatalogConfig
from vstack_sim.scenario.sections import MAX_VIEWS


def zipf_weights(n: int, alpha: float) -> np.ndarray:
    """Normalised Zipf weights over ranks 1..n: w_i proportional to i^-alpha, summing to 1."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    w = np.arange(1, n + 1, dtype=np.float64) ** -alpha
    return w / w.sum()


def hot_fraction_views(n: int, alpha: float, threshold: int, fraction: float) -> np.ndarray:
    """Zipf starting views scaled so that exactly round(fraction x n) videos have more than ``threshold``.

    views_i = floor(c x i^-alpha) with c chosen so that rank H+1 sits exactly at the
    threshold (H hot videos). A hot rank whose floor would not clear the threshold
    (very flat laws) is lifted to threshold + 1, so the hot count is exact.
    """
    hot = int(round(fraction * n))
    ranks = np.arange(1, n + 1, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        c = threshold * float(hot + 1) ** alpha if alpha * math.log(hot + 1) < 1024 * math.log(2) else math.inf
        raw = c * ranks ** -alpha + 1e-9
    # A steep law overflows float64 (inf, or inf x 0 = nan for ranks whose share underflows): the ranks up to
    # H + 1 are at or above the threshold, the rest below it. Views stop at MAX_VIEWS (2^53, above every
    # threshold), so the cast to int64 is exact; for every other law this changes nothing.
    raw = np.where(np.isnan(raw), np.where(ranks <= hot + 1, MAX_VIEWS, 0.0), raw)
    views = np.floor(np.minimum(raw, float(MAX_VIEWS))).astype(np.int64)
    views[:hot] = np.maximum(views[:hot], threshold + 1)
    views[hot:] = np.minimum(views[hot:], threshold)
    return views


def total_views_split(weights: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` views by weight with largest remainders, so they sum exactly to total."""
    raw = weights * total
    views = np.floor(raw).astype(np.int64)
    short = int(total - views.sum())
    if short > 0:
        order = np.argsort(-(raw - views), kind="stable")
        views[order[:short]] += 1
    return views


@dataclass
class Catalog:
    """Videos and chunks of one run (arrays, one entry per video or per chunk)."""

    chunk_size: int
    chunks_per_video: np.ndarray   # int64 [V]
    first_chunk: np.ndarray        # int64 [V]
    chunk_video: np.ndarray        # int32 [C]
    chunk_index: np.ndarray        # int32 [C]
    popularity: np.ndarray         # float64 [V], Zipf weights summing to 1
    starting_views: np.ndarray     # int64 [V]
    # video_stats, the seed's table
    view_count: np.ndarray         # int64 [V]
    last_viewed: np.ndarray        # float64 [V], NaN until viewed in the run
    total_bytes_served: np.ndarray # int64 [V]
    # The user's id of each video (catalog.source), else None: the id's text is the key.
    video_key: np.ndarray | None = None
    uploaded_at: np.ndarray | None = None
    size_class: np.ndarray | None = None

    def keys(self) -> np.ndarray:
        """Each video's ``video_key`` as text (object array)."""
        if self.video_key is not None:
            return self.video_key
        return np.arange(self.videos).astype(str).astype(object)

    @property
    def videos(self) -> int:
        return len(self.chunks_per_video)

    @property
    def chunks(self) -> int:
        return len(self.chunk_video)


def build_catalog(cfg: CatalogConfig, threshold: int, rng: np.random.Generator) -> Catalog:
    """Draw chunk counts (``catalog`` stream) and set popularity and starting views."""
    if cfg.source is not None:
        return _catalog_from_source(cfg)
    v = cfg.videos
    if cfg.chunk_count_distribution == "fixed":
        counts = np.full(v, cfg.chunks_per_video, dtype=np.int64)
    else:
        sigma = cfg.chunk_count_sigma
        mu = np.log(cfg.chunks_per_video) - sigma**2 / 2
        counts = np.maximum(1, np.rint(rng.lognormal(mu, sigma, size=v))).astype(np.int64)
    first = np.zeros(v, dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    total = int(counts.sum())
    chunk_video = np.repeat(np.arange(v, dtype=np.int32), counts)
    chunk_index = (np.arange(total, dtype=np.int64) - np.repeat(first, counts)).astype(np.int32)
    weights = zipf_weights(v, cfg.zipf_alpha)
    if cfg.starting_views == "hot_fraction":
        views = hot_fraction_views(v, cfg.zipf_alpha, threshold, cfg.hot_fraction)
    else:
        views = total_views_split(weights, cfg.total_views)
    return Catalog(
        chunk_size=cfg.chunk_size, chunks_per_video=counts, first_chunk=first,
        chunk_video=chunk_video, chunk_index=chunk_index, popularity=weights,
        starting_views=views, view_count=views.copy(),
        last_viewed=np.full(v, np.nan), total_bytes_served=np.zeros(v, dtype=np.int64),
    )


def _catalog_from_source(cfg: CatalogConfig) -> Catalog:
    """The catalog of a ``catalog.source`` file: its lengths and views; popularity in proportion to views."""
    from vstack_sim.scenario.catalog_source import load_videos_csv

    src = load_videos_csv(cfg.source)
    counts = src.chunk_counts(cfg.chunk_size).astype(np.int64)
    v = len(counts)
    first = np.zeros(v, dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    total = int(counts.sum())
    chunk_video = np.repeat(np.arange(v, dtype=np.int32), counts)
    chunk_index = (np.arange(total, dtype=np.int64) - np.repeat(first, counts)).astype(np.int32)
    views = src.views.astype(np.int64)
    total_views = views.sum()
    # A file of only unviewed videos has no popularity to follow: every video is then equally likely.
    weights = views / total_views if total_views > 0 else np.full(v, 1.0 / v)
    return Catalog(
        chunk_size=cfg.chunk_size, chunks_per_video=counts, first_chunk=first,
        chunk_video=chunk_video, chunk_index=chunk_index, popularity=weights.astype(np.float64),
        starting_views=views, view_count=views.copy(),
        last_viewed=np.full(v, np.nan), total_bytes_served=np.zeros(v, dtype=np.int64),
        video_key=src.keys, uploaded_at=src.uploaded_at, size_class=src.size_class,
    )
