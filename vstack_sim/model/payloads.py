"""Real bytes in the loop (``codec.verify_payloads``).

Every chunk carries bytes drawn from the ``payloads`` stream. At ingest the
real ``ErasureCoder`` encodes them; a repair really rebuilds the fragment with
``FragmentManager.reconstruct_fragment`` (or copies a replica after checking
its CRC32C); a degraded read really decodes; a conversion really decodes or
encodes. The store holds, for each live slot, the ``Fragment`` that a node
would hold. A final audit proves that every chunk not recorded as lost
decodes byte for byte, and that every lost one cannot.

This multiplies memory by the stored bytes, so it is meant for small chunk
sizes and catalogs (a limit guards against accidents).
"""

from __future__ import annotations

import google_crc32c
import numpy as np

from vstack_sim.system.codec import ErasureCoder, Fragment, FragmentManager, InsufficientFragmentsError
from vstack_sim.system.modes import MODE_REPLICATION

MAX_PAYLOAD_BYTES = 512 * 2**20


def _crc(data) -> str:
    return f"{google_crc32c.value(bytes(data)):08x}"


def check_payload_budget(chunks: int, chunk_size: int) -> None:
    """Refuse to carry more than MAX_PAYLOAD_BYTES of real chunk bytes (validate and run ask the same)."""
    total = chunks * chunk_size
    if total > MAX_PAYLOAD_BYTES:
        raise ValueError(f"codec.verify_payloads: the catalog holds {total:,} bytes; use a smaller "
                         f"catalog.chunk_size or fewer videos (limit {MAX_PAYLOAD_BYTES:,})")


class PayloadError(AssertionError):
    """The codec in the loop returned bytes that differ from the original: never expected."""


class PayloadStore:
    """Fragments per (chunk, slot), and the checks that use them."""

    def __init__(self, world):
        self.w = world
        check_payload_budget(world.catalog.chunks, world.chunk_size)
        red = world.cfg.redundancy
        self.coder = ErasureCoder(data_shards=red.data_shards, parity_shards=red.parity_shards)
        self.fm = FragmentManager(self.coder)
        self.original: list[bytes] = []
        self.slots: dict[tuple[int, int], Fragment] = {}
        self.repairs_verified = 0
        self.degraded_reads_verified = 0
        self.conversions_verified = 0

    def _layout(self, c: int, mode: int, data: bytes) -> list[Fragment]:
        if mode == MODE_REPLICATION:
            crc = _crc(data)
            r = int(self.w.state.mode_width[mode])
            return [Fragment(index=j, data=data, checksum=crc, chunk_size=len(data), chunk_checksum=crc)
                    for j in range(r)]
        return self.coder.encode_chunk(data)

    def ingest(self) -> None:
        w = self.w
        rng = w.rng.payloads
        size = w.chunk_size
        for c in range(w.catalog.chunks):
            data = rng.bytes(size)
            self.original.append(data)
            for j, frag in enumerate(self._layout(c, int(w.state.mode[c]), data)):
                self.slots[(c, j)] = frag

    def destroy_node(self, node: int) -> None:
        self.destroy_slots(*self.w.state.slots_on(node))

    def destroy_slots(self, c: np.ndarray, s: np.ndarray) -> None:
        """The bytes of these slots are gone (those the state no longer holds: a node's or a disk's)."""
        st = self.w.state
        for key in zip(c.tolist(), s.tolist(), strict=False):
            if not st.slot_has_data[key]:
                self.slots.pop(key, None)

    def _decode(self, c: int, slots) -> bytes:
        pairs = [(j, self.slots[(c, j)]) for j in slots if (c, j) in self.slots]
        return self.fm.reconstruct_chunk(pairs)

    def _check(self, c: int, data: bytes, what: str) -> None:
        if bytes(data) != self.original[c]:
            raise PayloadError(f"{what} of chunk {c} returned wrong bytes")

    def rebuild_slot(self, c: int, s: int, mode: int, sources) -> Fragment:
        """A repair's reads arrived: really rebuild slot s from the source slots it read (all must exist)."""
        src = [j for j, _ in sources]
        if mode == MODE_REPLICATION:
            frag = self.slots[(c, src[0])]
            if not frag.verify():
                raise PayloadError(f"replica {src[0]} of chunk {c} failed its checksum")
            return Fragment(index=s, data=frag.data, checksum=frag.checksum,
                            chunk_size=frag.chunk_size, chunk_checksum=frag.chunk_checksum)
        pairs = [(j, self.slots[(c, j)]) for j in src]
        return self.fm.reconstruct_fragment(pairs, s)

    def store_slot(self, c: int, s: int, fragment: Fragment) -> None:
        """A repair's write completed: the rebuilt slot exists."""
        self.slots[(c, s)] = fragment
        self.repairs_verified += 1

    def degraded_read(self, c: int, slots) -> None:
        """A degraded read used these fragments: decode them for real and compare."""
        self._check(c, self._decode(c, slots), "degraded read")
        self.degraded_reads_verified += 1

    def chunk_bytes(self, c: int, mode: int, sources) -> bytes:
        """The chunk as a conversion read it from these source slots (copied, or decoded for real)."""
        if mode == MODE_REPLICATION:
            frag = self.slots[(c, sources[0])]
            if not frag.verify():
                raise PayloadError(f"replica {sources[0]} of chunk {c} failed its checksum")
            data = bytes(frag.data)
        else:
            data = self._decode(c, sources)
        self._check(c, data, "conversion")
        return data

    def convert(self, c: int, new_mode: int, data: bytes) -> None:
        """A conversion committed: the old layout is dropped and ``data`` written in the new one."""
        for j in range(self.w.state.width):
            self.slots.pop((c, j), None)
        for j, frag in enumerate(self._layout(c, new_mode, data)):
            self.slots[(c, j)] = frag
        self.conversions_verified += 1

    def audit(self) -> dict:
        """Every chunk not lost decodes byte for byte from the slots that exist; every lost one cannot. Chunks not
        stored (deleted) are neither."""
        w = self.w
        st = w.state
        ok = unrecoverable_lost = 0
        for c in np.flatnonzero(~st.absent).tolist():
            mode = int(st.mode[c])
            width = int(st.mode_width[mode])
            live = [j for j in range(width) if st.slot_has_data[c, j] and (c, j) in self.slots]
            if st.lost[c]:
                if mode == MODE_REPLICATION:
                    if live:
                        raise PayloadError(f"lost chunk {c} still has a replica")
                    unrecoverable_lost += 1
                    continue
                try:
                    self._decode(c, live)
                except InsufficientFragmentsError:
                    unrecoverable_lost += 1
                    continue
                raise PayloadError(f"chunk {c} is recorded as lost but still decodes")
            if mode == MODE_REPLICATION:
                frags = [self.slots[(c, j)] for j in live]
                good = [f for f in frags if f.verify()]
                if not good:
                    raise PayloadError(f"chunk {c} has no valid replica")
                for f in good:
                    self._check(c, bytes(f.data), "audit")
            else:
                self._check(c, self._decode(c, live), "audit")
            ok += 1
        return {"chunks_recovered": ok, "lost_chunks_unrecoverable": unrecoverable_lost,
                "repairs_verified": self.repairs_verified,
                "degraded_reads_verified": self.degraded_reads_verified,
                "conversions_verified": self.conversions_verified}
