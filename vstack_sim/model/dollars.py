"""What a run costs in dollars, at the scenario's ``prices``: the summary's ``cost`` block.

* **storage**: each mode's physical bytes (replicas or fragments; the ledger's ``replication_overhead_bytes`` and
  ``erasure_overhead_bytes``) integrated over the run from the storage timeline, each sample holding until the
  next (exact for a catalog that changes only at samples), at that mode's price per GB-month;
* **read requests**: one per replica read (hedges included), one per fragment of a coded read (k, plus the extra
  fragments of late binding); a cache hit or a failed read makes none. An attempt a failure interrupted is not
  counted;
* **traffic**: the bytes repairs and conversions moved (read plus written, on the disks), at the price per GB
  moved, as the ``cost`` policy prices a conversion.

A GB is 10^9 bytes and a month 30 days, as in :mod:`vstack_sim.system.cost_policies`.
"""

from __future__ import annotations

import numpy as np

from vstack_sim.system.cost_policies import GB, MONTH


def storage_gb_months(times: np.ndarray, values: np.ndarray, t_end: float) -> float:
    """GB-months of a byte series sampled at ``times`` (each sample holding until the next, the last to t_end)."""
    if not len(times):
        return 0.0
    spans = np.diff(np.append(times, max(t_end, float(times[-1]))))
    return float((values * spans).sum()) / GB / MONTH


def cost_summary(sim, tables: dict, conversions: dict) -> dict:
    """The ``cost`` block (docs/results.md) of a finished run."""
    w, cfg, reads = sim.world, sim.config, sim.reads
    prices = cfg.effective_prices().table()
    tl = tables["storage_timeline"]
    times = tl["time_s"].to_numpy(dtype=np.float64)
    gb_months = {mode: storage_gb_months(times, tl[column].to_numpy(dtype=np.float64), sim.end_time)
                 for mode, column in (("replication", "replication_overhead_bytes"),
                                      ("erasure_coding", "erasure_overhead_bytes"))}
    storage = {"replication": gb_months["replication"] * prices.storage_replication,
               "erasure_coding": gb_months["erasure_coding"] * prices.storage_erasure_coding}
    kind = reads.column("kind")
    replicated, coded = int(np.count_nonzero(kind == 0)), int(np.count_nonzero((kind == 1) | (kind == 2)))
    requests = replicated + reads.hedges_sent + w.k * coded + reads.late_extra_fragments
    repair_bytes = int(w.repair.bytes_read) + int(w.repair.bytes_written)
    conversion_bytes = int(conversions["bytes_read"]) + int(conversions["bytes_written"])
    traffic = (repair_bytes + conversion_bytes) / GB * prices.moved_per_gb
    total = sum(storage.values()) + requests * prices.request + traffic
    out = {
        "prices": {"storage_per_gb_month": {"replication": prices.storage_replication,
                                            "erasure_coding": prices.storage_erasure_coding},
                   "request": prices.request, "moved_per_gb": prices.moved_per_gb},
        "storage_gb_months": gb_months,
        "storage_dollars": storage,
        "read_requests": requests,
        "read_request_dollars": requests * prices.request,
        "moved_gb": {"repair": repair_bytes / GB, "conversion": conversion_bytes / GB},
        "traffic_dollars": traffic,
        "total_dollars": total,
    }
    if cfg.cluster.pools:                  # each pool's bill: the storage of the modes it holds
        by_pool = dict.fromkeys((p.name for p in cfg.cluster.pools), 0.0)
        for mode, dollars in storage.items():
            by_pool[cfg.cluster.mode_pools[mode]] += dollars
        out["storage_dollars_by_pool"] = by_pool
    return out
