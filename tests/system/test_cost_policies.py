"""The size and cost policies on hand-made catalogs: each decision and each break-even computed by hand, the
shipped price table's break-even, the manual overrides on top, and their settings' errors."""

import numpy as np
import pytest

from vstack_sim.system.cost_policies import MONTH, CostPolicy, PriceTable, SizePolicy
from vstack_sim.system.manager import RedundancyManager
from vstack_sim.system.modes import MODE_ERASURE_CODING as EC
from vstack_sim.system.modes import MODE_REPLICATION as REP
from vstack_sim.system.modes import RedundancyMode as Mode
from vstack_sim.system.policies import ThresholdPolicy, VideoView, make_policy

KIB, MIB, GB = 1024, 2**20, 10**9


def view(counts, sizes, current=None):
    return VideoView.of(np.arange(len(counts)), np.array(counts), current, np.array(sizes))


# -- size --------------------------------------------------------------------------------------------------
def test_size_replicates_small_videos_and_leaves_the_others_to_the_threshold_rule():
    policy = SizePolicy(ThresholdPolicy(1000), min_ec_bytes=128 * KIB)
    sizes = [100 * KIB, 128 * KIB - 1, 128 * KIB, 10 * MIB, 10 * MIB]
    assert policy.decide(view([0, 0, 0, 1001, 1000], sizes), 0.0).tolist() == [REP, REP, EC, REP, EC]


def test_size_keeps_the_threshold_rules_hysteresis_for_large_videos():
    policy = make_policy("size", 1000, 0.5, min_ec_bytes=MIB)      # cold threshold 500
    videos = view([600, 600, 400, 0], [10 * MIB, 10 * MIB, 10 * MIB, KIB], current=np.array([REP, EC, REP, EC]))
    assert policy.decide(videos, 0.0).tolist() == [REP, EC, EC, REP]


def test_size_zero_is_the_threshold_rule_and_the_default_is_s3_intelligent_tierings_128_kb():
    assert make_policy("size", 10, min_ec_bytes=0).decide(view([0, 11], [1, 1]), 0.0).tolist() == [EC, REP]
    assert make_policy("size").min_ec_bytes == 128 * KIB


def test_size_needs_sizes():
    with pytest.raises(ValueError, match="^sizes:"):
        make_policy("size").decide(VideoView.of([0], [5]), 0.0)


# -- cost: a hand-sized geometry ---------------------------------------------------------------------------
# r = 3, RS(2, 1), 1 GB chunks: a replicated chunk stores 3 GB and is read in 1 request, a coded one stores
# ceil(1e9 / 2) x 3 = 1.5 GB and is read in 2. Storage $0.02/GB-month, $1e-5 a request, $0.01 a GB moved,
# counts over a 30-day window (a count is views a month), conversions paid back over a month.
GEOMETRY = RedundancyManager(replication_factor=3, erasure_data_shards=2, erasure_parity_shards=1, chunk_size=GB)
PRICES = PriceTable(storage_replication=0.02, storage_erasure_coding=0.02, request=1e-5, moved_per_gb=0.01)


def cost(**settings):
    return CostPolicy(GEOMETRY, **{"window": MONTH, "prices": PRICES, "horizon": MONTH, **settings})


def test_cost_prices_a_month_and_a_conversion_from_the_managers_geometry():
    policy, chunks, rate = cost(), np.array([1.0, 2.0]), np.array([1000 / MONTH] * 2)
    # 3 GB x 0.02 + 1,000 x 1 x 1e-5 = 0.07; 1.5 GB x 0.02 + 1,000 x 2 x 1e-5 = 0.05; x2 for two chunks.
    assert policy.monthly_cost(Mode.REPLICATION, chunks, rate) == pytest.approx([0.07, 0.14])
    assert policy.monthly_cost(Mode.ERASURE_CODING, chunks, rate) == pytest.approx([0.05, 0.10])
    # EC -> replication reads 2 x 0.5 GB and writes 3 GB: 4 GB x 0.01; back, 1 GB read and 1.5 GB written.
    assert policy.conversion_cost(Mode.ERASURE_CODING, Mode.REPLICATION, chunks) == pytest.approx([0.04, 0.08])
    assert policy.conversion_cost(Mode.REPLICATION, Mode.ERASURE_CODING, chunks) == pytest.approx([0.025, 0.05])


def test_cost_at_ingest_replicates_above_the_break_even_and_codes_below():
    # Replication is cheaper when 0.06 + c x 1e-5 < 0.03 + 2c x 1e-5, i.e. above c = 3,000 views a month,
    # whatever the video's chunks (both sides scale with them; 1.5 GB is 2 chunks).
    sizes = [GB, GB, 2 * GB, 2 * GB, 1.5 * GB, 1.5 * GB]
    got = cost().decide(view([2999, 3001, 2999, 3001, 2999, 3001], sizes), 0.0)
    assert got.tolist() == [EC, REP, EC, REP, EC, REP]


def test_cost_converts_only_when_the_amortised_conversion_pays():
    # A coded video moves to replication when 0.06 + c e-5 + 0.04 < 0.03 + 2c e-5 (c > 7,000); a replicated
    # one moves to EC when 0.03 + 2c e-5 + 0.025 < 0.06 + c e-5 (c < 500); in between each keeps its mode.
    counts = [6999, 7001, 3001, 2999, 501, 499]
    current = np.array([EC, EC, EC, REP, REP, REP])
    assert cost().decide(view(counts, [GB] * 6, current), 0.0).tolist() == [EC, REP, EC, REP, REP, EC]
    # Over two months the conversion to replication costs 0.02 a month: c > 5,000.
    two = cost(horizon=2 * MONTH).decide(view([4999, 5001], [GB] * 2, np.array([EC, EC])), 0.0)
    assert two.tolist() == [EC, REP]


def test_cost_per_mode_storage_prices():
    # Coded storage at $0.04: 1.5 GB x 0.04 = 3 GB x 0.02, so replication wins on requests for any read, and a
    # tie (no reads) goes to erasure coding.
    prices = PriceTable(storage_replication=0.02, storage_erasure_coding=0.04, request=1e-5, moved_per_gb=0.01)
    assert cost(prices=prices).decide(view([0, 1], [GB, GB]), 0.0).tolist() == [EC, REP]


def test_cost_under_the_shipped_prices_chooses_both_modes_at_the_hand_computed_break_even():
    # S3 list prices ($0.023/GB-month, $0.0004 per 1,000 GETs), r = 3, RS(3, 2), 2 MiB chunks, 7-day window.
    # Per chunk: replicated 3 x 2,097,152 = 6,291,456 B; coded ceil(2,097,152 / 3) x 5 = 3,495,255 B. Storage
    # saved by coding: 2,796,201 B x 0.023 / 1e9 = $6.4313e-5 a month; requests added: 2 x $4e-7 a view.
    # Break-even: 80.39 views a month, 80.39 x 7 / 30 = 18.76 views in the window.
    policy = make_policy("cost", geometry=RedundancyManager())
    assert policy.decide(view([18, 19, 0, 5000], [50 * 2 * MIB] * 4), 0.0).tolist() == [EC, REP, EC, REP]
    saved = (3 * 2 * MIB - 699051 * 5) * 0.023 / 1e9
    assert saved / (2 * 0.0004 / 1000) * 7 / 30 == pytest.approx(18.76, abs=0.01)


def test_overrides_win_over_the_size_and_cost_policies():
    for policy in (cost(), make_policy("size", 1000)):
        manager = RedundancyManager(policy=policy)
        manager.set_manual_override(0, "erasure_coding")
        manager.set_manual_override(1, "replication")
        got = manager.decide(view([1_000_000, 0], [GB, GB]), 0.0)
        assert got.tolist() == [EC, REP]
        assert policy.decide(view([1_000_000, 0], [GB, GB]), 0.0).tolist() == [REP, EC]


def test_a_manager_built_by_name_prices_its_own_geometry():
    manager = RedundancyManager(policy="cost", replication_factor=2)
    assert manager.policy_object.geometry is manager


@pytest.mark.parametrize("build, key", [
    (lambda: make_policy("cost"), "geometry"),
    (lambda: CostPolicy(object()), "geometry"),
    (lambda: cost(window=0), "window"),
    (lambda: cost(horizon=float("inf")), "cost_horizon"),
    (lambda: PriceTable(request=-1.0), "request"),
    (lambda: PriceTable(storage_erasure_coding=True), "storage_erasure_coding"),
    (lambda: make_policy("size", min_ec_bytes=-1), "min_ec_bytes"),
    (lambda: cost().decide(VideoView.of([0], [5]), 0.0), "sizes"),
])
def test_bad_settings_name_the_argument(build, key):
    with pytest.raises(ValueError, match=rf"^{key}:"):
        build()
