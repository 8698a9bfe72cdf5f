"""Codec throughput on this machine: our Reed-Solomon codec beside its reference and peer libraries.

``codec_benchmark()`` times, in one run and on one chunk, encode and decode with 0, 1
and 2 fragments lost for:

* ``vstack_sim numpy``: the codec the simulator uses, CRC32C included (computed at
  encode, verified for every fragment and for the chunk at decode). Decode is timed
  on ``Fragment`` objects built inside the timed region from fresh copies of the
  stored bytes, as after a read from disk, so nothing verified is cached;
* ``vstack_sim reedsolo``: the same code through reedsolo, one codeword at a time,
  timed on a small piece and extrapolated (it runs at about a megabyte per second);
* ``replication x3``: what a replicated chunk costs the CPU (its checksum);
* ``zfec`` and ``pyeclib`` (ISA-L if available) when importable, run as they come:
  no checksums, the chunk pre-split into k shares, decode returning the k shares.

zfec's decode with no fragment lost hands back the k input shares it was given
without doing any work; that row says "returns inputs" rather than a rate.

Throughput is in MB/s of chunk data (10^6 bytes per second), from the median of the
timed runs. The losses are fragments 0 (1 lost) and 0 and 1 (2 lost), and decoders
get exactly k fragments. The results feed the simulator's default codec rates.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Callable

import numpy as np

from vstack_sim.system.codec import ErasureCoder, Fragment, FragmentManager, fragment_size

OPERATIONS = ("encode", "decode, no loss", "decode, 1 lost", "decode, 2 lost")
REFERENCE_PIECE = 6 * 1024


def _lost(operation: str) -> int:
    return {"decode, no loss": 0, "decode, 1 lost": 1, "decode, 2 lost": 2}[operation]


def _survivors(k: int, n: int, lost: int) -> list[int]:
    """The k fragments a reader would use when data fragments 0 .. lost-1 are gone."""
    return list(range(lost, n))[:k]


def _median_seconds(run: Callable[[], object], repeats: int, prepare: Callable[[], object] | None = None) -> float:
    """Median wall time of ``run(prepared)`` (or ``run()``); one untimed warm-up; GC paused while timing."""
    times = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(repeats + 1):
            arg = prepare() if prepare else None
            start = time.perf_counter()
            result = run(arg) if prepare else run()
            elapsed = time.perf_counter() - start
            del result, arg  # drop outputs before the next call, as a writer would after storing them
            if i:
                times.append(elapsed)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(times)


def _row(codec: str, operation: str, chunk_size: int, seconds: float | None, note: str = "",
         rate_bytes: int | None = None) -> dict:
    """A result row; ``rate_bytes`` is the bytes actually processed in ``seconds`` when extrapolating."""
    if seconds is None:
        return {"codec": codec, "operation": operation, "chunk_size": chunk_size, "mb_per_s": None,
                "ms_per_chunk": None, "note": note}
    per_second = (rate_bytes or chunk_size) / seconds
    return {
        "codec": codec,
        "operation": operation,
        "chunk_size": chunk_size,
        "mb_per_s": per_second / 1e6,
        "ms_per_chunk": chunk_size / per_second * 1e3,
        "note": note,
    }


def _ours(backend: str, chunk: bytes, k: int, m: int, repeats: int) -> dict[str, float]:
    coder = ErasureCoder(k, m, backend=backend)
    manager = FragmentManager(coder)
    fragments = coder.encode_chunk(chunk)
    stored = [(bytes(f.data), f.checksum) for f in fragments]
    chunk_checksum = fragments[0].chunk_checksum
    seconds = {"encode": _median_seconds(lambda: coder.encode_chunk(chunk), repeats)}
    for operation in OPERATIONS[1:]:
        indices = _survivors(k, k + m, _lost(operation))
        if len(indices) < k:
            continue

        def fresh_copies(indices=indices):
            # A read from disk: new bytes objects, so no memory is shared with the encoder's.
            return [(i, bytes(bytearray(stored[i][0]))) for i in indices]

        def decode(copies):
            pairs = [(i, Fragment(i, data, stored[i][1], len(chunk), chunk_checksum)) for i, data in copies]
            out = manager.reconstruct_chunk(pairs)
            if len(out) != len(chunk):
                raise AssertionError("decode returned the wrong size")
            return out

        if decode(fresh_copies()) != chunk:
            raise AssertionError(f"{backend} {operation}: wrong bytes")
        seconds[operation] = _median_seconds(decode, repeats, fresh_copies)
    return seconds


def _replication(chunk: bytes, repeats: int) -> dict[str, float]:
    from vstack_sim.system.codec.checksum import crc32c_hex

    checksum = crc32c_hex(chunk)
    encode = _median_seconds(lambda: crc32c_hex(chunk), repeats)

    def read(copy):
        if crc32c_hex(copy) != checksum:
            raise AssertionError("replica checksum")
        return copy

    decode = _median_seconds(read, repeats, lambda: bytes(bytearray(chunk)))
    return {"encode": encode, **{op: decode for op in OPERATIONS[1:]}}


def _zfec(chunk: bytes, k: int, m: int, repeats: int) -> dict[str, float]:
    import zfec

    size = fragment_size(len(chunk), k)
    padded = chunk + bytes(k * size - len(chunk))
    shares = tuple(padded[j * size : (j + 1) * size] for j in range(k))
    encoder = zfec.Encoder(k, k + m)
    blocks = encoder.encode(shares)
    seconds = {"encode": _median_seconds(lambda: encoder.encode(shares), repeats)}
    decoder = zfec.Decoder(k, k + m)
    for operation in OPERATIONS[1:]:
        indices = _survivors(k, k + m, _lost(operation))
        if len(indices) < k:
            continue
        got = decoder.decode([blocks[i] for i in indices], indices)
        if b"".join(got)[: len(chunk)] != chunk:
            raise AssertionError(f"zfec {operation}: wrong bytes")
        seconds[operation] = _median_seconds(
            lambda copies, indices=indices: decoder.decode(copies, indices),
            repeats,
            lambda indices=indices: [bytes(bytearray(blocks[i])) for i in indices],
        )
    return seconds


def _pyeclib(chunk: bytes, k: int, m: int, repeats: int) -> tuple[dict[str, float], str]:
    from pyeclib.ec_iface import ECDriver

    driver, used, errors = None, "", []
    for ec_type in ("isa_l_rs_vand", "liberasurecode_rs_vand"):
        try:
            driver = ECDriver(k=k, m=m, ec_type=ec_type)
            used = ec_type
            break
        except Exception as exc:  # backend library missing: try the next one
            errors.append(f"{ec_type}: {type(exc).__name__}")
    if driver is None:
        raise ImportError("no pyeclib backend: " + "; ".join(errors))
    fragments = driver.encode(chunk)
    seconds = {"encode": _median_seconds(lambda: driver.encode(chunk), repeats)}
    for operation in OPERATIONS[1:]:
        indices = _survivors(k, k + m, _lost(operation))
        if len(indices) < k:
            continue
        if driver.decode([fragments[i] for i in indices]) != chunk:
            raise AssertionError(f"pyeclib {operation}: wrong bytes")
        seconds[operation] = _median_seconds(
            driver.decode, repeats, lambda indices=indices: [bytes(bytearray(fragments[i])) for i in indices]
        )
    return seconds, used


def codec_benchmark(
    chunk_size: int = 2 * 2**20,
    repeats: int = 7,
    peers: bool = True,
    *,
    data_shards: int = 3,
    parity_shards: int = 2,
    seed: int = 0,
) -> list[dict]:
    """Rows ``{codec, operation, chunk_size, mb_per_s, ms_per_chunk, note}``, one per codec and operation."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    k, m = data_shards, parity_shards
    chunk = np.random.default_rng(seed).integers(0, 256, chunk_size, dtype=np.uint8).tobytes()
    rows: list[dict] = []

    def add(codec: str, seconds: dict[str, float], note: str, rate_bytes: int | None = None) -> None:
        for operation in OPERATIONS:
            if operation in seconds:
                rows.append(_row(codec, operation, chunk_size, seconds[operation], note, rate_bytes))
            else:
                rows.append(_row(codec, operation, chunk_size, None, "not applicable: too few fragments"))

    add("vstack_sim numpy", _ours("numpy", chunk, k, m, repeats), f"RS({k},{m}), CRC32C included")

    piece = min(REFERENCE_PIECE, chunk_size)
    reference = _ours("reedsolo", chunk[:piece], k, m, min(repeats, 3))
    note = (f"one codeword at a time, extrapolated from {piece / 1024:g} KiB" if piece < chunk_size
            else "one codeword at a time")
    add("vstack_sim reedsolo", reference, note, rate_bytes=piece)

    add("replication x3", _replication(chunk, repeats), "CRC32C of one copy; replicas are the same bytes")

    if peers:
        try:
            add("zfec", _zfec(chunk, k, m, repeats), "no checksums; shares pre-split")
            for row in rows:
                if row["codec"] == "zfec" and row["operation"] == "decode, no loss":
                    row["returns_inputs"] = True
                    row["note"] = "hands back the k input shares, no work"
        except ImportError as exc:
            rows.append(_skipped("zfec", chunk_size, exc))
        try:
            seconds, used = _pyeclib(chunk, k, m, repeats)
            add(f"pyeclib {used}", seconds, "no CRC32C; fragments with pyeclib headers")
        except ImportError as exc:
            rows.append(_skipped("pyeclib", chunk_size, exc))
    return rows


def _skipped(peer: str, chunk_size: int, exc: ImportError) -> dict:
    row = _row(peer, "all", chunk_size, None, "not installed" if isinstance(exc, ModuleNotFoundError)
               else f"skipped: {exc}")
    row["not_installed"] = isinstance(exc, ModuleNotFoundError)
    return row


def missing_peers(rows: list[dict]) -> list[str]:
    """The peer libraries a benchmark skipped because they are not installed (the ``[bench]`` extra)."""
    return [r["codec"] for r in rows if r.get("not_installed")]


def _ratio(rate: float | None, reference: float | None) -> str:
    if not rate or not reference:
        return ""
    ratio = rate / reference
    return f"{ratio:.2f}" if ratio >= 0.01 else f"{ratio:.0e}"


def format_codec_table(rows: list[dict]) -> str:
    """An aligned text table of ``codec_benchmark`` rows, with speed relative to zfec when it ran."""
    # With no loss zfec hands back its input shares without work: no meaningful ratio.
    zfec = {
        r["operation"]: r["mb_per_s"]
        for r in rows
        if r["codec"] == "zfec" and r["mb_per_s"] and r["operation"] != "decode, no loss"
    }
    header = ["codec", "operation", "MB/s", "ms/chunk", "x zfec", "note"]
    body = []
    for r in rows:
        rate = r["mb_per_s"]
        ratio = zfec.get(r["operation"])
        if r.get("returns_inputs"):
            body.append([r["codec"], r["operation"], "returns inputs", "-", "", r["note"]])
            continue
        body.append(
            [
                r["codec"],
                r["operation"],
                "-" if rate is None else (f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"),
                "-" if r["ms_per_chunk"] is None else f"{r['ms_per_chunk']:,.3f}",
                _ratio(rate, ratio),
                r["note"],
            ]
        )
    numeric = {2, 3, 4}
    widths = [max(len(line[i]) for line in [header] + body) for i in range(len(header))]

    def fmt(line):
        cells = [cell.rjust(w) if i in numeric else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(line, widths, strict=False))]
        return "  ".join(cells).rstrip()

    size = rows[0]["chunk_size"] if rows else 0
    title = f"Codec throughput, {size:,}-byte chunk (MB/s = 10^6 bytes of chunk per second, median)"
    return "\n".join([title, fmt(header), fmt(["-" * w for w in widths])] + [fmt(line) for line in body])
