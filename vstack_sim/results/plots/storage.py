"""Storage figures: physical bytes by mode against the all-replication and all-EC baselines, and
storage over the run; :func:`storage_baselines` gives the baselines' bytes from the real ledger."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from vstack_sim.results.plots.common import (
    MODE_COLORS,
    byte_unit,
    new_figure,
    no_data,
    table,
    time_axis,
    title,
)
from vstack_sim.system.ledger import StorageLedger


def storage_baselines(run) -> dict:
    """All-replication and all-EC physical bytes of the run's chunks, asked of the real ledger.

    ``{"chunks", "all_replication", "all_erasure_coding", "per_chunk_savings_percent"}``; the report's
    conclusion and :func:`storage_by_mode` use these, so neither redoes the storage arithmetic.
    """
    ledger = StorageLedger.for_settings(run.config.redundancy, run.config.catalog.chunk_size)
    start = run.summary["storage_initial"]
    chunks = int(start["replication_chunks"] + start["erasure_coded_chunks"])
    return {"chunks": chunks, "all_replication": ledger.all_replication_bytes(chunks),
            "all_erasure_coding": ledger.all_erasure_coding_bytes(chunks),
            "per_chunk_savings_percent": round(ledger.per_chunk_savings_percent(), 2), "ledger": ledger}


def storage_by_mode(run) -> Figure:
    """Physical bytes at the start and the end, by mode, against all-replication and all-EC (the V-Stack design's table)."""  # noqa: E501 (the report's caption)
    cfg = run.config
    red = cfg.redundancy
    start, end = run.summary["storage_initial"], run.summary["storage"]
    base = storage_baselines(run)
    chunks, all_rep, all_ec = base["chunks"], base["all_replication"], base["all_erasure_coding"]
    ledger = base["ledger"]
    end_chunks = int(end["replication_chunks"] + end["erasure_coded_chunks"])
    # A living catalog (uploads, deletes) ends with other chunks than it started with: its end bar is those.
    bars = [("all replication", all_rep, 0, chunks),
            (f"{red.policy}, start", start["replication_overhead_bytes"], start["erasure_overhead_bytes"], chunks),
            (f"{red.policy}, end" + ("" if end_chunks == chunks else f"\n({end_chunks:,} chunks)"),
             end["replication_overhead_bytes"], end["erasure_overhead_bytes"], end_chunks),
            ("all erasure coding", 0, all_ec, chunks)]
    fig, (ax,) = new_figure()
    unit, uname = byte_unit(max(all_rep, all_ec))
    names = [b[0] for b in bars]
    rep = np.array([b[1] for b in bars], dtype=float) / unit
    ec = np.array([b[2] for b in bars], dtype=float) / unit
    ax.bar(names, rep, color=MODE_COLORS["replication"], label=f"replicated ({red.replication_factor} copies)")
    ax.bar(names, ec, bottom=rep, color=MODE_COLORS["erasure_coding"],
           label=f"erasure coded RS({red.data_shards},{red.parity_shards})")
    for i, total in enumerate(rep + ec):
        saving = ledger.savings_percent(total * unit, bars[i][3])
        ax.text(i, total, f"{total:,.2f} {uname}\n{saving:.2f} % saved", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel(f"physical bytes ({uname})")
    ax.set_xlabel("layout of the same chunks" if end_chunks == chunks else
                  "layout of the starting chunks; the end bar: the chunks stored at the end")
    ax.set_ylim(0, max(max(rep + ec), 1e-9) * 1.25)
    ax.legend(loc="upper right", fontsize=9)
    title(fig, run, f"Storage of {chunks:,} chunks ({start['total_logical_bytes'] / unit:,.2f} {uname} logical)")
    return fig


def storage_over_time(run) -> Figure:
    """Nominal and held physical bytes, and the savings against all-replication, over the run."""
    tl = table(run, "storage_timeline")
    scale, xlabel = time_axis(run)
    fig, (top, bottom) = new_figure(2, sharex=True, height=6.0)
    if tl.empty:
        no_data(top, "no storage timeline")
        top.set_ylabel("physical bytes")
    else:
        t = tl["time_s"] / scale
        unit, uname = byte_unit(float(tl["held_bytes"].max()))
        top.plot(t, tl["total_physical_bytes"] / unit, label="nominal layout")
        top.plot(t, tl["held_bytes"] / unit, linestyle="--", label="held (incl. stale copies, both layouts)")
        top.plot(t, tl["total_logical_bytes"] / unit, color="0.5", linewidth=0.8, label="logical")
        top.set_ylim(bottom=0)
        top.legend(fontsize=8, loc="lower right")
        savings = tl["storage_savings_percent"].to_numpy(dtype=float)
        bottom.plot(t, savings, color="tab:green")
        # From 0, so a drift of a fraction of a point is not drawn as a cliff; the change is written out.
        bottom.set_ylim(0, max(float(np.nanmax(savings)) * 1.2, 1.0))
        change = savings[-1] - savings[0]
        bottom.text(0.02, 0.08, f"{savings[0]:.2f} % at the start, {savings[-1]:.2f} % at the end "
                    f"({change:+.2f} points)", transform=bottom.transAxes, fontsize=9)
        top.set_ylabel(f"physical bytes ({uname})")
    bottom.set_ylabel("savings vs all-replication (%)")
    bottom.set_xlabel(xlabel)
    title(fig, run, "Storage over time")
    return fig
