"""The redundancy manager: one policy, the manual overrides, the geometry of both modes and the
seed's JSON shapes.

The :class:`RedundancyManager` holds one :class:`~vstack_sim.system.policies.Policy`
and the manual overrides; a manual override per video wins over the policy. Its
:meth:`~RedundancyManager.decide` is the one entry point: the seed's scalar
call (:meth:`RedundancyManager.determine_redundancy_mode`), the batch call
(:meth:`RedundancyManager.decide_modes`), ingest and the popularity checks all
go through it, so a simulated cluster cannot drift from the real manager.

The manager also owns the geometry of each mode (slots per chunk, fragment
size, physical bytes, failures tolerated) and renders the seed's JSON shapes
from it (:meth:`~RedundancyManager.recommend`, :meth:`~RedundancyManager.override`,
:meth:`~RedundancyManager.efficiency`), so no figure is ever written in by hand.
The modes are in :mod:`vstack_sim.system.modes`, the policies in
:mod:`vstack_sim.system.policies`.
"""

from __future__ import annotations

import numbers
import types
from collections.abc import Hashable, Mapping

import numpy as np

from vstack_sim.system.codec import fragment_size as _codec_fragment_size
from vstack_sim.system.modes import (
    RedundancyMode,
    check_int,
    is_int,
    mode_code,
    mode_from_code,
    parse_mode,
)
from vstack_sim.system.policies import (
    Policy,
    VideoView,
    cold_threshold,
    make_policy,
    threshold_from_env,
)

__all__ = ["RedundancyManager"]

# GF(2^8) codewords hold at most 255 symbols, one per fragment.
_MAX_TOTAL_SHARDS = 255
_MIB = 2**20


def _plain_id(video_id: Hashable) -> Hashable:
    # np.int64(7) and 7 hash alike, but storing plain Python values keeps
    # the override mapping printable and JSON-friendly.
    return video_id.item() if isinstance(video_id, np.generic) else video_id


class RedundancyManager:
    """Chooses each video's redundancy mode and knows the geometry of both modes.

    Parameters mirror the seed's configuration. ``popularity_threshold=None``
    reads the ``POPULARITY_THRESHOLD`` environment variable once, here
    (default 1000); an explicit value always beats the environment.
    ``hysteresis`` h in [0, 1) widens the way back from hot to cold;
    ``policy`` is a name of :data:`~vstack_sim.system.policies.POLICIES`
    (built by :func:`~vstack_sim.system.policies.make_policy` with the
    threshold and hysteresis above and the defaults of its other settings)
    or a :class:`~vstack_sim.system.policies.Policy` object (a scenario's
    is built from all its settings by ``vstack_sim.scenario.policy_schema.policy_from_config``).
    ``upload_grace`` (seconds) keeps a video uploaded during a run in its upload
    mode while it is younger than that. Manual overrides win over every policy.
    """

    def __init__(
        self,
        popularity_threshold: int | None = None,
        replication_factor: int = 3,
        erasure_data_shards: int = 3,
        erasure_parity_shards: int = 2,
        chunk_size: int = 2 * _MIB,
        hysteresis: float = 0.0,
        policy: str = "adaptive",
        upload_grace: float = 0.0,
    ) -> None:
        if popularity_threshold is None:
            threshold = threshold_from_env()
        else:
            threshold = check_int("popularity_threshold", popularity_threshold, 0)
        r = check_int("replication_factor", replication_factor, 1)
        k = check_int("erasure_data_shards", erasure_data_shards, 1)
        m = check_int("erasure_parity_shards", erasure_parity_shards, 0)
        if k + m > _MAX_TOTAL_SHARDS:
            raise ValueError(
                f"erasure_parity_shards: erasure_data_shards + erasure_parity_shards must be <= "
                f"{_MAX_TOTAL_SHARDS} (GF(2^8) codeword length), got {k} + {m} = {k + m}"
            )
        size = check_int("chunk_size", chunk_size, 1)
        if (
            isinstance(hysteresis, (bool, np.bool_))
            or not isinstance(hysteresis, numbers.Real)
            or not 0 <= hysteresis < 1
        ):
            raise ValueError(f"hysteresis: must be a number in [0, 1), got {hysteresis!r}")
        if isinstance(upload_grace, (bool, np.bool_)) or not isinstance(upload_grace, numbers.Real) \
                or not 0 <= upload_grace < float("inf"):
            raise ValueError(f"upload_grace: must be a finite number of seconds >= 0, got {upload_grace!r}")
        self._upload_grace = float(upload_grace)
        self._threshold = threshold
        self._r, self._k, self._m = r, k, m
        self._chunk_size = size
        self._hysteresis = float(hysteresis)
        if isinstance(policy, Policy):
            self._policy = policy
        else:
            self._policy = make_policy(policy, threshold, self._hysteresis, geometry=self)
        self._cold_threshold = cold_threshold(threshold, self._hysteresis)
        self._overrides: dict[Hashable, RedundancyMode] = {}
        self._override_view = types.MappingProxyType(self._overrides)
        self._override_keys: dict[str, np.ndarray] = {}  # per id dtype kind, rebuilt on change

    # -- settings ---------------------------------------------------------

    @property
    def popularity_threshold(self) -> int:
        """Views above which a video is hot."""
        return self._threshold

    @property
    def cold_threshold(self) -> int:
        """A replicated video goes back to EC at or below this many views (floor of T x (1 - h))."""
        return self._cold_threshold

    @property
    def upload_grace(self) -> float:
        """Seconds after its upload during which a video keeps its upload mode (0 = none)."""
        return self._upload_grace

    @property
    def hysteresis(self) -> float:
        return self._hysteresis

    @property
    def replication_factor(self) -> int:
        return self._r

    @property
    def erasure_data_shards(self) -> int:
        return self._k

    @property
    def erasure_parity_shards(self) -> int:
        return self._m

    @property
    def total_shards(self) -> int:
        return self._k + self._m

    @property
    def chunk_size(self) -> int:
        return self._chunk_size

    @property
    def policy(self) -> str:
        """The policy's name (one of :data:`~vstack_sim.system.policies.POLICIES` or a custom one's)."""
        return self._policy.name

    @property
    def policy_object(self) -> Policy:
        """The :class:`Policy` that decides modes (overrides are applied on top by the manager)."""
        return self._policy

    def __repr__(self) -> str:
        return (
            f"RedundancyManager(popularity_threshold={self._threshold}, replication_factor={self._r}, "
            f"erasure_data_shards={self._k}, erasure_parity_shards={self._m}, chunk_size={self._chunk_size}, "
            f"hysteresis={self._hysteresis}, policy={self._policy.name!r})"
        )

    # -- overrides --------------------------------------------------------

    @property
    def overrides(self) -> Mapping[Hashable, RedundancyMode]:
        """Read-only view of the manual overrides, video id -> mode."""
        return self._override_view

    def set_manual_override(self, video_id: Hashable, mode: RedundancyMode | str | int) -> RedundancyMode:
        """Pin ``video_id`` to ``mode`` whatever its views; returns the parsed mode."""
        parsed = parse_mode(mode)
        self._overrides[_plain_id(video_id)] = parsed
        self._override_keys.clear()
        return parsed

    def clear_manual_override(self, video_id: Hashable) -> None:
        """Return ``video_id`` to the automatic choice (no error if it had no override)."""
        if self._overrides.pop(_plain_id(video_id), None) is not None:
            self._override_keys.clear()

    def get_manual_override(self, video_id: Hashable) -> RedundancyMode | None:
        """The override of ``video_id``, or None."""
        return self._overrides.get(_plain_id(video_id))

    # -- the rule ---------------------------------------------------------

    def decide(self, videos: VideoView, now: float = 0.0) -> np.ndarray:
        """Mode codes (``int8``) for the videos of ``videos``: the policy's decision, then overrides.

        The one entry point of the mode decision: ingest, popularity checks and
        the seed's scalar calls all come through here.
        """
        codes = np.asarray(self._policy.decide(videos, now), dtype=np.int8)
        if codes.shape != videos.ids.shape:
            raise ValueError(f"policy {self._policy.name!r}: returned shape {codes.shape}, "
                             f"expected {videos.ids.shape}")
        if self._upload_grace > 0 and videos.uploaded_at is not None and videos.current_modes is not None:
            # A video younger than the grace keeps the mode it was uploaded in, whatever the policy says.
            young = now - videos.uploaded_at < self._upload_grace
            codes = np.where(young, videos.current_modes, codes).astype(np.int8)
        if self._overrides:
            codes = codes.copy()
            self._apply_overrides(videos.ids, codes)
        return codes

    def decide_uploads(self, videos: VideoView, now: float = 0.0) -> np.ndarray:
        """Mode codes (``int8``) for videos uploaded at ``now``: the policy's upload modes, then overrides."""
        codes = np.asarray(self._policy.upload_modes(videos, now), dtype=np.int8).copy()
        if codes.shape != videos.ids.shape:
            raise ValueError(f"policy {self._policy.name!r}: returned shape {codes.shape}, "
                             f"expected {videos.ids.shape}")
        if self._overrides:
            self._apply_overrides(videos.ids, codes)
        return codes

    def determine_redundancy_mode(
        self,
        video_id: Hashable,
        view_count: int,
        current_mode: RedundancyMode | str | int | None = None,
        size_bytes: int | None = None,
    ) -> tuple[RedundancyMode, dict]:
        """The mode for one video and its config dict, as in the seed.

        More than ``popularity_threshold`` views -> replication, else erasure
        coding; an override wins. With ``current_mode`` given, hysteresis
        applies exactly as in :meth:`decide_modes`. Other policies answer with
        :meth:`Policy.recommend` (a policy by size needs ``size_bytes``).
        """
        if not is_int(view_count) or view_count < 0:
            raise ValueError(f"view_count: must be a non-negative integer, got {view_count!r}")
        mode = self._overrides.get(_plain_id(video_id))
        if mode is None:
            current = None if current_mode is None else np.array([mode_code(current_mode)], dtype=np.int8)
            # Python ints of any size: an object array keeps the comparison exact.
            view = VideoView(ids=np.zeros(1, dtype=np.int64), view_counts=np.array([int(view_count)], dtype=object),
                             current_modes=current, sizes=None if size_bytes is None else np.array([int(size_bytes)]))
            mode = mode_from_code(int(self._policy.recommend(view, 0.0)[0]))
        return mode, self.mode_config(mode)

    def decide_modes(self, video_ids, view_counts, current_modes=None, sizes=None, now: float = 0.0) -> np.ndarray:
        """Mode codes (``int8``) for many videos at once, from plain arrays (see :meth:`decide`).

        ``video_ids`` and ``view_counts`` are equal-shape 1-D arrays.
        ``current_modes=None`` (ingest) applies the plain rule; otherwise it
        holds each video's current code and hysteresis applies. Overrides win.
        """
        return self.decide(VideoView.of(video_ids, view_counts, current_modes, sizes), now)

    def _apply_overrides(self, ids: np.ndarray, codes: np.ndarray) -> None:
        # np.isin finds the few overridden positions in one pass; only those
        # go through the dict. Keys of another type than the array's (string
        # ids set on an int array) cannot match and are left out of isin.
        kind = ids.dtype.kind
        if kind in "iuUS":
            keys = self._override_keys.get(kind)
            if keys is None:
                want = {"i": numbers.Integral, "u": numbers.Integral, "U": str, "S": bytes}[kind]
                keys = np.array([k for k in self._overrides if isinstance(k, want) and not isinstance(k, bool)])
                self._override_keys[kind] = keys
            if keys.size == 0:
                return
            positions = np.flatnonzero(np.isin(ids, keys))
            for i in positions:
                codes[i] = mode_code(self._overrides[ids[i].item()])
        else:
            # Object (or odd) dtypes: a Python pass; these come from notebooks, not the simulator.
            for i, vid in enumerate(ids.tolist()):
                mode = self._overrides.get(vid)
                if mode is not None:
                    codes[i] = mode_code(mode)

    # -- geometry ---------------------------------------------------------

    def mode_config(self, mode: RedundancyMode | str | int) -> dict:
        """The seed's ``config`` dict for a mode (plain Python values)."""
        mode = parse_mode(mode)
        if mode is RedundancyMode.REPLICATION:
            return {
                "mode": mode.value,
                "replication_factor": self._r,
                "min_replicas_for_recovery": self.min_slots_to_read(mode),
            }
        return {
            "mode": mode.value,
            "data_shards": self._k,
            "parity_shards": self._m,
            "total_shards": self.slots_per_chunk(mode),
            "min_shards_for_recovery": self.min_slots_to_read(mode),
        }

    def resolve_chunk_size(self, chunk_size: int | None = None) -> int:
        """``chunk_size`` checked, or the configured chunk size when None."""
        return self._chunk_size if chunk_size is None else check_int("chunk_size", chunk_size, 1)

    def slots_per_chunk(self, mode: RedundancyMode | str | int) -> int:
        """Nodes one chunk occupies: r replicas or k + m fragments."""
        return self._r if parse_mode(mode) is RedundancyMode.REPLICATION else self._k + self._m

    def min_slots_to_read(self, mode: RedundancyMode | str | int) -> int:
        """Live slots needed to read or rebuild a chunk: 1 replica or k fragments."""
        return 1 if parse_mode(mode) is RedundancyMode.REPLICATION else self._k

    def failures_tolerated(self, mode: RedundancyMode | str | int) -> int:
        """Slot losses a chunk survives: r - 1 or m."""
        return self.slots_per_chunk(mode) - self.min_slots_to_read(mode)

    def fragment_size(self, chunk_size: int | None = None) -> int:
        """Bytes per RS fragment: ceil(chunk_size / k)."""
        return _codec_fragment_size(self.resolve_chunk_size(chunk_size), self._k)

    def slot_bytes(self, mode: RedundancyMode | str | int, chunk_size: int | None = None) -> int:
        """Bytes held by one slot: a whole replica or one fragment."""
        if parse_mode(mode) is RedundancyMode.REPLICATION:
            return self.resolve_chunk_size(chunk_size)
        return self.fragment_size(chunk_size)

    def physical_bytes_per_chunk(self, mode: RedundancyMode | str | int, chunk_size: int | None = None) -> int:
        """Stored bytes of one chunk: r x size, or ceil(size / k) x (k + m)."""
        return self.slots_per_chunk(mode) * self.slot_bytes(mode, chunk_size)

    def overhead_factor(self, mode: RedundancyMode | str | int, chunk_size: int | None = None) -> float:
        """Physical over logical bytes of one chunk (unrounded)."""
        return self.physical_bytes_per_chunk(mode, chunk_size) / self.resolve_chunk_size(chunk_size)

    # -- the seed's JSON shapes --------------------------------------------

    def recommend(self, video_id: Hashable, view_count: int, size_bytes: int | None = None) -> dict:
        """``GET /redundancy/recommend/{video_id}`` (``size_bytes`` for a policy by size)."""
        mode, config = self.determine_redundancy_mode(video_id, view_count, size_bytes=size_bytes)
        return {
            "video_id": _plain_id(video_id),
            "view_count": int(view_count),
            "recommended_mode": mode.value,
            "config": config,
        }

    def override(self, video_id: Hashable, mode: RedundancyMode | str | int) -> dict:
        """``POST /redundancy/override/{video_id}?mode=``: sets the override and reports it."""
        parsed = self.set_manual_override(video_id, mode)
        return {
            "status": "ok",
            "video_id": _plain_id(video_id),
            "override_mode": parsed.value,
            "message": f"Manual override set to {parsed.value}",
        }

    def efficiency(self) -> dict:
        """``GET /redundancy/efficiency`` for the configured r, k, m and chunk size."""
        rep, ec = RedundancyMode.REPLICATION, RedundancyMode.ERASURE_CODING
        rep_bytes = self.physical_bytes_per_chunk(rep)
        ec_bytes = self.physical_bytes_per_chunk(ec)

        def comparison(mode: RedundancyMode, physical: int) -> dict:
            # The design's key says MB but holds MiB (kept for compatibility); the named keys say what they hold.
            return {
                "storage_per_chunk_mb": round(physical / _MIB, 2),
                "storage_per_chunk_mib": round(physical / _MIB, 2),
                "storage_per_chunk_bytes": int(physical),
                "nodes_required": self.slots_per_chunk(mode),
                "failures_tolerated": self.failures_tolerated(mode),
            }

        return {
            "efficiency": {
                "replication_overhead_factor": round(self.overhead_factor(rep), 2),
                "erasure_coding_overhead_factor": round(self.overhead_factor(ec), 2),
                "storage_savings_percent": round((rep_bytes - ec_bytes) / rep_bytes * 100, 1),
            },
            "mode_comparison": {
                rep.value: comparison(rep, rep_bytes),
                ec.value: comparison(ec, ec_bytes),
            },
        }
