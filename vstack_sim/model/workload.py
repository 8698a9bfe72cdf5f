"""Viewers: Poisson view arrivals, Zipf choice of video, and how much each view watches.

The base stream is a Poisson process at ``view_rate``, modulated by an optional
daily cycle and an age decay, drawn by thinning: candidate arrivals at the
peak rate, each kept with probability rate(t) / peak. Exponential age decay of
every video's intensity is memoryless, so it lowers the aggregate rate by
2^(-t / half_life) and leaves the videos' relative popularity alone. Each view
picks a video by Zipf weight (inverse CDF) and draws how much it watches.

Uploaded videos have a stream of their own, each video at its own age
(:mod:`.upload_views`). A flash crowd is its own Poisson stream of views of one video during its
window. Every stream draws from its own generator, in batches, so the views
are the same whatever happens to the reads (common random numbers across
policies).
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.model.aging import aging_curve
from vstack_sim.model.arrivals import BufferedArrivals, chunks_watched
from vstack_sim.model.upload_views import UploadViewSource

BATCH = 4096


class ArrivalSource(BufferedArrivals):
    """One stream of view arrivals: yields (time, video, chunks to watch) in time order."""

    def __init__(self, rng, rate_max: float, accept, choose_video, chunks_of, watch, start=0.0, end=math.inf):
        super().__init__()
        self.rng = rng
        self.rate_max = rate_max
        self.accept = accept              # t array -> probability array, or None
        self.choose_video = choose_video  # (rng, n) -> video array
        self.chunks_of = chunks_of
        self.watch = watch                # (rng, n) -> fraction array
        self.t = start
        self.end = end

    def _refill(self) -> None:
        rng = self.rng
        times = self.t + np.cumsum(rng.exponential(1.0 / self.rate_max, size=BATCH))
        self.t = float(times[-1])
        keep = np.ones(BATCH, dtype=bool) if self.accept is None else rng.random(BATCH) < self.accept(times)
        videos = self.choose_video(rng, BATCH)
        fractions = self.watch(rng, BATCH)
        watched = chunks_watched(fractions, self.chunks_of[videos])
        keep &= times < self.end
        self._buf = list(zip(times[keep].tolist(), videos[keep].tolist(), watched[keep].tolist(), strict=False))
        self._pos = 0


class ScheduledSource:
    """Views at fixed times (``workload.scheduled_views``), each watching the whole video."""

    def __init__(self, views, chunks_of):
        self._items = sorted(((at, video, int(chunks_of[video])) for at, video in views), key=lambda x: x[0])
        self._pos = 0

    def next(self):
        if self._pos >= len(self._items):
            return None
        self._pos += 1
        return self._items[self._pos - 1]


class Workload:
    """Builds the arrival sources of a run and hands them to the read path."""

    def __init__(self, world, read_path):
        self.w = world
        self.reads = read_path
        cfg = world.cfg.workload
        self.cfg = cfg
        cat = world.catalog
        cum = np.cumsum(cat.popularity)
        cum /= cum[-1]
        self._cum = cum
        subs = world.rng.substreams("workload", max(1, len(cfg.flash_crowds)))
        self.sources: list[ArrivalSource] = []
        if cfg.view_rate > 0:
            peak = cfg.view_rate * (1.0 + cfg.daily_cycle)
            modulated = cfg.daily_cycle > 0 or cfg.age_decay_half_life > 0
            self.sources.append(ArrivalSource(world.rng.workload, peak, self.acceptance if modulated else None,
                                              self._zipf_choice, cat.chunks_per_video, self._watch))
        for i, fc in enumerate(cfg.flash_crowds):
            video = world.videos.flash_crowds[i]
            self.sources.append(ArrivalSource(
                subs[i], fc.view_rate, None, lambda rng, n, v=video: np.full(n, v, dtype=np.int64),
                cat.chunks_per_video, self._watch, start=fc.start, end=fc.start + fc.duration))

        if cfg.scheduled_views:
            views = [(v.at, video) for v, video in zip(cfg.scheduled_views, world.videos.scheduled_views, strict=True)]
            self.sources.append(ScheduledSource(views, cat.chunks_per_video))
        if world.uploads is not None:
            self.sources.append(UploadViewSource(
                world.rng.upload_views, world.uploads, aging_curve(cfg.aging), cat.chunks_per_video, self._watch,
                world.cfg.run.duration, cfg.daily_cycle, cfg.peak_hour, cfg.deletes.after))

    def rate(self, t):
        """Aggregate view rate of the base stream at time(s) t (views/s)."""
        cfg = self.cfg
        r = cfg.view_rate * np.ones_like(np.asarray(t, dtype=np.float64))
        if cfg.daily_cycle > 0:
            r = r * (1.0 + cfg.daily_cycle * np.cos(2 * np.pi * (np.asarray(t) / 86400.0 - cfg.peak_hour / 24.0)))
        if cfg.age_decay_half_life > 0:
            r = r * np.exp2(-np.asarray(t) / cfg.age_decay_half_life)
        return r

    def acceptance(self, t: np.ndarray) -> np.ndarray:
        return self.rate(t) / (self.cfg.view_rate * (1.0 + self.cfg.daily_cycle))

    def _zipf_choice(self, rng, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self._cum, rng.random(n), side="right"), len(self._cum) - 1)

    def _watch(self, rng, n: int) -> np.ndarray:
        if self.cfg.watch_distribution == "fixed":
            return np.full(n, self.cfg.watch_fraction)
        return self.cfg.watch_fraction * (1.0 - rng.random(n))   # U(0, f]

    def start(self) -> None:
        for source in self.sources:
            self.reads.add_source(source)
        self.reads.start()
