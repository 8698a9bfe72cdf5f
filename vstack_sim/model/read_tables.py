"""The read path's records as tables: reads and views (docs/results.md).

A part of :class:`~vstack_sim.model.reads.ReadPath`, kept apart from the pump's hot loop.
"""

from __future__ import annotations

import numpy as np


class ReadTables:
    """The reads and views tables of the read path (mixed into ReadPath, whose state it uses)."""

    def _end_view(self, vid: int, failed: bool) -> None:
        video, _, requested, start, read, served = self.active.pop(vid)[:6]
        self.views.append(vid, start, video, requested, read, self.startup.pop(vid, float("nan")), failed, served)

    def column(self, name: str) -> np.ndarray:
        """One column of every read (label columns as codes), for summaries."""
        return self.table.column(name)

    def reads_frame(self, rows: np.ndarray | None = None):
        """The reads table, or the rows ``rows`` of it."""
        return self.table.to_frame(rows)

    def views_frame(self):
        """The views table, in view order (views end out of order)."""
        df = self.views.to_frame()
        return df.sort_values("view_id", kind="stable").reset_index(drop=True)
