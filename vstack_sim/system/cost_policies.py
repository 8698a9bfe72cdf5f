"""Policies that weigh what a video costs: by its size (``size``) and by its expected bill (``cost``).

Each is a :class:`~vstack_sim.system.policy_base.Policy`; the manager applies manual overrides (and the
upload grace) on top, as for every policy, and a new upload is replicated (the base class's
:meth:`~vstack_sim.system.policy_base.Policy.upload_modes`).

* :class:`SizePolicy` (``size``): a video smaller than ``min_ec_bytes`` stays replicated; every other video
  follows a base rule (the threshold rule, with its hysteresis, when built by name). Small objects gain
  little from erasure coding: each of the k + m fragments is rounded up to the store's allocation unit
  (Ceph's BlueStore allocates in units of ``bluestore_min_alloc_size``), the bytes saved are few in
  absolute terms, and every read of a coded object costs k requests instead of one. Amazon S3
  Intelligent-Tiering does not monitor or auto-tier objects under 128 KB: they stay in its Frequent Access
  tier, hence the default (:data:`DEFAULT_MIN_EC_BYTES`, 128 KiB).
* :class:`CostPolicy` (``cost``): the mode of least expected cost per video per month under a price table
  (:class:`PriceTable`): its stored bytes x the mode's storage price, plus its reads per month x chunks per
  view x requests per chunk read (1 replica, or k fragments) x the request price; leaving the current mode
  adds the conversion's bytes moved (read and written) x the price per GB moved, spread over ``horizon``
  seconds, so a video near the break-even does not flap. Every per-chunk figure (stored bytes, slots read,
  bytes read and written by a conversion) is asked of the manager's geometry (``geometry``), never
  re-derived here.

Units: a GB is 10^9 bytes, a month :data:`MONTH` (30 days); the read rate is the windowed count over the
migration window (views per second), so the scenario requires ``migration.popularity_measure: windowed``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from vstack_sim.system.modes import (
    MODE_ERASURE_CODING,
    MODE_REPLICATION,
    RedundancyMode,
    check_int,
)
from vstack_sim.system.policy_base import Policy, VideoView, codes

__all__ = [
    "DEFAULT_COST_HORIZON",
    "DEFAULT_COST_WINDOW",
    "DEFAULT_MIN_EC_BYTES",
    "DEFAULT_MOVED_PER_GB",
    "DEFAULT_REQUEST_PRICE",
    "DEFAULT_STORAGE_PER_GB_MONTH",
    "GB",
    "MONTH",
    "CostPolicy",
    "PriceTable",
    "SizePolicy",
]

_DAY = 86400.0
#: A month of the price table: 30 days, in seconds.
MONTH = 30 * _DAY
#: A GB of the price table: 10^9 bytes.
GB = 1e9

#: S3 Intelligent-Tiering keeps objects under 128 KB in its Frequent Access tier (read as KiB).
DEFAULT_MIN_EC_BYTES = 128 * 1024
#: Amazon S3 Standard, first 50 TB a month, us-east-1: $0.023 per GB-month (list price as of 2024).
DEFAULT_STORAGE_PER_GB_MONTH = 0.023
#: Amazon S3 Standard GET: $0.0004 per 1,000 requests (list price as of 2024).
DEFAULT_REQUEST_PRICE = 4e-7
#: Illustrative: AWS's data transfer between Availability Zones, $0.01 per GB each way (list price as of 2024).
DEFAULT_MOVED_PER_GB = 0.01
#: A conversion is paid back over one month (this simulator's choice).
DEFAULT_COST_HORIZON = MONTH
#: The migration window's default (7 days): the count a cost policy built without one reads over.
DEFAULT_COST_WINDOW = 7 * _DAY


def _price(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0 <= value < math.inf:
        raise ValueError(f"{name}: must be a finite price >= 0, got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class PriceTable:
    """What the cost policy pays, in dollars: storage per GB-month in each mode (equal unless a pool of one mode
    is priced apart), one request, one GB moved by a conversion."""

    storage_replication: float = DEFAULT_STORAGE_PER_GB_MONTH
    storage_erasure_coding: float = DEFAULT_STORAGE_PER_GB_MONTH
    request: float = DEFAULT_REQUEST_PRICE
    moved_per_gb: float = DEFAULT_MOVED_PER_GB

    def __post_init__(self):
        for field in dataclasses.fields(self):
            _price(field.name, getattr(self, field.name))

    def storage(self, mode: RedundancyMode) -> float:
        """Dollars per GB-month of bytes stored in ``mode``."""
        return self.storage_replication if mode is RedundancyMode.REPLICATION else self.storage_erasure_coding


class SizePolicy(Policy):
    """``size``: replication for a video under ``min_ec_bytes`` bytes, the ``base`` policy's mode for the others.

    Needs each video's bytes (``VideoView.sizes``). ``min_ec_bytes`` 0 leaves every video to ``base``.
    """

    name = "size"

    def __init__(self, base: Policy, min_ec_bytes: int = DEFAULT_MIN_EC_BYTES):
        if not isinstance(base, Policy):
            raise ValueError(f"base: must be a Policy, got {type(base).__name__}")
        self.base = base
        self.min_ec_bytes = check_int("min_ec_bytes", min_ec_bytes, 0)

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset(RedundancyMode)

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        if videos.sizes is None:
            raise ValueError("sizes: the size policy needs each video's bytes")
        small = np.asarray(videos.sizes) < self.min_ec_bytes
        return np.where(small, np.int8(MODE_REPLICATION), self.base.decide(videos, now)).astype(np.int8)

    def __repr__(self) -> str:
        return f"SizePolicy(min_ec_bytes={self.min_ec_bytes}, base={self.base!r})"


class CostPolicy(Policy):
    """``cost``: the mode of least expected cost a month per video (see the module's docstring for the sums).

    ``geometry`` is a :class:`~vstack_sim.system.manager.RedundancyManager` (anything with its ``chunk_size``,
    ``physical_bytes_per_chunk``, ``slot_bytes`` and ``min_slots_to_read``); ``window`` the seconds the view
    counts cover; ``horizon`` the seconds over which a conversion is paid back. A video has ceil(size / chunk
    size) chunks and a view reads all of them. Ties go to erasure coding (the cheaper storage); a video with a
    current mode leaves it only when the other mode plus the amortised conversion is strictly cheaper.
    """

    name = "cost"

    def __init__(self, geometry, window: float = DEFAULT_COST_WINDOW, prices: PriceTable | None = None,
                 horizon: float = DEFAULT_COST_HORIZON):
        for attr in ("chunk_size", "physical_bytes_per_chunk", "slot_bytes", "min_slots_to_read"):
            if not hasattr(geometry, attr):
                raise ValueError(f"geometry: must be a RedundancyManager (no {attr}), got {type(geometry).__name__}")
        self.geometry = geometry
        self.window = _seconds("window", window)
        self.horizon = _seconds("cost_horizon", horizon)
        self.prices = PriceTable() if prices is None else prices
        if not isinstance(self.prices, PriceTable):
            raise ValueError(f"prices: must be a PriceTable, got {type(self.prices).__name__}")

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset(RedundancyMode)

    def monthly_cost(self, mode: RedundancyMode, chunks: np.ndarray, views_per_second: np.ndarray) -> np.ndarray:
        """Dollars a month of videos of ``chunks`` chunks read at ``views_per_second``, kept in ``mode``."""
        g, p = self.geometry, self.prices
        stored = chunks * float(g.physical_bytes_per_chunk(mode)) / GB * p.storage(mode)
        requests = views_per_second * MONTH * chunks * g.min_slots_to_read(mode) * p.request
        return stored + requests

    def conversion_cost(self, source: RedundancyMode, target: RedundancyMode, chunks: np.ndarray) -> np.ndarray:
        """Dollars of converting videos of ``chunks`` chunks: each chunk's bytes read from ``source`` (one replica
        or k fragments) and written in ``target`` (its whole layout), x the price per GB moved."""
        g = self.geometry
        moved = g.slot_bytes(source) * g.min_slots_to_read(source) + g.physical_bytes_per_chunk(target)
        return chunks * float(moved) / GB * self.prices.moved_per_gb

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        if videos.sizes is None:
            raise ValueError("sizes: the cost policy needs each video's bytes")
        chunks = np.ceil(np.asarray(videos.sizes, dtype=np.float64) / self.geometry.chunk_size)
        rate = np.asarray(videos.view_counts, dtype=np.float64) / self.window
        rep, ec = RedundancyMode.REPLICATION, RedundancyMode.ERASURE_CODING
        cost_rep, cost_ec = self.monthly_cost(rep, chunks, rate), self.monthly_cost(ec, chunks, rate)
        if videos.current_modes is None:
            return codes(cost_rep < cost_ec)
        spread = MONTH / self.horizon                            # a conversion's share of each month
        current = np.asarray(videos.current_modes)
        to_rep = cost_rep + self.conversion_cost(ec, rep, chunks) * spread < cost_ec
        stay_rep = ~(cost_ec + self.conversion_cost(rep, ec, chunks) * spread < cost_rep)
        return codes(np.where(current == MODE_ERASURE_CODING, to_rep, stay_rep))

    def __repr__(self) -> str:
        return f"CostPolicy(window={self.window!r}, horizon={self.horizon!r}, prices={self.prices!r})"


def _seconds(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
        raise ValueError(f"{name}: must be a finite number of seconds > 0, got {value!r}")
    return float(value)
