"""Arrival streams drawn in blocks: the buffer every view source shares, and how many chunks a view watches.

A source refills its buffer with a block of (time, video, chunks to watch) arrivals in time order and hands
them out one at a time, so each stream draws from its own generator in vectorised batches whatever the reads do
(common random numbers across policies).
"""

from __future__ import annotations

import numpy as np


def chunks_watched(fractions: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """Chunks a view watches: its fraction of the video's chunks, rounded up, at least one."""
    return np.clip(np.ceil(fractions * chunks - 1e-9), 1, chunks).astype(np.int64)


class BufferedArrivals:
    """A stream that hands out a buffer of arrivals and refills it (``_refill``) until ``t`` passes ``end``."""

    t: float
    end: float

    def __init__(self) -> None:
        self._buf: list = []
        self._pos = 0

    def _refill(self) -> None:
        raise NotImplementedError

    def next(self):
        """The next arrival, or None when the stream has ended."""
        while self._pos >= len(self._buf):
            if self.t >= self.end:
                return None
            self._refill()
        item = self._buf[self._pos]
        self._pos += 1
        return item
