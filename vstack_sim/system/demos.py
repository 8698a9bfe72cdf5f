"""The V-Stack design's two demos: storage savings and the codec benchmark, as tables.

The design names ``demo/adaptive_redundancy_demo.py`` (storage efficiency of a
5 % hot / 95 % cold catalog, savings at scale) and
``demo/erasure_coding_benchmark.py`` (encode and decode throughput, the
comparison with replication, failure-scenario recovery times). Here each is
one function that returns pandas DataFrames by name:

* :func:`storage_savings` asks the real :class:`RedundancyManager` which mode
  each video gets and the real :class:`StorageLedger` what the mix costs; it
  never does storage arithmetic of its own;
* :func:`codec_benchmark` times the real :class:`ErasureCoder` and
  :class:`FragmentManager` (through :mod:`vstack_sim.system.codec.bench`), and decodes a
  chunk for every pair of lost fragments.

``notebooks/02-seed-storage-savings.ipynb`` and ``03-codec-benchmark.ipynb``
show these tables, and ``vstack-sim demo storage|codec`` prints them with
:func:`format_tables`.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from vstack_sim.system.ledger import StorageLedger
from vstack_sim.system.manager import RedundancyManager

MIB = 2**20
CHUNK_SIZE = 2 * MIB
VIDEOS = 1000
CHUNKS_PER_VIDEO = 50
CODES = ((3, 2), (4, 2), (6, 3), (10, 4))
"""The codes compared: RS(3,2) is the design's; the others are common in production stores."""
YOUTUBE_COLD_FRACTION = 0.87
"""A random sample of YouTube puts 87 % of videos under 1000 views."""

# The design's own figures, as printed, for the table of slips.
_DESIGN = {
    "fragment": "400 KB each (5 x 400 KB = 2 MB)",
    "ec_per_chunk": "3.33 MB",
    "ec_factor": "1.67",
    "all_replication": "300 GB",
    "adaptive": "173.5 GB (15 GB + 158.5 GB)",
    "saved": "126.5 GB (42.2 %)",
    "overhead_ec": "170,685,235,200",
    "overhead_total": "186,413,875,200 with 42.2 % saved",
}


def _catalog_views(videos: int, hot_fraction: float, threshold: int) -> np.ndarray:
    """View counts with exactly round(hot_fraction x videos) videos above the threshold."""
    hot = int(round(hot_fraction * videos))
    views = np.full(videos, threshold // 10, dtype=np.int64)   # cold: well under the threshold
    views[:hot] = threshold * 5                                   # hot: well over it
    return views


def mix_overhead(manager: RedundancyManager, hot_fraction: float, videos: int = VIDEOS,
                 chunks_per_video: int = CHUNKS_PER_VIDEO, chunk_size: int = CHUNK_SIZE) -> dict:
    """The ledger's ``/storage/overhead`` for a catalog whose modes the manager chose from view counts."""
    views = _catalog_views(videos, hot_fraction, manager.popularity_threshold)
    modes = manager.decide_modes(np.arange(videos), views)
    chunk_modes = np.repeat(modes, chunks_per_video)
    return StorageLedger(manager).overhead_from_modes(chunk_modes, chunk_size)


def storage_savings(videos: int = VIDEOS, chunks_per_video: int = CHUNKS_PER_VIDEO, chunk_size: int = CHUNK_SIZE,
                    hot_fractions=tuple(i / 20 for i in range(21))) -> dict:
    """The storage demo's tables (DataFrames) by name.

    * ``example``: the design's real-world impact example, 5 % hot, RS(3,2), in bytes;
    * ``slips``: the design's figures beside the right values;
    * ``by_hot_fraction``: savings as the hot fraction goes from 0 to 100 %;
    * ``by_code``: savings of the 5 % hot mix and per chunk for RS(3,2), RS(4,2), RS(6,3), RS(10,4);
    * ``youtube_mix``: 87 % of videos under 1000 views (13 % hot), for each code.
    """
    import pandas as pd

    manager = RedundancyManager(popularity_threshold=1000, chunk_size=chunk_size)
    ledger = StorageLedger(manager)
    n_chunks = videos * chunks_per_video
    all_rep = ledger.all_replication_bytes(n_chunks, chunk_size)
    all_ec = ledger.all_erasure_coding_bytes(n_chunks, chunk_size)

    design = mix_overhead(manager, 0.05, videos, chunks_per_video, chunk_size)
    example = pd.DataFrame([
        ("videos hot / cold", f"{int(round(0.05 * videos)):,} / {videos - int(round(0.05 * videos)):,}"),
        ("chunks replicated / erasure coded",
         f"{design['replication_chunks']:,} / {design['erasure_coded_chunks']:,}"),
        ("logical bytes", f"{design['total_logical_bytes']:,}"),
        ("all replication, bytes", f"{all_rep:,}"),
        ("adaptive: replicated bytes", f"{design['replication_overhead_bytes']:,}"),
        ("adaptive: erasure-coded bytes", f"{design['erasure_overhead_bytes']:,}"),
        ("adaptive: total bytes", f"{design['total_physical_bytes']:,}"),
        ("saved bytes", f"{all_rep - design['total_physical_bytes']:,}"),
        ("saved vs all replication", f"{design['storage_savings_percent']:.2f} %"),
        ("all erasure coding, bytes", f"{all_ec:,}"),
    ], columns=["quantity", "value"])

    fragment = manager.fragment_size(chunk_size)
    ec_chunk = manager.physical_bytes_per_chunk("erasure_coding", chunk_size)
    k, m = manager.erasure_data_shards, manager.erasure_parity_shards
    # The design's own /storage/overhead byte counts, and the savings they would imply.
    design_total, design_ec = 186_413_875_200, 170_685_235_200
    implied = 100.0 * (1 - design_total / all_rep)
    slips = pd.DataFrame([
        ("fragment size (2 MiB chunk)", _DESIGN["fragment"],
         f"{fragment:,} B each; {k + m} x = {ec_chunk:,} B", f"ceil(size / {k}); 400 KB fragments hold no redundancy"),
        ("erasure-coded bytes per chunk", _DESIGN["ec_per_chunk"], f"{ec_chunk:,} B = {ec_chunk / MIB:.2f} MiB",
         "right in MiB; 3.50 MB in decimal units"),
        ("erasure-coding overhead factor", _DESIGN["ec_factor"],
         f"{manager.overhead_factor('erasure_coding', chunk_size):.4f}", "5/3, rounded in the design"),
        ("all replication", _DESIGN["all_replication"], f"{all_rep:,} B", "decimal GB mixed with 2 MiB chunks"),
        ("adaptive", _DESIGN["adaptive"], f"{design['total_physical_bytes']:,} B",
         "5/3 rounded to 1.67, in GB; even so 47,500 x 2 MB x 1.67 = 158.65 GB, not 158.5"),
        ("saved", _DESIGN["saved"],
         f"{all_rep - design['total_physical_bytes']:,} B ({design['storage_savings_percent']:.2f} %)",
         "126.5 / 300 = 42.17 %; in bytes 42.22 %, so the 42.2 % holds"),
        ("/storage/overhead erasure_overhead_bytes", _DESIGN["overhead_ec"], f"{design['erasure_overhead_bytes']:,}",
         f"{design_ec / (design['erasure_coded_chunks'] * chunk_size):.3f}x the cold logical bytes, not 5/3"),
        ("/storage/overhead total_physical_bytes", _DESIGN["overhead_total"],
         f"{design['total_physical_bytes']:,} with {design['storage_savings_percent']:.2f} % saved",
         f"its own byte counts imply {implied:.1f} % saved"),
    ], columns=["figure", "the design says", "right value", "why"])

    hot_rows = []
    for fraction in hot_fractions:
        row = mix_overhead(manager, fraction, videos, chunks_per_video, chunk_size)
        hot_rows.append({"hot videos": f"{100 * fraction:.0f} %", "replicated chunks": row["replication_chunks"],
                         "erasure-coded chunks": row["erasure_coded_chunks"],
                         "physical bytes": row["total_physical_bytes"],
                         "saved vs all replication (%)": row["storage_savings_percent"]})
    by_hot = pd.DataFrame(hot_rows)

    code_rows, mix_rows = [], []
    for k, m in CODES:
        coded = RedundancyManager(popularity_threshold=1000, erasure_data_shards=k, erasure_parity_shards=m,
                                  chunk_size=chunk_size)
        per_chunk = StorageLedger(coded).overhead(0, 1, chunk_size)["storage_savings_percent"]
        five = mix_overhead(coded, 0.05, videos, chunks_per_video, chunk_size)
        code_rows.append({"code": f"RS({k},{m})", "fragments": k + m, "failures tolerated": m,
                          "bytes per 2 MiB chunk": coded.physical_bytes_per_chunk("erasure_coding", chunk_size),
                          "overhead factor": f"{coded.overhead_factor('erasure_coding', chunk_size):.4f}",
                          "saved per chunk (%)": per_chunk,
                          "saved, 5 % hot (%)": five["storage_savings_percent"]})
        mix = mix_overhead(coded, 1 - YOUTUBE_COLD_FRACTION, videos, chunks_per_video, chunk_size)
        mix_rows.append({"code": f"RS({k},{m})", "replicated chunks": mix["replication_chunks"],
                         "erasure-coded chunks": mix["erasure_coded_chunks"],
                         "physical bytes": mix["total_physical_bytes"],
                         "saved vs all replication (%)": mix["storage_savings_percent"]})
    return {"example": example, "slips": slips, "by_hot_fraction": by_hot, "by_code": pd.DataFrame(code_rows),
            "youtube_mix": pd.DataFrame(mix_rows)}


def _median_ms(run, repeats: int) -> float:
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        run()
        if i:   # the first call warms up
            times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def codec_benchmark(chunk_size: int = CHUNK_SIZE, repeats: int = 5, peers: bool = True) -> dict:
    """The codec demo's tables (DataFrames) by name.

    * ``throughput``: encode and decode with 0, 1 and 2 fragments lost, for the codec, its reedsolo
      backend, replication (a checksummed copy) and zfec / pyeclib where installed
      (:func:`vstack_sim.system.codec.bench.codec_benchmark`);
    * ``lost_pairs``: the time to decode a chunk with each pair of the five RS(3,2) fragments lost,
      from the three left, checked byte for byte.
    """
    import pandas as pd

    from vstack_sim.system.codec import ErasureCoder, FragmentManager, bench

    rows = bench.codec_benchmark(chunk_size=chunk_size, repeats=repeats, peers=peers)
    throughput = pd.DataFrame([{
        "codec": r["codec"], "operation": r["operation"],
        "MB/s": "returns inputs" if r.get("returns_inputs") else
                ("-" if r["mb_per_s"] is None else round(r["mb_per_s"], 1 if r["mb_per_s"] >= 10 else 3)),
        "ms per chunk": "-" if r["ms_per_chunk"] is None or r.get("returns_inputs") else round(r["ms_per_chunk"], 3),
        "note": r["note"]} for r in rows])

    coder = ErasureCoder(3, 2)
    manager = FragmentManager(coder)
    chunk = np.random.default_rng(1).integers(0, 256, chunk_size, dtype=np.uint8).tobytes()
    fragments = coder.encode_chunk(chunk)
    pairs = []
    for lost in itertools.combinations(range(coder.total_shards), 2):
        left = [(i, fragments[i]) for i in range(coder.total_shards) if i not in lost]
        if manager.reconstruct_chunk(left) != chunk:
            raise AssertionError(f"lost {lost}: wrong bytes")   # the codec never returns wrong bytes
        ms = _median_ms(lambda left=left: manager.reconstruct_chunk(left), repeats)
        data_lost = sum(1 for i in lost if i < coder.data_shards)
        pairs.append({"lost fragments": f"{lost[0]}, {lost[1]}", "data fragments lost": data_lost,
                      "decoded from": ", ".join(str(i) for i, _ in left),
                      "ms per chunk": round(ms, 3), "MB/s": round(chunk_size / (ms / 1e3) / 1e6, 1)})
    return {"throughput": throughput, "lost_pairs": pd.DataFrame(pairs)}


def readable(df):
    """A copy of ``df`` with integers as ``1,234,567`` and floats with 2 decimals (never scientific notation)."""
    shown = df.copy()
    for col in shown.columns:
        if shown[col].dtype.kind in "iu":
            shown[col] = shown[col].map("{:,}".format)
        elif shown[col].dtype.kind == "f":
            shown[col] = shown[col].map("{:,.2f}".format)
    return shown


TERMINAL_WIDTH = 120
"""Columns a printed table may take; a wider one is printed as one record per row instead."""


def format_tables(tables: dict, titles: dict | None = None, width: int = TERMINAL_WIDTH) -> str:
    """DataFrames as aligned plain text with a title each (see :func:`readable`); a table wider than ``width``
    becomes records, one per row: its first column, then each other column indented and wrapped."""
    import textwrap

    out = []
    for name, df in tables.items():
        title = (titles or {}).get(name, name)
        shown = readable(df)
        text = shown.to_string(index=False)
        if max(len(line) for line in text.splitlines()) > width:
            records = []
            for _, row in shown.iterrows():
                records.append(str(row.iloc[0]))
                for column in shown.columns[1:]:
                    records += textwrap.wrap(f"{column}: {row[column]}", width, initial_indent="  ",
                                             subsequent_indent="    ")
            text = "\n".join(records)
        out += [title, "-" * len(title), text, ""]
    return "\n".join(out).rstrip("\n")


STORAGE_TITLES = {
    "example": "The V-Stack design's example: 1,000 videos x 50 chunks of 2 MiB, 5 % hot, RS(3,2)",
    "slips": "The design's figures beside the right values",
    "by_hot_fraction": "Savings against the hot fraction (RS(3,2))",
    "by_code": "Savings by code (5 % hot)",
    "youtube_mix": "87 % of videos under 1000 views (13 % hot)",
}
CODEC_TITLES = {
    "throughput": "Encode and decode throughput (median; MB/s = 10^6 bytes of chunk per second)",
    "lost_pairs": "Decode with two fragments lost, RS(3,2), every pair",
}
