"""GF(2^8) systematic Reed-Solomon erasure codec, byte-compatible with reedsolo.

(Placeholder module: the full codec is being written; ``fragment_size`` is final.)
"""

from __future__ import annotations


def fragment_size(chunk_size: int, data_shards: int) -> int:
    """Bytes in each fragment of a ``chunk_size``-byte chunk split into ``data_shards`` shards: ceil(n / k)."""
    if data_shards < 1:
        raise ValueError(f"data_shards must be >= 1, got {data_shards}")
    if chunk_size < 0:
        raise ValueError(f"chunk_size must be >= 0, got {chunk_size}")
    return -(-chunk_size // data_shards)
