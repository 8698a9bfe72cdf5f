"""GF(2^8) systematic Reed-Solomon erasure codec, byte-compatible with reedsolo.

``ErasureCoder(k, m).encode_chunk(chunk)`` cuts a chunk into k data fragments and adds
m parity fragments, each carrying CRC32C checksums of itself and of the chunk;
``FragmentManager(coder).reconstruct_chunk(pairs)`` gets the chunk back from any k
fragments that pass their checksums, and ``reconstruct_fragment`` rebuilds one lost
fragment for repair.

Modules: :mod:`.gf` (field arithmetic, generator matrix), :mod:`.kernel` (fast NumPy
evaluation of shard combinations), :mod:`.checksum`, :mod:`.fragment`, :mod:`.coder`,
:mod:`.manager`.
"""

from __future__ import annotations

from vstack_sim.system.codec.coder import BACKENDS, ErasureCoder
from vstack_sim.system.codec.fragment import (
    Fragment,
    InsufficientFragmentsError,
    fragment_size,
    needs_decode,
    systematic_order,
)
from vstack_sim.system.codec.manager import FragmentManager

__all__ = [
    "BACKENDS",
    "ErasureCoder",
    "Fragment",
    "FragmentManager",
    "InsufficientFragmentsError",
    "fragment_size",
    "needs_decode",
    "systematic_order",
]
