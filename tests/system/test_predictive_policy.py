"""The predictive policy: its Holt forecast hand-computed check by check, promotions a check ahead of the
crossing, the hysteresis on the way back, its counters of early and false promotions, its state across a
growing catalog, and the manual overrides on top."""

import numpy as np
import pytest

from vstack_sim.system.manager import RedundancyManager
from vstack_sim.system.modes import MODE_ERASURE_CODING as EC
from vstack_sim.system.modes import MODE_REPLICATION as REP
from vstack_sim.system.policies import VideoView, make_policy
from vstack_sim.system.predictive_policy import PredictivePolicy

HOUR = 3600.0


def step(policy, counts, current=None, now=0.0, ids=None):
    ids = np.arange(len(counts)) if ids is None else np.asarray(ids)
    current = None if current is None else np.asarray(current, dtype=np.int8)
    return policy.decide(VideoView.of(ids, np.array(counts), current), now).tolist()


def test_the_default_forecast_promotes_a_rising_video_one_check_before_its_count_crosses():
    # alpha = beta = 0.5, T = 1000; video 0 rises by 200 a check, video 1 stays at 0 (exact binary fractions):
    #   count  level      trend       forecast
    #   0      0          0           0
    #   200    100        50          150
    #   400    275        112.5       387.5
    #   600    493.75     165.625     659.375
    #   800    729.6875   200.78125   930.46875
    #   1000   965.234375 218.1640625 1183.3984375  -> replicated with the count at T (not above it)
    policy = make_policy("predictive", 1000)
    forecasts, modes, current = [], [], None
    for i, c in enumerate([0, 200, 400, 600, 800, 1000]):
        got = step(policy, [c, 0], current, now=i * HOUR)
        forecasts.append(float(policy.forecast([0])[0]))
        modes.append(got[0])
        current = got
    assert forecasts == [0, 150, 387.5, 659.375, 930.46875, 1183.3984375]
    assert modes == [EC] * 5 + [REP]
    assert (policy.early_promotions, policy.false_promotions) == (1, 0)
    assert step(policy, [1200, 0], current, now=6 * HOUR)[0] == REP  # the count crosses: a true promotion
    assert step(policy, [0, 0], [REP, EC], now=7 * HOUR)[0] == EC    # forecast about 576 <= 1000: demoted
    assert (policy.early_promotions, policy.false_promotions) == (1, 0)


def test_a_promotion_whose_count_never_crosses_is_counted_false_when_it_is_demoted():
    # alpha = beta = 1: the forecast is 2x - previous. Counts 0, 400, 800: forecast 1200 > 1000, promoted
    # early; then 900: forecast 1000 (not above), count 900 <= cold threshold 1000 -> demoted, never crossed.
    policy = PredictivePolicy(1000, alpha=1.0, beta=1.0)
    assert step(policy, [0], now=0.0) == [EC]
    assert step(policy, [400], [EC], now=HOUR) == [EC]
    assert step(policy, [800], [EC], now=2 * HOUR) == [REP]
    assert (policy.early_promotions, policy.false_promotions) == (1, 0)
    assert step(policy, [900], [REP], now=3 * HOUR) == [EC]
    assert (policy.early_promotions, policy.false_promotions) == (1, 1)


def test_the_way_back_uses_the_cold_threshold_on_count_and_forecast():
    # T = 1000, h = 0.5: cold threshold 500. alpha = 1, beta = 0: forecast = count (the threshold rule).
    policy = make_policy("predictive", 1000, 0.5, predictive_alpha=1.0, predictive_beta=0.0)
    assert policy.cold_threshold == 500
    assert step(policy, [1001, 600, 500, 600], [EC, REP, REP, EC]) == [REP, REP, EC, EC]
    assert policy.early_promotions == 0


def test_a_waiting_conversion_is_not_promoted_twice():
    # Promoted by forecast at one check; at the next the video is still coded (its conversion waits): the
    # policy wants it replicated again, which is no new promotion.
    policy = PredictivePolicy(1000, alpha=1.0, beta=1.0)
    for i, c in enumerate([0, 400, 800, 950]):
        step(policy, [c], [EC], now=i * HOUR)
    assert policy.early_promotions == 1


def test_state_follows_ids_across_a_growing_catalog_and_a_second_call_at_the_same_time_does_not_update():
    policy = PredictivePolicy(1000, alpha=1.0, beta=1.0)
    step(policy, [0, 100], now=0.0)
    step(policy, [50, 300], [EC, EC], now=HOUR)
    assert policy.forecast([0, 1]).tolist() == [100, 500]
    # An upload's id (12) arrives; ids come in any order.
    step(policy, [900, 700, 0], [EC, EC, REP], now=2 * HOUR, ids=[1, 0, 12])
    assert policy.forecast([0, 1, 12]).tolist() == [1350, 1500, 0]
    assert np.isnan(policy.forecast([5, 99])).all()
    step(policy, [0, 0, 0], [EC, EC, REP], now=2 * HOUR, ids=[1, 0, 12])    # same time: no update
    assert policy.forecast([0, 1, 12]).tolist() == [1350, 1500, 0]


def test_overrides_win_over_the_predictive_policy():
    policy = PredictivePolicy(1000, alpha=1.0, beta=1.0)
    manager = RedundancyManager(policy=policy)
    manager.set_manual_override(0, "erasure_coding")

    def view(counts):
        return VideoView.of(np.arange(2), np.array(counts), np.array([EC, EC], dtype=np.int8))

    manager.decide(view([0, 0]), 0.0)
    assert manager.decide(view([800, 800]), HOUR).tolist() == [EC, REP]    # both forecast at 1600
    assert policy.early_promotions == 2                                          # the policy's own decisions


@pytest.mark.parametrize("settings, key", [
    (dict(predictive_alpha=0.0), "predictive_alpha"),
    (dict(predictive_alpha=1.5), "predictive_alpha"),
    (dict(predictive_beta=-0.1), "predictive_beta"),
    (dict(predictive_beta=True), "predictive_beta"),
])
def test_bad_settings_name_the_argument(settings, key):
    with pytest.raises(ValueError, match=rf"^{key}:"):
        make_policy("predictive", **settings)


def test_ids_must_be_non_negative_integers():
    with pytest.raises(ValueError, match="^ids:"):
        step(PredictivePolicy(10), [1], ids=["a"])


def test_a_one_off_recommendation_is_the_threshold_rule_and_leaves_the_checks_state_alone():
    from vstack_sim.system.manager import RedundancyManager

    m = RedundancyManager(policy="predictive", popularity_threshold=100)
    assert m.recommend("a", 5000)["recommended_mode"] == "replication"
    assert m.recommend("a", 0)["recommended_mode"] == "erasure_coding"     # no history carried from the last call
    assert m.policy_object.counters() == {"early_promotions": 0, "false_promotions": 0}
    assert m.policy_object.forecast([0]).tolist() == [pytest.approx(float("nan"), nan_ok=True)]
