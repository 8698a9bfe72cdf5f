"""``ErasureCoder``: systematic Reed-Solomon RS(k, m) over GF(2^8), byte-identical to reedsolo.

A chunk of n bytes is cut into k contiguous shards of s = ceil(n / k) bytes (the last
ones zero-padded) and m parity shards are added, so that byte i of fragment j is byte
j of ``reedsolo.RSCodec(m, nsize=k+m).encode(bytes(shard[i] for shard in shards))``.
Any k of the k + m fragments give the chunk back.

Two backends compute the same bytes:

* ``"numpy"`` (default): whole shards at once with :mod:`vstack_sim.system.codec.kernel`;
  data fragments are zero-copy views of the chunk, parity fragments share one
  allocation, the lookup tables and per-erasure-pattern plans are cached;
* ``"reedsolo"``: the reference, one codeword (one byte column) at a time through
  reedsolo itself; about a megabyte per second, for tests and comparisons.
"""

from __future__ import annotations

import ctypes
import os
import sys
from itertools import combinations, islice

import numpy as np

from vstack_sim.system.codec import gf, kernel
from vstack_sim.system.codec.checksum import address_of, crc32c_at, crc32c_hex
from vstack_sim.system.codec.fragment import Fragment, fragment_size

BACKENDS = ("numpy", "reedsolo")

# At most this many choices of parity fragments are costed when more than needed are available.
_MAX_BASES = 24
_MAX_CACHED_PROGRAMS = 4096


class DecodeFailure(Exception):
    """The backend found the given fragments inconsistent (they are not one codeword)."""


_MALLOC_ENV = ("MALLOC_TOP_PAD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")
_M_TOP_PAD, _M_MMAP_THRESHOLD = -2, -3  # glibc mallopt parameters
_TOP_PAD_BYTES = 64 * 2**20
_MMAP_THRESHOLD_BYTES = 32 * 2**20  # the ceiling glibc's own dynamic threshold would reach
_malloc_tuned = False


def _keep_freed_memory() -> None:
    """Ask glibc to serve blocks below 32 MiB from the heap and keep 64 MiB of freed heap.

    Every encode returns a fresh parity block and every decode a fresh chunk (about 2
    MiB each). With glibc's defaults the memory freed after one call is often handed
    back to the kernel (mmap'd blocks, or heap trimmed above 2x the last mmap size),
    and the next call page-faults on each of its ~500 pages, which costs more than the
    coding itself. This is what ``MALLOC_TOP_PAD_`` and ``MALLOC_MMAP_THRESHOLD_``
    would do, done once per process so that nobody has to set them. Both are needed:
    any mallopt() call freezes glibc's dynamic mmap threshold, at 128 KiB if nothing
    raised it yet. Skipped off glibc, when the user tuned malloc through the
    environment, or with ``VSTACK_SIM_KEEP_FREED_MEMORY=0``.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return
    _malloc_tuned = True
    if not sys.platform.startswith("linux") or os.environ.get("VSTACK_SIM_KEEP_FREED_MEMORY") == "0":
        return
    if any(name in os.environ for name in _MALLOC_ENV):
        return
    try:
        libc = ctypes.CDLL(None)
        _ = libc.gnu_get_libc_version  # glibc only: other allocators read mallopt differently or not at all
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TOP_PAD, _TOP_PAD_BYTES)
    except (OSError, AttributeError):
        pass


def _aligned_empty(nbytes: int) -> np.ndarray:
    # 64-byte alignment keeps the elementwise passes on their aligned SIMD paths.
    raw = np.empty(nbytes + 64, dtype=np.uint8)
    offset = -raw.__array_interface__["data"][0] % 64
    return raw[offset : offset + nbytes]


def _stride(size: int) -> int:
    return -(-size // 64) * 64


class _NumpyBackend:
    def __init__(self, k: int, m: int) -> None:
        _keep_freed_memory()
        self.k, self.m, self.n = k, m, k + m
        self.parity = gf.parity_matrix(k, m)
        self._scratch = kernel.Scratch()
        self._programs: dict[tuple[tuple[int, ...], tuple[int, ...]], kernel.Program] = {}
        self._encode_program = self._program(tuple(range(k)), tuple(range(k, k + m)))

    def encode(self, shards: list[np.ndarray], parity: list[np.ndarray]) -> None:
        if not parity:
            return
        self._scratch.ensure(shards[0].shape[0])
        kernel.run(self._encode_program, shards, parity, self._scratch)

    def recover(self, avail: dict[int, np.ndarray], wanted: tuple[int, ...], outputs: list[np.ndarray]) -> None:
        indices = tuple(sorted(avail))
        program = self._programs.get((indices, wanted))
        if program is None:
            program = self._program(indices, wanted)
        self._scratch.ensure(outputs[0].shape[0])
        kernel.run(program, [avail[i] for i in indices], outputs, self._scratch)

    def _program(self, avail: tuple[int, ...], wanted: tuple[int, ...]) -> kernel.Program:
        """Cheapest program computing fragments ``wanted`` from fragments ``avail`` (>= k of them)."""
        k, n = self.k, self.n
        slot = {index: s for s, index in enumerate(avail)}
        data_avail = [i for i in avail if i < k]
        parity_avail = [i for i in avail if i >= k]
        everything_known = set(avail) | set(wanted) == set(range(n))
        best = None
        # Costing a choice of parity plans every wanted row: bound the work for big codes.
        bases = max(1, min(_MAX_BASES, 64 // max(1, len(wanted))))
        for chosen in islice(combinations(parity_avail, k - len(data_avail)), bases):
            exprs = self._data_in_terms_of(data_avail, chosen, slot)
            plans = [kernel.plan_row(self._row(w, exprs)) for w in wanted]
            order = list(range(len(wanted)))
            if everything_known and self.m >= 1 and plans:
                # The XOR of all n symbols of a codeword is 0 (alpha^0 is a root), so the most
                # expensive wanted fragment is the XOR of all the others.
                worst = max(order, key=lambda t: plans[t].cost)
                others = [len(avail) + t for t in order if t != worst]
                xor_plan = kernel.xor_row(list(range(len(avail))) + others)
                if xor_plan.cost < plans[worst].cost:
                    plans[worst] = xor_plan
                    order.remove(worst)
                    order.append(worst)
            program = kernel.Program(len(avail), tuple((t, plans[t]) for t in order))
            if best is None or program.cost < best.cost:
                best = program
        if best is None:
            raise ValueError(f"need {k} fragments, got {len(avail)}")
        if len(self._programs) >= _MAX_CACHED_PROGRAMS:
            self._programs.clear()
        self._programs[avail, wanted] = best
        return best

    def _data_in_terms_of(self, data_avail, chosen_parity, slot) -> list[dict[int, int]]:
        """Each data shard as {input slot: coefficient} over the available data and the chosen parity."""
        k = self.k
        exprs: list[dict[int, int]] = [{slot[j]: 1} if j in slot else {} for j in range(k)]
        unknown = [j for j in range(k) if j not in slot]
        if not unknown:
            return exprs
        # parity_r = P[r][U] d_U + P[r][D] d_D  =>  d_U = M^-1 (parity_R + P[R][D] d_D), M = P[R][U].
        rows = [self.parity[r - k] for r in chosen_parity]
        m_inv = gf.invert([[row[u] for u in unknown] for row in rows])
        for i, u in enumerate(unknown):
            coefs: dict[int, int] = {}
            for a, r, row in zip(m_inv[i], chosen_parity, rows, strict=False):
                if not a:
                    continue
                coefs[slot[r]] = coefs.get(slot[r], 0) ^ a
                for j in data_avail:
                    coefs[slot[j]] = coefs.get(slot[j], 0) ^ gf.mul(a, row[j])
            exprs[u] = coefs
        return exprs

    def _row(self, index: int, exprs: list[dict[int, int]]) -> dict[int, int]:
        if index < self.k:
            return exprs[index]
        coefs: dict[int, int] = {}
        for j, p in enumerate(self.parity[index - self.k]):
            for s, c in exprs[j].items():
                coefs[s] = coefs.get(s, 0) ^ gf.mul(p, c)
        return coefs


class _ReedsoloBackend:
    """The reference: reedsolo itself, one codeword (a column of shard bytes) at a time."""

    def __init__(self, k: int, m: int) -> None:
        import reedsolo

        self.k, self.m, self.n = k, m, k + m
        self._rs = reedsolo.RSCodec(m, nsize=k + m) if m else None
        self._error = reedsolo.ReedSolomonError

    def encode(self, shards: list[np.ndarray], parity: list[np.ndarray]) -> None:
        if not parity:
            return
        columns = np.ascontiguousarray(np.stack(shards).T)
        out = np.empty((columns.shape[0], self.m), dtype=np.uint8)
        for i, column in enumerate(columns):
            out[i] = np.frombuffer(bytes(self._rs.encode(column.tobytes())), dtype=np.uint8)[self.k :]
        for r, dst in enumerate(parity):
            dst[:] = out[:, r]

    def recover(self, avail: dict[int, np.ndarray], wanted: tuple[int, ...], outputs: list[np.ndarray]) -> None:
        size = outputs[0].shape[0]
        words = np.zeros((size, self.n), dtype=np.uint8)
        for index, shard in avail.items():
            words[:, index] = shard
        erased = [i for i in range(self.n) if i not in avail]
        if self._rs is not None:
            for i in range(size):
                try:
                    _, full, _ = self._rs.decode(bytearray(words[i].tobytes()), erase_pos=erased, only_erasures=True)
                except self._error as exc:
                    raise DecodeFailure(str(exc)) from None
                words[i] = np.frombuffer(bytes(full), dtype=np.uint8)
        for t, index in enumerate(wanted):
            outputs[t][:] = words[:, index]


def _check_count(name: str, value, minimum: int) -> int:
    if type(value) is not int:
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


class ErasureCoder:
    """RS(k = data_shards, m = parity_shards) erasure coder producing checksummed :class:`Fragment` objects.

    Any k >= 1, m >= 0 with k + m <= 255. Not tied to a chunk size. Thread-safe
    (work buffers are per thread).
    """

    def __init__(self, data_shards: int = 3, parity_shards: int = 2, backend: str = "numpy") -> None:
        k = _check_count("data_shards", data_shards, 1)
        m = _check_count("parity_shards", parity_shards, 0)
        if k > 255:
            raise ValueError(f"data_shards must be <= 255 (GF(2^8) codewords), got {k}")
        if k + m > 255:
            raise ValueError(
                f"parity_shards: data_shards + parity_shards must be <= 255 (GF(2^8) codewords), got {k} + {m}"
            )
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}")
        self._k, self._m, self._backend_name = k, m, backend
        self._backend = _NumpyBackend(k, m) if backend == "numpy" else _ReedsoloBackend(k, m)

    @property
    def data_shards(self) -> int:
        return self._k

    @property
    def parity_shards(self) -> int:
        return self._m

    @property
    def total_shards(self) -> int:
        return self._k + self._m

    @property
    def backend(self) -> str:
        return self._backend_name

    def fragment_size(self, chunk_size: int) -> int:
        """Bytes per fragment for a chunk of ``chunk_size`` bytes."""
        return fragment_size(chunk_size, self._k)

    def __repr__(self) -> str:
        return f"ErasureCoder(data_shards={self._k}, parity_shards={self._m}, backend={self._backend_name!r})"

    def encode_chunk(self, data) -> list[Fragment]:
        """The k + m fragments of ``data`` (any bytes-like object; non-``bytes`` input is copied once)."""
        if type(data) is not bytes:
            if isinstance(data, str):
                raise TypeError("encode_chunk needs bytes, not str")
            data = memoryview(data).cast("B").tobytes()
        k, m = self._k, self._m
        n = len(data)
        size = fragment_size(n, k)
        chunk_checksum = crc32c_hex(data)
        whole = np.frombuffer(data, dtype=np.uint8)
        view = memoryview(data)

        # Shards that run past the end of the chunk get a zero-padded copy, placed in the
        # same allocation as the parity so that one buffer backs all computed fragments.
        padded = {j: i for i, j in enumerate(j for j in range(k) if (j + 1) * size > n)}
        stride = _stride(size)
        block = _aligned_empty(stride * (m + len(padded)))
        parity = [block[r * stride : r * stride + size] for r in range(m)]
        shards = []
        for j in range(k):
            start = j * size
            if j in padded:
                dst = block[(m + padded[j]) * stride :][:size]
                real = max(0, n - start)
                dst[:real] = whole[start : start + real]
                dst[real:] = 0
                shards.append(dst)
            else:
                shards.append(whole[start : start + size])
        self._backend.encode(shards, parity)
        block.flags.writeable = False
        frozen = memoryview(block)

        # Checksums straight from memory: the chunk and the block are alive for the whole call.
        chunk_base, block_base = address_of(whole), address_of(block)
        fragments = []
        for j in range(k):
            if j in padded:
                offset = (m + padded[j]) * stride
                frag_view, address = frozen[offset : offset + size], block_base + offset
            else:
                frag_view, address = view[j * size : (j + 1) * size], chunk_base + j * size
            fragments.append(Fragment._trusted(j, frag_view, f"{crc32c_at(address, size):08x}", n, chunk_checksum))
        for r in range(m):
            offset = r * stride
            checksum = f"{crc32c_at(block_base + offset, size):08x}"
            fragments.append(Fragment._trusted(k + r, frozen[offset : offset + size], checksum, n, chunk_checksum))
        return fragments

    def _recover(self, avail: dict[int, np.ndarray], wanted: tuple[int, ...], outputs: list[np.ndarray]) -> None:
        """Fill ``outputs`` with fragments ``wanted`` computed from ``avail`` (>= k fragments as uint8 arrays).

        Raises :class:`DecodeFailure` if the backend notices that the fragments disagree
        (only possible when more than k are given).
        """
        if wanted:
            self._backend.recover(avail, wanted, outputs)

    def _work_buffers(self, count: int, size: int) -> list[np.ndarray]:
        """Reusable per-thread output buffers for shards that are copied out right after."""
        sc = getattr(self._backend, "_scratch", None) or _fallback_scratch
        stride = _stride(size)
        pool = getattr(sc, "outputs", None)
        if pool is None or pool.shape[0] < count * stride:
            pool = sc.outputs = _aligned_empty(count * stride)
        return [pool[i * stride : i * stride + size] for i in range(count)]


_fallback_scratch = kernel.Scratch()
