"""Which k of a chunk's n slots to read, and what decoding them costs: one rule for reads,
repair and conversion.

A replicated chunk needs 1 replica and never decodes. An erasure-coded chunk
needs k fragments; the codec says which to prefer (:func:`~vstack_sim.system.codec.systematic_order`:
data fragments first) and when the chunk must be decoded
(:func:`~vstack_sim.system.codec.needs_decode`: a parity fragment among those used).
Rebuilding a fragment (repair) always runs the decoder over the k fragments read.
Decode time is bytes read / decode throughput.
"""

from __future__ import annotations

from vstack_sim.system.codec import needs_decode, systematic_order
from vstack_sim.system.modes import MODE_REPLICATION


def choose(mode: int, usable, need: int, *, extra: int = 0, preferred=None) -> list[int]:
    """The slots to read among ``usable`` (slot indices): ``need`` of them, plus ``extra`` for
    late binding. ``preferred`` is the caller's order (say least queued first); without it a
    coded chunk is read in the codec's systematic order and a replicated one in slot order."""
    if preferred is not None:
        order = list(preferred)
    elif mode == MODE_REPLICATION:
        order = list(usable)
    else:
        order = systematic_order(usable, need)
    return order[:need + extra]


def decode_time(mode: int, used, k: int, nbytes: float, decode_per_byte: float, rebuild: bool = False) -> float:
    """Seconds of decoding after reading ``nbytes`` from slots ``used`` (the first k to arrive)."""
    if mode == MODE_REPLICATION:
        return 0.0
    if rebuild or needs_decode(used, k):
        return nbytes * decode_per_byte
    return 0.0
