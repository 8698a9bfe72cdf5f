"""A living catalog: videos uploaded and deleted during the run.

The upload schedule (times, chunk counts, lifetime views) is drawn when the world is built, from its own stream
(``uploads``), and the catalog's arrays are sized for it: an uploaded video has its ids and chunk ids from the start,
and its chunks are *absent* (:meth:`ChunkState.mark_absent`) until it arrives. So per-chunk state stays in fixed
NumPy arrays, and the same seed gives the same uploads whatever else the run does (common random numbers).

At its upload time a video is ingested as the starting catalog was: the real manager gives its mode
(:meth:`RedundancyManager.decide_uploads`: the policy's upload mode, then overrides), placement puts its layouts
within capacity, and its slots are written through the disk queues, one request per disk holding the upload's
slots there (an append, as Haystack and f4 write a needle to a volume). An upload that does not fit is refused and
counted; it never aborts the run. A delete frees the video's slots; capacity and the ledger follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vstack_sim.model.catalog import Catalog
from vstack_sim.model.cluster import rows_that_fit
from vstack_sim.model.disk_queue import CLIENT
from vstack_sim.model.io_arbiter import Join
from vstack_sim.scenario.lifecycle_schema import UPLOAD_KEY
from vstack_sim.system.policies import VideoView


@dataclass
class UploadSchedule:
    """The uploads of one run, in time order: upload ``i`` is video ``first_video + i``."""

    first_video: int
    times: np.ndarray            # float64 [N], seconds
    chunk_counts: np.ndarray     # int64 [N]
    lifetime_views: np.ndarray   # float64 [N], A: the views each would get over an unbounded life

    def __len__(self) -> int:
        return len(self.times)


def draw_uploads(cfg, first_video: int, rng: np.random.Generator) -> UploadSchedule | None:
    """Upload times (Poisson at ``workload.uploads.rate``, thinned by the daily cycle), chunk counts and lifetime
    views over ``[0, run.duration)``; None when there are no uploads."""
    up, wl = cfg.workload.uploads, cfg.workload
    if up.rate <= 0:
        return None
    duration = cfg.run.duration
    peak = up.rate * (1.0 + wl.daily_cycle)
    n = int(rng.poisson(peak * duration))
    times = np.sort(rng.uniform(0.0, duration, size=n))
    if wl.daily_cycle > 0:
        keep = rng.random(n) < daily_factor(times, wl.daily_cycle, wl.peak_hour) / (1.0 + wl.daily_cycle)
        times = times[keep]
        n = len(times)
    if up.chunk_count_distribution == "fixed":
        counts = np.full(n, up.chunks_per_video, dtype=np.int64)
    else:
        mu = np.log(up.chunks_per_video) - up.chunk_count_sigma ** 2 / 2
        counts = np.maximum(1, np.rint(rng.lognormal(mu, up.chunk_count_sigma, size=n))).astype(np.int64)
    if up.mean_views > 0 and up.views_sigma > 0:
        views = rng.lognormal(np.log(up.mean_views) - up.views_sigma ** 2 / 2, up.views_sigma, size=n)
    else:
        views = np.full(n, float(up.mean_views))
    return UploadSchedule(first_video, times, counts, views)


def daily_factor(t, amplitude: float, peak_hour: float):
    """1 + a cos(2 pi (t / 1 day - peak / 24)): the daily cycle every arrival stream follows."""
    return 1.0 + amplitude * np.cos(2 * np.pi * (np.asarray(t) / 86400.0 - peak_hour / 24.0))


def extend_catalog(cat: Catalog, uploads: UploadSchedule) -> Catalog:
    """The catalog with the uploads' videos appended (no starting views, no share of the Zipf stream)."""
    n = len(uploads)
    counts = uploads.chunk_counts
    first = np.zeros(n, dtype=np.int64)
    if n:
        first[1:] = np.cumsum(counts[:-1])
    first += cat.chunks
    total = int(counts.sum())
    chunk_video = np.repeat(np.arange(cat.videos, cat.videos + n, dtype=np.int32), counts)
    chunk_index = (np.arange(total, dtype=np.int64) - np.repeat(first - cat.chunks, counts)).astype(np.int32)
    keys = np.concatenate([cat.keys(), np.array([UPLOAD_KEY.format(i) for i in range(n)], dtype=object)])
    pad = np.zeros(n, dtype=np.int64)

    def text(column):
        return None if column is None else np.concatenate([column, np.full(n, None, dtype=object)])

    return Catalog(
        chunk_size=cat.chunk_size, chunks_per_video=np.concatenate([cat.chunks_per_video, counts]),
        first_chunk=np.concatenate([cat.first_chunk, first]),
        chunk_video=np.concatenate([cat.chunk_video, chunk_video]),
        chunk_index=np.concatenate([cat.chunk_index, chunk_index]),
        popularity=np.concatenate([cat.popularity, np.zeros(n)]),
        starting_views=np.concatenate([cat.starting_views, pad]), view_count=np.concatenate([cat.view_count, pad]),
        last_viewed=np.concatenate([cat.last_viewed, np.full(n, np.nan)]),
        total_bytes_served=np.concatenate([cat.total_bytes_served, pad]), video_key=keys,
        uploaded_at=text(cat.uploaded_at), size_class=text(cat.size_class))


class Lifecycle:
    """The upload and delete processes of a run, and what each does to the world."""

    def __init__(self, world):
        self.w = world
        self.uploads = world.uploads
        self.cfg = world.cfg.workload.deletes
        self.refused = 0
        self.uploaded = 0
        self.deleted = 0
        self.uploaded_bytes = 0
        self.deleted_bytes = 0
        self.write_seconds: list[float] = []     # per upload: from upload to its last slot written

    def start(self) -> None:
        env = self.w.env
        if self.uploads is not None and len(self.uploads):
            env.process(self._upload_process())
        if self.cfg.rate > 0:
            env.process(self._delete_at_rate())

    def _upload_process(self):
        env, up = self.w.env, self.uploads
        after = self.cfg.after
        for i, t in enumerate(up.times.tolist()):
            if t > env.now:
                yield env.timeout(t - env.now)
            video = up.first_video + i
            if self.upload(video) and after > 0:
                env.timeout(after).callbacks.append(lambda _e, v=video: self.delete(v))

    def _delete_at_rate(self):
        w = self.w
        env, rng = w.env, w.rng.deletes
        while True:
            yield env.timeout(rng.exponential(1.0 / self.cfg.rate))
            stored = np.flatnonzero(w.video_present)
            if len(stored):
                self.delete(int(stored[rng.integers(len(stored))]))

    # -- what an upload and a delete do ------------------------------------------------------------
    def upload(self, video: int) -> bool:
        """Ingest ``video`` now in its upload mode; False (and counted) when the cluster cannot hold it."""
        w = self.w
        st, cl, cat, t = w.state, w.cluster, w.catalog, w.env.now
        view = VideoView(ids=np.array([video]), view_counts=np.zeros(1, dtype=np.int64),
                         sizes=cat.chunks_per_video[video:video + 1] * w.chunk_size,
                         uploaded_at=np.array([t]), last_read=np.array([t]))
        mode = int(w.manager.decide_uploads(view, t)[0])
        first, n = int(cat.first_chunk[video]), int(cat.chunks_per_video[video])
        chunks = np.arange(first, first + n)
        width = int(st.mode_width[mode])
        slot_bytes = int(st.mode_slot_bytes[mode])
        nodes = w.placement.fresh(n, width, slot_bytes, mode)
        if rows_that_fit(nodes, slot_bytes, cl.capacity - cl.used) < n:
            self.refused += 1
            return False
        st.arrive(chunks, mode)
        st.place(chunks, nodes, cl.up, t)
        cl.disks.assign_each(chunks, nodes, slot_bytes)
        cl.used += np.bincount(nodes.ravel(), minlength=cl.n_nodes) * slot_bytes
        w.video_mode[video] = mode
        w.video_present[video] = True
        self.uploaded += 1
        self.uploaded_bytes += n * w.weight * w.chunk_size
        # One append per disk holding the upload's slots there.
        disks = cl.disks.slot_disk[chunks, :width].ravel()
        per_disk = np.bincount(disks, minlength=cl.disks.n_disks)
        writes = Join(int(np.count_nonzero(per_disk)), t, lambda _first, done: self.write_seconds.append(done - t))
        for d in np.flatnonzero(per_disk).tolist():
            nbytes = int(per_disk[d]) * slot_bytes
            cl.client_write(d, t, nbytes, writes.add)
            cl.io.add(CLIENT, True, t, nbytes)
        return True

    def delete(self, video: int) -> None:
        """Delete ``video`` now (nothing if it is not stored): its slots are freed."""
        w = self.w
        if not w.video_present[video]:
            return
        st, cl, cat, t = w.state, w.cluster, w.catalog, w.env.now
        first, n = int(cat.first_chunk[video]), int(cat.chunks_per_video[video])
        chunks = np.arange(first, first + n)
        live = st.slot_has_data[chunks]
        nbytes = np.broadcast_to(st.mode_slot_bytes[st.mode[chunks]][:, None], live.shape)[live]
        np.subtract.at(cl.used, st.slot_node[chunks][live], nbytes)
        cl.disks.free_slots(cl.disks.slot_disk[chunks][live], nbytes)
        st.remove(chunks, t)
        w.chunks_settled(chunks)
        w.video_present[video] = False
        for hook in w.on_video_deleted:
            hook(video, chunks)
        self.deleted += 1
        self.deleted_bytes += n * w.weight * w.chunk_size

    def summary(self) -> dict:
        """The ``uploads`` block of the summary (docs/results.md)."""
        times = np.asarray(self.write_seconds)
        return {
            "scheduled": 0 if self.uploads is None else len(self.uploads),
            "uploaded": self.uploaded, "refused": self.refused, "deleted": self.deleted,
            "uploaded_bytes": self.uploaded_bytes, "deleted_bytes": self.deleted_bytes,
            "write_mean_s": float(times.mean()) if len(times) else None,
            "write_p99_s": float(np.percentile(times, 99)) if len(times) else None,
        }
