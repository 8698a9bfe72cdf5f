"""A cache in front of the store (``cache``): whole chunks, a byte capacity, LRU eviction.

A read whose chunk is cached is a hit: it takes ``cache.hit_latency`` + chunk bytes / ``cache.bandwidth``
and touches no disk and no node NIC; it is a read kind of its own (``cache``). A miss reads the store as
usual, and the chunk enters the cache when its store read is sent and will succeed (so a second request
of a chunk during the first one's fetch counts as a hit: a simplification, as if requests were coalesced);
a read that fails (unavailable, lost) or times out at a failed node admits nothing, its retry may. Least
recently used chunks are evicted until the new one fits. Off (capacity 0) by default in the engine; a video service puts
its CDN or front-end caches here.
"""

from __future__ import annotations

from collections import OrderedDict


class ChunkCache:
    """An LRU cache of whole chunks of ``chunk_bytes`` each, ``capacity`` bytes in all."""

    def __init__(self, capacity: int, chunk_bytes: int):
        self.slots = capacity // chunk_bytes
        self.lru: OrderedDict[int, None] = OrderedDict()
        self.hits = [0, 0]          # by the chunk's mode: replication, erasure_coding
        self.misses = [0, 0]

    def lookup(self, chunk: int, mode: int) -> bool:
        """Whether ``chunk`` is cached (a hit, now the most recent); a miss is counted and admits nothing."""
        lru = self.lru
        if chunk in lru:
            lru.move_to_end(chunk)
            self.hits[mode] += 1
            return True
        self.misses[mode] += 1
        return False

    def discard(self, chunks) -> None:
        """These chunks are no longer stored (their video was deleted): they leave the cache, as a delete
        purges a CDN's copies, so no read is served them and they hold no room."""
        lru = self.lru
        for c in chunks.tolist():
            lru.pop(c, None)

    def admit(self, chunk: int) -> None:
        """``chunk`` enters the cache (its store read succeeds), as the most recent; the least recent leave."""
        if self.slots > 0:
            lru = self.lru
            lru[chunk] = None
            lru.move_to_end(chunk)
            if len(lru) > self.slots:
                lru.popitem(last=False)
