"""``FragmentManager``: turning fragments read back from storage into the chunk, or into a lost fragment.

Reading is where trust ends, so every fragment is checked before use:

1. structure: pair index = ``fragment.index``, no duplicates, index in range, the
   right length for the chunk the fragment claims; violations are caller bugs and
   raise ``ValueError``;
2. each fragment's CRC32C against its stored checksum; rotten fragments are skipped;
3. fragments are grouped by the chunk they claim (size and checksum): the chunk is
   decoded from the group of at least k that agree, and fragments of other chunks
   among more than k are ignored (two groups of k are ambiguous and refused);
4. after decoding, the CRC32C of the result against the chunk checksum, and the zero
   padding of the last data shards (the chunk checksum does not cover it, and a
   rebuilt parity fragment is computed from it). If either fails (e.g. a fragment
   of another chunk with copied metadata, or edited padding with a recomputed CRC),
   other combinations of k valid fragments are tried (up to ``MAX_COMBINATIONS``);
   if none passes, nothing is returned.

So ``reconstruct_chunk`` returns the original bytes or raises, and
``reconstruct_fragment`` never rebuilds a fragment other than the encoded one,
for any random corruption (CRC32C is no defence against deliberate forgery).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations, islice

import numpy as np

from vstack_sim.system.codec.checksum import crc32c_hex
from vstack_sim.system.codec.coder import DecodeFailure, ErasureCoder
from vstack_sim.system.codec.fragment import Fragment, InsufficientFragmentsError, fragment_size

# When the decoded bytes miss the chunk checksum, at most this many other k-subsets are tried.
MAX_COMBINATIONS = 5000


class FragmentManager:
    """Reconstructs chunks and single fragments for one :class:`ErasureCoder`'s code."""

    def __init__(self, coder: ErasureCoder) -> None:
        if not isinstance(coder, ErasureCoder):
            raise ValueError(f"coder must be an ErasureCoder, got {type(coder).__name__}")
        self._coder = coder

    @property
    def coder(self) -> ErasureCoder:
        return self._coder

    def __repr__(self) -> str:
        return f"FragmentManager({self._coder!r})"

    def reconstruct_chunk(self, pairs) -> bytes:
        """The original chunk from ``[(index, fragment), ...]`` (or ``{index: fragment}``).

        Needs k fragments that pass their checksums; more are welcome (they can make
        decoding cheaper, and are fallbacks if a combination misses the chunk checksum).
        """
        chunk, _ = self._decode(pairs)
        return chunk

    def reconstruct_fragment(self, pairs, index: int) -> Fragment:
        """Rebuild fragment ``index`` (data or parity) from ``[(index, fragment), ...]``.

        The chunk is decoded and checked against its checksum first, so a rebuilt
        fragment never comes from inconsistent inputs.
        """
        coder = self._coder
        n = coder.total_shards
        if type(index) is not int or not 0 <= index < n:
            raise ValueError(f"index must be an int in [0, {n}), got {index!r}")
        chunk, shards = self._decode(pairs)
        k = coder.data_shards
        size = fragment_size(len(chunk), k)
        if index < k:
            data = np.zeros(size, dtype=np.uint8)
            piece = chunk[index * size : (index + 1) * size]
            data[: len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        else:
            data = np.empty(size, dtype=np.uint8)
            avail = {j: shards[j] for j in range(k)}
            coder._recover(avail, (index,), [data])
        data.flags.writeable = False
        return Fragment(index, memoryview(data), crc32c_hex(data), len(chunk), crc32c_hex(chunk))

    # -- internals ------------------------------------------------------------

    def _decode(self, pairs) -> tuple[bytes, list[np.ndarray]]:
        """(chunk, its k data shards as arrays), checked against the chunk checksum."""
        coder = self._coder
        k, n = coder.data_shards, coder.total_shards
        fragments = self._validated(pairs)
        valid: dict[int, np.ndarray] = {}
        corrupt: list[int] = []
        for index, fragment in fragments.items():
            if fragment.verify():
                valid[index] = np.frombuffer(fragment.data, dtype=np.uint8)
            else:
                corrupt.append(index)
        corrupt.sort()
        groups: dict[tuple[int, str], list[int]] = {}
        for index in valid:
            f = fragments[index]
            groups.setdefault((f.chunk_size, f.chunk_checksum), []).append(index)
        claimed = {(f.chunk_size, f.chunk_checksum) for f in fragments.values()}
        mixed = ""
        if len(claimed) > 1:
            mixed = "fragments of different chunks (" + ", ".join(
                f"{sum(1 for f in fragments.values() if (f.chunk_size, f.chunk_checksum) == c)} of chunk "
                f"{c[1]}/{c[0]} B" for c in sorted(claimed, key=lambda c: (c[1], c[0]))) + "); "
        enough = [g for g in groups.values() if len(g) >= k]
        if len(enough) > 1:  # the caller's chunk cannot be told from the other
            raise ValueError(f"{mixed}ambiguous: at least {k} valid fragments agree on each of two chunks")
        if not enough:
            largest = max((len(g) for g in groups.values()), default=0)
            raise InsufficientFragmentsError(
                f"cannot reconstruct chunk: {mixed}{largest} valid fragment(s), need {k} of {n}; "
                f"corrupt fragment indices: {corrupt or 'none'}",
                valid=largest,
                needed=k,
                corrupt=tuple(corrupt),
            )
        agreeing = enough[0]
        valid = {i: valid[i] for i in sorted(agreeing)}
        first = fragments[agreeing[0]]
        chunk_size, chunk_checksum = first.chunk_size, first.chunk_checksum

        # First try: all valid fragments at once (the planner may use more than k to save work).
        attempt = self._attempt(valid, chunk_size, chunk_checksum)
        if attempt is not None:
            return attempt
        tried = 1
        if len(valid) > k:
            for combo in islice(combinations(sorted(valid), k), MAX_COMBINATIONS):
                tried += 1
                attempt = self._attempt({i: valid[i] for i in combo}, chunk_size, chunk_checksum)
                if attempt is not None:
                    return attempt
        raise InsufficientFragmentsError(
            f"cannot reconstruct chunk: {len(valid)} valid fragment(s) but no {k} of them decode to the "
            f"chunk checksum {chunk_checksum} (fragments of different chunks?; tried {tried} "
            f"combination(s)); need {k} consistent; corrupt fragment indices: {corrupt or 'none'}",
            valid=len(valid),
            needed=k,
            corrupt=tuple(corrupt),
        )

    def _attempt(self, avail: dict[int, np.ndarray], chunk_size: int, chunk_checksum: str):
        coder = self._coder
        k = coder.data_shards
        size = fragment_size(chunk_size, k)
        missing = tuple(j for j in range(k) if j not in avail)
        shards = [avail.get(j) for j in range(k)]
        if missing:
            outputs = coder._work_buffers(len(missing), size)
            try:
                coder._recover(avail, missing, outputs)
            except DecodeFailure:
                return None
            for j, out in zip(missing, outputs, strict=False):
                shards[j] = out
        pieces = []
        for j, shard in enumerate(shards):
            take = min(size, chunk_size - j * size)
            if take <= 0:
                break
            pieces.append(shard if take == size else shard[:take])
        chunk = b"".join(pieces)
        if crc32c_hex(chunk) != chunk_checksum:
            return None
        # The chunk checksum ends at the chunk's last byte; the rest of the last shards is zero padding.
        # Given shards with edited padding would pass it and then yield wrong parity on a rebuild.
        for j in range(k):
            real = max(0, chunk_size - j * size)
            if real < size and shards[j][real:].any():
                return None
        return chunk, shards

    def _check_size(self, fragment: Fragment) -> None:
        k = self._coder.data_shards
        expected = fragment_size(fragment.chunk_size, k)
        if fragment.size != expected:
            raise ValueError(
                f"fragment {fragment.index} has {fragment.size} bytes, expected {expected} "
                f"for a {fragment.chunk_size}-byte chunk with k={k}"
            )

    def _validated(self, pairs) -> dict[int, Fragment]:
        coder = self._coder
        k, n = coder.data_shards, coder.total_shards
        fragments: dict[int, Fragment] = {}
        if isinstance(pairs, Mapping):
            pairs = pairs.items()
        for pair in pairs:
            try:
                index, fragment = pair
            except (TypeError, ValueError):
                raise ValueError(f"expected (index, Fragment) pairs, got {pair!r}") from None
            if not isinstance(fragment, Fragment):
                raise ValueError(f"expected (index, Fragment) pairs, got a {type(fragment).__name__} "
                                 f"at index {index!r}")
            if type(index) is not int or index != fragment.index:
                raise ValueError(f"pair index {index!r} disagrees with fragment.index {fragment.index}")
            if not 0 <= index < n:
                raise ValueError(f"fragment index {index} out of range for {n} fragments (k={k}, m={n - k})")
            if index in fragments:
                raise ValueError(f"duplicate fragment index {index}")
            self._check_size(fragment)
            fragments[index] = fragment
        if not fragments:
            raise InsufficientFragmentsError(
                f"cannot reconstruct chunk: 0 valid fragments, need {k} of {n}; corrupt fragment indices: none",
                valid=0,
                needed=k,
            )
        return fragments
