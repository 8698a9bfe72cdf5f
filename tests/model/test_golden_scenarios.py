"""Golden tests of the shipped scenarios: exact summary values at their fixed seeds, durations shortened.

Each scenario runs once per session (shortened by an override, for speed) and
its summary is compared, key by key and exactly, with the values recorded
below. Regenerate them only on purpose, and say why in the commit message:

    .venv/bin/python tests/test_golden_scenarios.py      # prints GOLDEN for pasting

Theory checks (MTTDL, repair traffic, the seed's arithmetic in general) live
elsewhere; these tests pin what the shipped scenarios produce.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

from vstack_sim import load_scenario, simulate

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

# Shortened runs: overrides applied to each shipped file.
SHORT = {
    "seed": ["run.duration=1d"],
    "baseline": ["run.duration=3d"],
    "all-replication": ["run.duration=3d"],
    "all-ec": ["run.duration=3d"],
    "flash-crowd": ["run.duration=30h"],
    "rack-failure": ["run.duration=26h"],
}

KEYS = [
    "storage_initial.replication_chunks", "storage_initial.erasure_coded_chunks",
    "storage_initial.total_physical_bytes", "storage_initial.storage_savings_percent",
    "storage.replication_chunks", "storage.erasure_coded_chunks", "storage.total_physical_bytes",
    "storage.storage_savings_percent", "storage_mean_savings_percent",
    "reads.count", "reads.failed", "reads.latency_ms.all.p50", "reads.latency_ms.all.p99",
    "reads.latency_ms.degraded.p99", "views.count",
    "recovery.node_failures", "recovery.transient_failures", "recovery.repairs", "recovery.time_s.max",
    "recovery.repair_bytes_read", "recovery.repair_bytes_written",
    "durability.chunks_lost", "durability.unavailable_chunk_seconds",
    "migrations.to_replication", "migrations.to_erasure_coding", "migrations.bytes_written",
]

GOLDEN: dict[str, dict] = {}  # filled in below the helpers


def pick(summary: dict) -> dict:
    """The golden keys of a summary, flattened ("a.b.c" -> value); a missing block gives None."""
    out = {}
    for key in KEYS:
        value = summary
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        out[key] = value
    return out


@functools.cache
def run(name: str):
    return simulate(load_scenario(SCENARIOS / f"{name}.yaml", SHORT[name]))


def assert_golden(name: str) -> None:
    got = pick(run(name).summary)
    want = GOLDEN[name]
    diffs = {k: (got[k], want[k]) for k in KEYS if got[k] != want[k]}
    assert not diffs, f"{name}: (got, golden) {diffs}"


# --------------------------------------------------------------------------- the tests


def test_seed_storage_at_ingest_is_the_seed_table_in_bytes():
    start = run("seed").summary["storage_initial"]
    assert start == {
        "replication_chunks": 2500,
        "erasure_coded_chunks": 47500,
        "total_logical_bytes": 104_857_600_000,
        "total_physical_bytes": 181_753_252_500,
        "storage_savings_percent": 42.22,
        "replication_overhead_bytes": 15_728_640_000,
        "erasure_overhead_bytes": 166_024_612_500,
    }


def test_seed_views_push_cold_videos_to_replication():
    s = run("seed").summary
    assert s["migrations"]["to_replication"] > 0 and s["migrations"]["to_erasure_coding"] == 0
    assert s["storage"]["replication_chunks"] == 2500 + 50 * s["migrations"]["to_replication"]
    assert_golden("seed")


def test_baseline_realistic_mix_with_failures():
    s = run("baseline").summary
    assert s["storage_initial"]["replication_chunks"] == 0.13 * 1000 * 50  # 87 % under 1000 views
    assert s["recovery"]["node_failures"] + s["recovery"]["transient_failures"] > 0
    assert_golden("baseline")


def test_all_replication_and_all_ec_see_the_baselines_views_and_failures():
    base, rep, ec = (run(n) for n in ("baseline", "all-replication", "all-ec"))
    # Common random numbers: the same seed gives the same viewers and the same failures.
    for other in (rep, ec):
        assert other.summary["views"]["count"] == base.summary["views"]["count"]
        cols = ["time_s", "node", "kind"]
        assert other.tables["failures"][cols].equals(base.tables["failures"][cols])
    assert rep.summary["storage"]["storage_savings_percent"] == 0.0
    assert ec.summary["storage"]["storage_savings_percent"] == 44.44
    assert rep.summary["reads"]["latency_ms"]["erasure_coding"] is None
    assert ec.summary["reads"]["latency_ms"]["replication"] is None
    assert_golden("all-replication")
    assert_golden("all-ec")


def test_flash_crowd_converts_the_viral_video_to_replication():
    result = run("flash-crowd")
    mig = result.tables["migrations"]
    viral = mig[mig["video_id"] == 400]
    assert len(viral) == 1
    row = viral.iloc[0]
    assert (row["from_mode"], row["to_mode"], row["chunks"]) == ("erasure_coding", "replication", 50)
    assert 86400 <= row["start_s"] <= 86400 + 6 * 3600  # during the crowd
    videos = result.tables["videos"].set_index("video_id")
    assert videos.loc[400, "mode"] == "replication"
    assert videos.loc[400, "starting_views"] <= 1000 < videos.loc[400, "view_count"]
    assert_golden("flash-crowd")


def test_rack_failure_recovers_every_node_with_degraded_reads_and_no_loss():
    result = run("rack-failure")
    s = result.summary
    failures = result.tables["failures"]
    assert sorted(failures["node"]) == [1, 5, 9, 13, 17]  # rack 1 of 4
    assert failures["declared"].all() and set(failures["source"]) <= {"rack", "scheduled"}
    assert s["recovery"]["node_failures"] == 5 and s["recovery"]["unfinished"] == 0
    assert s["reads"]["latency_ms"]["degraded"] is not None
    assert s["durability"]["chunks_lost"] == 0 and s["reads"]["failed"] == 0
    assert (failures["stale_slots_dropped"] > 0).all()  # the rack came back after its slots were rebuilt
    assert_golden("rack-failure")


# --------------------------------------------------------------------------- recorded values

GOLDEN.update({'seed': {'storage_initial.replication_chunks': 2500,
          'storage_initial.erasure_coded_chunks': 47500,
          'storage_initial.total_physical_bytes': 181753252500,
          'storage_initial.storage_savings_percent': 42.22,
          'storage.replication_chunks': 2550,
          'storage.erasure_coded_chunks': 47450,
          'storage.total_physical_bytes': 181893062550,
          'storage.storage_savings_percent': 42.18,
          'storage_mean_savings_percent': 42.185,
          'reads.count': 209900,
          'reads.failed': 0,
          'reads.latency_ms.all.p50': 13.480997,
          'reads.latency_ms.all.p99': 27.293176,
          'reads.latency_ms.degraded.p99': None,
          'views.count': 4198,
          'recovery.node_failures': 0,
          'recovery.transient_failures': 0,
          'recovery.repairs': 0,
          'recovery.time_s.max': None,
          'recovery.repair_bytes_read': 0,
          'recovery.repair_bytes_written': 0,
          'durability.chunks_lost': 0,
          'durability.unavailable_chunk_seconds': 0.0,
          'migrations.to_replication': 1,
          'migrations.to_erasure_coding': 0,
          'migrations.bytes_written': 314572800},
 'baseline': {'storage_initial.replication_chunks': 6500,
              'storage_initial.erasure_coded_chunks': 43500,
              'storage_initial.total_physical_bytes': 192938056500,
              'storage_initial.storage_savings_percent': 38.67,
              'storage.replication_chunks': 6550,
              'storage.erasure_coded_chunks': 43450,
              'storage.total_physical_bytes': 193077866550,
              'storage.storage_savings_percent': 38.62,
              'storage_mean_savings_percent': 38.6214,
              'reads.count': 330726,
              'reads.failed': 0,
              'reads.latency_ms.all.p50': 12.413346,
              'reads.latency_ms.all.p99': 28.063494,
              'reads.latency_ms.degraded.p99': 27.774286,
              'views.count': 12913,
              'recovery.node_failures': 1,
              'recovery.transient_failures': 0,
              'recovery.repairs': 11883,
              'recovery.time_s.max': 939.707439,
              'recovery.repair_bytes_read': 24920468102,
              'recovery.repair_bytes_written': 9700729730,
              'durability.chunks_lost': 0,
              'durability.unavailable_chunk_seconds': 0.0,
              'migrations.to_replication': 1,
              'migrations.to_erasure_coding': 0,
              'migrations.bytes_written': 314572800},
 'all-replication': {'storage_initial.replication_chunks': 50000,
                     'storage_initial.erasure_coded_chunks': 0,
                     'storage_initial.total_physical_bytes': 314572800000,
                     'storage_initial.storage_savings_percent': 0.0,
                     'storage.replication_chunks': 50000,
                     'storage.erasure_coded_chunks': 0,
                     'storage.total_physical_bytes': 314572800000,
                     'storage.storage_savings_percent': 0.0,
                     'storage_mean_savings_percent': 0.0,
                     'reads.count': 330726,
                     'reads.failed': 0,
                     'reads.latency_ms.all.p50': 16.416424,
                     'reads.latency_ms.all.p99': 29.397261,
                     'reads.latency_ms.degraded.p99': None,
                     'views.count': 12913,
                     'recovery.node_failures': 1,
                     'recovery.transient_failures': 0,
                     'recovery.repairs': 7599,
                     'recovery.time_s.max': 910.946686,
                     'recovery.repair_bytes_read': 15936258048,
                     'recovery.repair_bytes_written': 15936258048,
                     'durability.chunks_lost': 0,
                     'durability.unavailable_chunk_seconds': 0.0,
                     'migrations.to_replication': 0,
                     'migrations.to_erasure_coding': 0,
                     'migrations.bytes_written': 0},
 'all-ec': {'storage_initial.replication_chunks': 0,
            'storage_initial.erasure_coded_chunks': 50000,
            'storage_initial.total_physical_bytes': 174762750000,
            'storage_initial.storage_savings_percent': 44.44,
            'storage.replication_chunks': 0,
            'storage.erasure_coded_chunks': 50000,
            'storage.total_physical_bytes': 174762750000,
            'storage.storage_savings_percent': 44.44,
            'storage_mean_savings_percent': 44.44,
            'reads.count': 330726,
            'reads.failed': 0,
            'reads.latency_ms.all.p50': 11.861847,
            'reads.latency_ms.all.p99': 23.964784,
            'reads.latency_ms.degraded.p99': 25.163699,
            'views.count': 12913,
            'recovery.node_failures': 1,
            'recovery.transient_failures': 0,
            'recovery.repairs': 12549,
            'recovery.time_s.max': 944.102434,
            'recovery.repair_bytes_read': 26317172997,
            'recovery.repair_bytes_written': 8772390999,
            'durability.chunks_lost': 0,
            'durability.unavailable_chunk_seconds': 0.0,
            'migrations.to_replication': 0,
            'migrations.to_erasure_coding': 0,
            'migrations.bytes_written': 0},
 'flash-crowd': {'storage_initial.replication_chunks': 2500,
                 'storage_initial.erasure_coded_chunks': 47500,
                 'storage_initial.total_physical_bytes': 181753252500,
                 'storage_initial.storage_savings_percent': 42.22,
                 'storage.replication_chunks': 2600,
                 'storage.erasure_coded_chunks': 47400,
                 'storage.total_physical_bytes': 182032872600,
                 'storage.storage_savings_percent': 42.13,
                 'storage_mean_savings_percent': 42.1752,
                 'reads.count': 387150,
                 'reads.failed': 0,
                 'reads.latency_ms.all.p50': 2.177722,
                 'reads.latency_ms.all.p99': 26.551314,
                 'reads.latency_ms.degraded.p99': None,
                 'views.count': 7743,
                 'recovery.node_failures': 0,
                 'recovery.transient_failures': 0,
                 'recovery.repairs': 0,
                 'recovery.time_s.max': None,
                 'recovery.repair_bytes_read': 0,
                 'recovery.repair_bytes_written': 0,
                 'durability.chunks_lost': 0,
                 'durability.unavailable_chunk_seconds': 0.0,
                 'migrations.to_replication': 2,
                 'migrations.to_erasure_coding': 0,
                 'migrations.bytes_written': 629145600},
 'rack-failure': {'storage_initial.replication_chunks': 2500,
                  'storage_initial.erasure_coded_chunks': 47500,
                  'storage_initial.total_physical_bytes': 181753252500,
                  'storage_initial.storage_savings_percent': 42.22,
                  'storage.replication_chunks': 2650,
                  'storage.erasure_coded_chunks': 47350,
                  'storage.total_physical_bytes': 182172682650,
                  'storage.storage_savings_percent': 42.09,
                  'storage_mean_savings_percent': 42.152,
                  'reads.count': 945000,
                  'reads.failed': 0,
                  'reads.latency_ms.all.p50': 13.126499,
                  'reads.latency_ms.all.p99': 27.330684,
                  'reads.latency_ms.degraded.p99': 27.208772,
                  'views.count': 18900,
                  'recovery.node_failures': 5,
                  'recovery.transient_failures': 0,
                  'recovery.repairs': 61274,
                  'recovery.time_s.max': 1152.252148,
                  'recovery.repair_bytes_read': 128500950911,
                  'recovery.repair_bytes_written': 45645232085,
                  'durability.chunks_lost': 0,
                  'durability.unavailable_chunk_seconds': 0.0,
                  'migrations.to_replication': 3,
                  'migrations.to_erasure_coding': 0,
                  'migrations.bytes_written': 943718400}})

if __name__ == "__main__":  # print fresh golden values for pasting above (only on purpose)
    import pprint

    fresh = {name: pick(run(name).summary) for name in SHORT}
    print("GOLDEN.update(" + pprint.pformat(fresh, sort_dicts=False, width=110) + ")")
    assert all(not isinstance(v, float) or math.isfinite(v) for d in fresh.values() for v in d.values())
