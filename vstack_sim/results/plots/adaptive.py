"""Figures of the adaptive policy at work: views by popularity rank against the threshold, and the
migrations between modes that popularity drives.

(Not ``popularity.py``: a submodule of that name would be shadowed by the package's ``popularity`` figure.)
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from vstack_sim.results.plots.common import (
    MODE_COLORS,
    new_figure,
    no_data,
    table,
    time_axis,
    title,
)


def popularity(run) -> Figure:
    """Rank against views, log-log: starting and final view counts, with the popularity threshold."""
    videos = table(run, "videos")
    fig, (ax,) = new_figure()
    if videos.empty:
        no_data(ax, "no videos")
    else:
        for col, label in (("starting_views", "at ingest"), ("view_count", "at the end")):
            counts = np.sort(videos[col].to_numpy(dtype=float))[::-1]
            rank = np.arange(1, len(counts) + 1)
            keep = counts > 0  # log scale
            ax.plot(rank[keep], counts[keep], label=label)
        ax.axhline(run.config.redundancy.popularity_threshold, color="0.4", linestyle=":",
                   label=f"threshold ({run.config.redundancy.popularity_threshold:,} views)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=9)
    ax.set_xlabel("popularity rank")
    ax.set_ylabel("views")
    title(fig, run, "Popularity")
    return fig


def migrations_over_time(run) -> Figure:
    """Cumulative finished conversions by direction over the run."""
    mig = table(run, "migrations")
    scale, xlabel = time_axis(run)
    fig, (ax,) = new_figure()
    if mig.empty:
        no_data(ax, "no migrations")
    else:
        for mode, label in (("replication", "to replication"), ("erasure_coding", "to erasure coding")):
            t = np.sort(mig.loc[mig["to_mode"] == mode, "end_s"].to_numpy(dtype=float))
            if len(t):
                ax.step(np.r_[0.0, t / scale], np.arange(len(t) + 1), where="post",
                        color=MODE_COLORS[mode], label=f"{label} ({len(t):,})")
        ax.legend(fontsize=9, loc="upper left")
    ax.set_xlim(0, run.config.run.duration / scale)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("videos converted (cumulative)")
    title(fig, run, "Migrations")
    return fig
