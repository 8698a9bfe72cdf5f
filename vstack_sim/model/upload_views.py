"""Views of uploaded videos: each video's own Poisson stream, at its lifetime views times its aging density.

Video v, uploaded at u_v with lifetime views A_v, is viewed at A_v x g(t - u_v) x (the daily cycle)
(:mod:`.aging`). Views are drawn a block of time at a time: in [t0, t1) video v gets a Poisson count with mean
A_v x (1 + d) x (S(t0 - u_v) - S(t1 - u_v)) (S the survival 1 - G), placed by inverse transform of S, then thinned by
the daily cycle (as the starting catalog's stream is). Blocks are sized to hold about :data:`BLOCK_VIEWS` views, so a
quiet catalog costs few blocks and a busy one keeps its buffer small. Videos deleted by age are left out of the
blocks after their deletion; any other view of a video not stored when it arrives is dropped by the read path.
"""

from __future__ import annotations

import numpy as np

from vstack_sim.model.arrivals import BufferedArrivals, chunks_watched
from vstack_sim.model.lifecycle import daily_factor

BLOCK_VIEWS = 8192
MIN_BLOCK_S = 60.0
MAX_BLOCK_S = 86400.0


class UploadViewSource(BufferedArrivals):
    """Arrivals (time, video, chunks to watch) of the uploaded videos, in time order."""

    def __init__(self, rng, uploads, curve, chunks_of, watch, end: float, daily_cycle: float, peak_hour: float,
                 delete_after: float = 0.0):
        super().__init__()
        self.rng = rng
        self.curve = curve
        self.first = uploads.first_video
        self.u = uploads.times
        self.a = uploads.lifetime_views
        self.chunks_of = chunks_of
        self.watch = watch
        self.end = end
        self.cycle, self.peak_hour = daily_cycle, peak_hour
        self.after = delete_after
        self.t = 0.0
        self.block = 3600.0

    def expected_views(self, t0: float, t1: float) -> np.ndarray:
        """Expected views of each upload in [t0, t1), before the daily cycle (uploads after t1 get none)."""
        n = int(np.searchsorted(self.u, t1, side="left"))
        u, a = self.u[:n], self.a[:n]
        hi = t1 if self.after <= 0 else np.minimum(t1, u + self.after)
        s0 = self.curve.survival(np.maximum(t0 - u, 0.0))
        s1 = self.curve.survival(np.maximum(hi - u, 0.0))
        return a * np.maximum(s0 - s1, 0.0)

    def _refill(self) -> None:
        rng = self.rng
        t0 = self.t
        t1 = min(t0 + self.block, self.end)
        peak = 1.0 + self.cycle
        mean = self.expected_views(t0, t1) * peak
        counts = rng.poisson(mean)
        videos = np.repeat(np.arange(len(counts)), counts)
        u = self.u[videos]
        s0 = self.curve.survival(np.maximum(t0 - u, 0.0))
        hi = t1 if self.after <= 0 else np.minimum(t1, u + self.after)
        s1 = self.curve.survival(np.maximum(hi - u, 0.0))
        rest = s0 - rng.random(len(videos)) * (s0 - s1)
        times = np.clip(u + self.curve.age_at_survival(rest), max(t0, 0.0), np.nextafter(t1, t0))
        if self.cycle > 0:
            keep = rng.random(len(times)) * peak < daily_factor(times, self.cycle, self.peak_hour)
            times, videos = times[keep], videos[keep]
        order = np.argsort(times, kind="stable")
        times, videos = times[order], videos[order] + self.first
        fractions = self.watch(rng, len(videos))
        watched = chunks_watched(fractions, self.chunks_of[videos])
        self._buf = list(zip(times.tolist(), videos.tolist(), watched.tolist(), strict=True))
        self._pos = 0
        self.t = t1
        # The next block holds about BLOCK_VIEWS views at this block's rate.
        rate = float(mean.sum()) / max(t1 - t0, 1e-9)
        self.block = float(np.clip(BLOCK_VIEWS / rate if rate > 0 else MAX_BLOCK_S, MIN_BLOCK_S, MAX_BLOCK_S))
