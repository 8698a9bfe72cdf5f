"""StorageLedger: the seed's /storage/overhead shape with the arithmetic done right."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vstack_sim.system.ledger import (
    CHUNK_FRAGMENTS_COLUMNS,
    OVERHEAD_KEYS,
    VIDEO_STATS_COLUMNS,
    ChunkFragmentRecord,
    StorageLedger,
    VideoStatsRecord,
)
from vstack_sim.system.manager import RedundancyManager
from vstack_sim.system.modes import MODE_ERASURE_CODING, MODE_REPLICATION

MIB = 2**20

# The seed's GET /storage/overhead example, as printed.
SEED_OVERHEAD_EXAMPLE = {
    "replication_chunks": 2500,
    "erasure_coded_chunks": 47500,
    "total_logical_bytes": 104857600000,
    "total_physical_bytes": 186413875200,
    "storage_savings_percent": 42.2,
    "replication_overhead_bytes": 15728640000,
    "erasure_overhead_bytes": 170685235200,
}

# The seed's scenario: 1000 videos x 50 chunks of 2 MiB, 5 % hot.
HOT_CHUNKS = 50 * 50  # 50 hot videos
COLD_CHUNKS = 950 * 50  # 950 cold videos
FRAGMENT = 699_051  # ceil(2,097,152 / 3)
RIGHT = {
    "replication_chunks": 2_500,
    "erasure_coded_chunks": 47_500,
    "total_logical_bytes": 50_000 * 2 * MIB,  # 104,857,600,000
    "total_physical_bytes": 181_753_252_500,
    "storage_savings_percent": 42.22,
    "replication_overhead_bytes": 2_500 * 3 * 2 * MIB,  # 15,728,640,000
    "erasure_overhead_bytes": 47_500 * 5 * FRAGMENT,  # 166,024,612,500
}
ALL_REPLICATION = 314_572_800_000  # 50,000 x 3 x 2 MiB
SAVED = 132_819_547_500


@pytest.fixture
def ledger():
    return StorageLedger(RedundancyManager(popularity_threshold=1000))


def test_seed_scenario_right_numbers(ledger):
    got = ledger.overhead(HOT_CHUNKS, COLD_CHUNKS)
    assert got == RIGHT
    assert tuple(got) == OVERHEAD_KEYS == tuple(SEED_OVERHEAD_EXAMPLE)
    assert got["total_logical_bytes"] == 104_857_600_000
    assert got["replication_overhead_bytes"] == 15_728_640_000
    assert got["erasure_overhead_bytes"] == 166_024_612_500
    assert got["replication_overhead_bytes"] + got["erasure_overhead_bytes"] == got["total_physical_bytes"]
    assert ledger.all_replication_bytes(50_000) == ALL_REPLICATION
    assert ALL_REPLICATION - got["total_physical_bytes"] == SAVED
    assert round(SAVED / ALL_REPLICATION * 100, 2) == 42.22


def test_seed_example_figures_beside_the_right_ones(ledger):
    got = ledger.overhead(HOT_CHUNKS, COLD_CHUNKS)
    # The seed's counts, logical bytes and hot bytes are right ...
    for key in ("replication_chunks", "erasure_coded_chunks", "total_logical_bytes", "replication_overhead_bytes"):
        assert got[key] == SEED_OVERHEAD_EXAMPLE[key]
    # ... its EC bytes are 1.713x logical instead of 5/3 (with ceil(size/3) fragments) ...
    assert SEED_OVERHEAD_EXAMPLE["erasure_overhead_bytes"] == 170_685_235_200
    assert got["erasure_overhead_bytes"] == 166_024_612_500 != SEED_OVERHEAD_EXAMPLE["erasure_overhead_bytes"]
    assert round(170_685_235_200 / (47_500 * 2 * MIB), 3) == 1.713
    assert got["total_physical_bytes"] == 181_753_252_500 != SEED_OVERHEAD_EXAMPLE["total_physical_bytes"]
    # ... and by its own byte counts its savings would be 40.7 %, not the 42.2 % it prints.
    assert round((ALL_REPLICATION - 186_413_875_200) / ALL_REPLICATION * 100, 1) == 40.7
    assert got["storage_savings_percent"] == 42.22
    assert round(got["storage_savings_percent"], 1) == SEED_OVERHEAD_EXAMPLE["storage_savings_percent"]


def test_seed_gb_figures_mix_decimal_and_binary(ledger):
    # Seed: "300 GB" all-replicated, "173.5 GB" adaptive, "126.5 GB saved (42.2%)".
    seed_full, seed_adaptive, seed_saved = 300e9, 173.5e9, 126.5e9
    got = ledger.overhead(HOT_CHUNKS, COLD_CHUNKS)
    assert ALL_REPLICATION != seed_full  # 2 MiB chunks: 314.57 decimal GB
    assert got["total_physical_bytes"] != seed_adaptive  # 181.75 decimal GB
    assert SAVED != seed_saved  # 132.82 decimal GB
    assert round(ALL_REPLICATION / 1e9, 2) == 314.57
    assert round(got["total_physical_bytes"] / 1e9, 2) == 181.75
    assert round(SAVED / 1e9, 2) == 132.82
    # Its cold line "47,500 x 2MB x 1.67 = 158.5 GB" is 158.65 GB even on its own terms
    # (decimal MB, 5/3 rounded to 1.67); in bytes it is 166.02 GB.
    seed_cold = 158.5e9
    assert round(47_500 * 2e6 * 1.67 / 1e9, 2) == 158.65 != seed_cold / 1e9
    assert round(got["erasure_overhead_bytes"] / 1e9, 2) == 166.02


def test_overhead_from_modes_counts_codes_and_ignores_others(ledger):
    codes = np.array([MODE_REPLICATION] * 3 + [MODE_ERASURE_CODING] * 5 + [-1] * 4, dtype=np.int8)
    got = ledger.overhead_from_modes(codes)
    assert got == ledger.overhead(3, 5)
    assert got["replication_chunks"] == 3 and got["erasure_coded_chunks"] == 5
    assert got["total_logical_bytes"] == 8 * 2 * MIB  # the 4 lost chunks hold nothing
    seed_codes = np.repeat(np.array([MODE_REPLICATION, MODE_ERASURE_CODING], dtype=np.int8), [2_500, 47_500])
    assert ledger.overhead_from_modes(seed_codes) == RIGHT


def test_overhead_is_json_plain(ledger):
    got = ledger.overhead_from_modes(np.array([0, 1, 1], dtype=np.int8))
    assert all(type(v) is int for k, v in got.items() if k != "storage_savings_percent")
    assert type(got["storage_savings_percent"]) is float
    assert json.loads(json.dumps(got)) == got


def test_no_chunks_gives_zero_savings(ledger):
    got = ledger.overhead(0, 0)
    assert got["storage_savings_percent"] == 0.0
    assert got["total_physical_bytes"] == got["total_logical_bytes"] == 0


def test_all_modes_alone(ledger):
    assert ledger.overhead(10, 0)["storage_savings_percent"] == 0.0
    # 1 - 3,495,255 / 6,291,456 = 44.444... %
    assert ledger.overhead(0, 10)["storage_savings_percent"] == 44.44
    assert ledger.all_erasure_coding_bytes(10) == 10 * 3_495_255


def test_r2_rs63_1mib_arithmetic():
    manager = RedundancyManager(replication_factor=2, erasure_data_shards=6, erasure_parity_shards=3, chunk_size=MIB)
    got = StorageLedger(manager).overhead(10, 90)
    # Replicated: 10 x 2 x 1,048,576 = 20,971,520.
    # Coded: fragment ceil(1,048,576 / 6) = 174,763; 90 x 9 x 174,763 = 141,558,030.
    # Total 162,529,550; all-replicated 100 x 2,097,152 = 209,715,200;
    # saved 47,185,650 / 209,715,200 = 22.49987 % -> 22.5.
    assert got == {
        "replication_chunks": 10,
        "erasure_coded_chunks": 90,
        "total_logical_bytes": 104_857_600,
        "total_physical_bytes": 162_529_550,
        "storage_savings_percent": 22.5,
        "replication_overhead_bytes": 20_971_520,
        "erasure_overhead_bytes": 141_558_030,
    }


def test_chunk_size_argument_overrides_the_managers(ledger):
    got = ledger.overhead(1, 1, chunk_size=10)
    # 3 x 10 + 5 x ceil(10 / 3) = 30 + 20.
    assert got["total_physical_bytes"] == 50 and got["total_logical_bytes"] == 20


@pytest.mark.parametrize(
    "args, name",
    [
        ((-1, 0), "replication_chunks"),
        ((0, -1), "erasure_coded_chunks"),
        ((1.5, 0), "replication_chunks"),
        ((True, 0), "replication_chunks"),
        ((1, 1, 0), "chunk_size"),
    ],
)
def test_bad_counts_name_the_argument(ledger, args, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        ledger.overhead(*args)


def test_table_record_shapes_match_the_seed_schema():
    assert CHUNK_FRAGMENTS_COLUMNS == (
        "fragment_id", "chunk_id", "fragment_index", "node_url", "size_bytes", "checksum", "status", "created_at",
    )
    assert VIDEO_STATS_COLUMNS == ("video_id", "view_count", "last_viewed", "total_bytes_served")
    assert tuple(ChunkFragmentRecord.__annotations__) == CHUNK_FRAGMENTS_COLUMNS
    assert tuple(VideoStatsRecord.__annotations__) == VIDEO_STATS_COLUMNS


def test_config_checks_report_and_plots_get_per_chunk_bytes_and_savings_from_the_ledger():
    from vstack_sim.scenario.schema import Config

    cfg = Config()
    ledger = StorageLedger.for_settings(cfg.redundancy, cfg.catalog.chunk_size)
    assert ledger.physical_bytes_per_chunk("replication") == 3 * 2**21
    assert ledger.physical_bytes_per_chunk("erasure_coding") == 5 * 699_051
    assert ledger.per_chunk_savings_percent() == (1 - 5 * 699_051 / (3 * 2**21)) * 100
    assert ledger.savings_percent(ledger.all_erasure_coding_bytes(10), 10) == ledger.per_chunk_savings_percent()
    assert cfg._physical_per_chunk("erasure_coding") == ledger.physical_bytes_per_chunk("erasure_coding")
