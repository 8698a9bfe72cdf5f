"""Fragments: one shard of an erasure-coded chunk, with the checksums that make rot detectable.

A chunk of n bytes coded with k data shards becomes k + m fragments of
``fragment_size(n, k)`` bytes each. A fragment carries its own CRC32C and the size and
CRC32C of the whole chunk it came from, so that a reader can (a) skip a fragment whose
bytes rotted, and (b) refuse to combine fragments of different chunks.

A ``Fragment`` built from storage keeps the checksum it is given: it is never
recomputed on construction, otherwise rotten bytes would certify themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from vstack_sim.system.codec.checksum import crc32c_hex, is_hex_checksum


def fragment_size(chunk_size: int, data_shards: int) -> int:
    """Bytes in each fragment of a ``chunk_size``-byte chunk split into ``data_shards`` shards: ceil(n / k)."""
    if data_shards < 1:
        raise ValueError(f"data_shards must be >= 1, got {data_shards}")
    if chunk_size < 0:
        raise ValueError(f"chunk_size must be >= 0, got {chunk_size}")
    return -(-chunk_size // data_shards)


def systematic_order(available, k: int) -> list[int]:
    """Fragment indices in the order a reader should prefer them: the code is systematic
    (fragments 0 .. k-1 are the chunk's data, as cut), so data fragments first, then parity."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return sorted(int(i) for i in available)


def needs_decode(indices, k: int) -> bool:
    """Whether getting the chunk from these fragments takes a decode: only when one is parity
    (index >= k); the k data fragments alone are the chunk."""
    return any(i >= k for i in indices)


class InsufficientFragmentsError(ValueError):
    """Fewer than k fragments are valid (or no k of them agree with the chunk checksum)."""

    def __init__(self, message: str, valid: int, needed: int, corrupt: tuple[int, ...] = ()):
        # Every field is in ``args``: pickle and SimPy rebuild an exception as ``type(e)(*e.args)``.
        super().__init__(message, valid, needed, tuple(corrupt))
        self.valid = valid
        self.needed = needed
        self.corrupt = tuple(corrupt)

    def __str__(self) -> str:
        return str(self.args[0])


def _as_bytes_view(data) -> memoryview:
    if type(data) is memoryview and data.readonly and data.format == "B" and data.ndim == 1:
        return data
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"data must be a bytes-like object, got {type(data).__name__}") from None
    if not view.c_contiguous:
        raise ValueError("data must be a contiguous buffer")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view.toreadonly()


@dataclass(frozen=True, slots=True)
class Fragment:
    """Fragment ``index`` of a chunk (data fragments first, then parity).

    ``data`` is exposed as a read-only memoryview (possibly sharing memory with the
    chunk or with the other parity fragments of the same encode); ``bytes(f.data)``
    copies it out. ``checksum`` is the CRC32C of ``data`` and ``chunk_checksum`` the
    CRC32C of the original chunk, both as 8 lowercase hex digits.
    """

    index: int
    data: memoryview
    checksum: str
    chunk_size: int
    chunk_checksum: str

    def __post_init__(self) -> None:
        if type(self.index) is not int or self.index < 0:
            raise ValueError(f"index must be an int >= 0, got {self.index!r}")
        if type(self.chunk_size) is not int or self.chunk_size < 0:
            raise ValueError(f"chunk_size must be an int >= 0, got {self.chunk_size!r}")
        if not is_hex_checksum(self.checksum):
            raise ValueError(f"checksum must be 8 lowercase hex digits (CRC32C), got {self.checksum!r}")
        if not is_hex_checksum(self.chunk_checksum):
            raise ValueError(f"chunk_checksum must be 8 lowercase hex digits (CRC32C), got {self.chunk_checksum!r}")
        object.__setattr__(self, "data", _as_bytes_view(self.data))

    @classmethod
    def _trusted(cls, index: int, data: memoryview, checksum: str, chunk_size: int, chunk_checksum: str) -> Fragment:
        """Construction without validation, for fields the encoder just computed (read-only byte views)."""
        self = object.__new__(cls)
        for name, value in zip(("index", "data", "checksum", "chunk_size", "chunk_checksum"),
                               (index, data, checksum, chunk_size, chunk_checksum), strict=False):
            object.__setattr__(self, name, value)
        return self

    @property
    def size(self) -> int:
        """Bytes of fragment data."""
        return self.data.nbytes

    def verify(self) -> bool:
        """True when the data still matches the stored checksum (recomputed on every call)."""
        return crc32c_hex(self.data) == self.checksum

    def __reduce__(self):
        # memoryviews do not pickle: ship the bytes (with the stored checksum, unverified).
        return (Fragment, (self.index, bytes(self.data), self.checksum, self.chunk_size, self.chunk_checksum))

    def __repr__(self) -> str:
        return (
            f"Fragment(index={self.index}, size={self.size}, checksum={self.checksum!r}, "
            f"chunk_size={self.chunk_size}, chunk_checksum={self.chunk_checksum!r})"
        )
