"""The policies of real stores (age, reads, quiet) on a small hand-made catalog, their settings, and the
registry that builds every policy by name."""

import numpy as np
import pytest

from vstack_sim.system.manager import RedundancyManager
from vstack_sim.system.modes import MODE_ERASURE_CODING as EC
from vstack_sim.system.modes import MODE_REPLICATION as REP
from vstack_sim.system.policies import (
    POLICIES,
    AgePolicy,
    FixedPolicy,
    QuietPolicy,
    ReadsPolicy,
    ThresholdPolicy,
    VideoView,
    make_policy,
)

DAY = 86400.0
NOW = 100 * DAY
IDS = np.arange(6)


def view(counts=(0,) * 6, current=None, sizes=None, uploaded_at=None, last_read=None):
    return VideoView.of(IDS, np.array(counts), current, sizes, uploaded_at, last_read)


# -- age (f4) ----------------------------------------------------------------------------------------------
# Ages at NOW: unknown, 100 d, 31 d, exactly 30 d, 1 d, 0.
UPLOADED = np.array([-np.inf, 0.0, NOW - 31 * DAY, NOW - 30 * DAY, NOW - DAY, NOW])


def test_age_codes_what_is_older_than_the_threshold_and_unknown_ages_are_old():
    policy = AgePolicy(30 * DAY)
    assert policy.decide(view(uploaded_at=UPLOADED), NOW).tolist() == [EC, EC, EC, REP, REP, REP]


def test_age_ignores_views_and_current_modes():
    policy = AgePolicy(30 * DAY)
    busy = view(counts=[10**6] * 6, current=[REP] * 6, uploaded_at=UPLOADED)
    assert policy.decide(busy, NOW).tolist() == [EC, EC, EC, REP, REP, REP]


def test_age_without_upload_times_codes_everything():
    assert AgePolicy(30 * DAY).decide(view(), NOW).tolist() == [EC] * 6


# -- quiet (S3 Intelligent-Tiering) ------------------------------------------------------------------------
# Quiet at NOW for: never known, 100 d, exactly 30 d, 30 d less a second, 1 d, 0.
LAST_READ = np.array([-np.inf, 0.0, NOW - 30 * DAY, NOW - 30 * DAY + 1, NOW - DAY, NOW])


def test_quiet_codes_what_was_not_read_for_quiet_for():
    policy = QuietPolicy(30 * DAY)
    assert policy.decide(view(last_read=LAST_READ), NOW).tolist() == [EC, EC, EC, REP, REP, REP]


def test_quiet_starting_catalog_is_replicated_until_it_has_been_quiet_that_long():
    # The world gives an unread starting video a last read of 0: replicated at ingest, coded at 30 days.
    policy = QuietPolicy(30 * DAY)
    zero = view(last_read=np.zeros(6))
    assert policy.decide(zero, 0.0).tolist() == [REP] * 6
    assert policy.decide(zero, 30 * DAY - 1).tolist() == [REP] * 6
    assert policy.decide(zero, 30 * DAY).tolist() == [EC] * 6


# -- reads (HACFS) ----------------------------------------------------------------------------------------
COUNTS = [0, 3, 4, 9, 10, 50]
CURRENT = [REP, REP, REP, EC, EC, EC]


def test_reads_promotes_at_promote_demotes_at_demote_and_keeps_the_mode_between():
    policy = ReadsPolicy(promote=10, demote=3)
    # 0 and 3 fall to demote; 4 (replicated) and 9 (coded) are between and keep their modes; 10 and 50 reach promote.
    assert policy.decide(view(COUNTS, CURRENT), NOW).tolist() == [EC, EC, REP, EC, REP, REP]


def test_reads_at_ingest_only_promote_counts():
    assert ReadsPolicy(promote=10, demote=3).decide(view(COUNTS), 0.0).tolist() == [EC, EC, EC, EC, REP, REP]


def test_reads_hysteresis_keeps_the_mode_of_a_count_oscillating_between_demote_and_promote():
    reads = ReadsPolicy(promote=10, demote=3)
    plain = ThresholdPolicy(9)                         # replicates from 10 views on, and back below

    def follow(policy, counts):
        mode, modes = EC, []
        for count in counts:
            mode = int(policy.decide(VideoView.of([0], [count], [mode]), 0.0)[0])
            modes.append(mode)
        return modes

    counts = [5, 9, 4, 8, 10, 5, 9, 4, 8, 3, 9]
    assert follow(reads, counts) == [EC] * 4 + [REP] * 5 + [EC] * 2
    # The same counts flip the plain threshold rule at every crossing of 9.5.
    assert follow(plain, [10, 5, 10, 5]) == [REP, EC, REP, EC]
    assert follow(reads, [10, 5, 10, 5]) == [REP] * 4


SIZES = np.array([1, 2, 3, 4, 5, 6]) * 2**20        # 21 MiB in all


@pytest.mark.parametrize("share, replicated", [
    (1.0, [2, 4, 5]),       # no bound
    (0.6, [4, 5]),          # floor(12.6) MiB: 6 + 5 fit, + 3 does not
    (0.5, [5]),             # 10.5 MiB: 6 fits, + 5 does not; video 2 (3 MiB) would fit but is colder than video 4
    (0.2, []),              # 4.2 MiB: not even the hottest
])
def test_reads_bound_replicates_the_hottest_within_the_share_of_logical_bytes(share, replicated):
    policy = ReadsPolicy(promote=10, demote=3, max_replicated=share)
    got = policy.decide(view(COUNTS, CURRENT, sizes=SIZES), NOW)
    assert np.flatnonzero(got == REP).tolist() == replicated


def test_reads_bound_breaks_ties_in_catalog_order_and_takes_a_share_exactly():
    policy = ReadsPolicy(promote=10, demote=3, max_replicated=0.5)
    tied = VideoView.of(np.arange(4), np.array([20, 20, 20, 0], dtype=np.uint32), sizes=np.full(4, 10))
    assert policy.decide(tied, 0.0).tolist() == [REP, REP, EC, EC]      # 20 of 40 bytes: exactly the share


def test_reads_bound_needs_sizes():
    with pytest.raises(ValueError, match=r"^sizes:"):
        ReadsPolicy(10, 3, 0.5).decide(view(COUNTS), NOW)


# -- every new policy: overrides win, uploads are replicated -----------------------------------------------
CASES = [
    (AgePolicy(30 * DAY), view(uploaded_at=UPLOADED), [EC, EC, EC, REP, REP, REP]),
    (QuietPolicy(30 * DAY), view(last_read=LAST_READ), [EC, EC, EC, REP, REP, REP]),
    (ReadsPolicy(10, 3), view(COUNTS, CURRENT), [EC, EC, REP, EC, REP, REP]),
]


@pytest.mark.parametrize("policy, videos, expected", CASES, ids=["age", "quiet", "reads"])
def test_overrides_win_over_every_new_policy(policy, videos, expected):
    manager = RedundancyManager(policy=policy)
    assert manager.decide(videos, NOW).tolist() == expected
    manager.set_manual_override(0, "replication")            # coded by the policy
    manager.set_manual_override(5, "erasure_coding")         # replicated by the policy
    assert manager.decide(videos, NOW).tolist() == [REP] + expected[1:5] + [EC]
    assert manager.decide_uploads(videos, NOW).tolist() == [REP, REP, REP, REP, REP, EC]


@pytest.mark.parametrize("policy", [case[0] for case in CASES], ids=["age", "quiet", "reads"])
def test_new_policies_assign_both_modes_and_replicate_uploads(policy):
    assert {m.value for m in policy.modes()} == {"replication", "erasure_coding"}
    assert policy.upload_modes(view(), NOW).tolist() == [REP] * 6


def test_the_seed_scalar_call_works_under_the_new_policies():
    # The scalar call knows no ages or reads: unknown, hence old and quiet; reads go by the count alone.
    assert RedundancyManager(policy="age").determine_redundancy_mode(1, 5000)[0] == "erasure_coding"
    assert RedundancyManager(policy="quiet").determine_redundancy_mode(1, 5000)[0] == "erasure_coding"
    assert RedundancyManager(policy="reads").determine_redundancy_mode(1, 5000)[0] == "replication"


# -- the registry ------------------------------------------------------------------------------------------
def test_make_policy_builds_every_policy_from_its_settings():
    settings = dict(age_threshold=7 * DAY, reads_promote=20, reads_demote=2, reads_max_replicated=0.25,
                    quiet_for=DAY, min_ec_bytes=4096, geometry=RedundancyManager(), window=DAY,
                    cost_horizon=2 * DAY, predictive_alpha=0.25, predictive_beta=0.75)
    built = {name: make_policy(name, 500, 0.5, **settings) for name in POLICIES}
    assert repr(built["threshold"]) == "ThresholdPolicy(threshold=500, hysteresis=0.5, name='threshold')"
    assert repr(built["adaptive"]) == "ThresholdPolicy(threshold=500, hysteresis=0.5, name='adaptive')"
    assert repr(built["age"]) == "AgePolicy(age_threshold=604800.0)"
    assert repr(built["reads"]) == "ReadsPolicy(promote=20, demote=2, max_replicated=0.25)"
    assert repr(built["quiet"]) == "QuietPolicy(quiet_for=86400.0)"
    assert repr(built["size"]) == ("SizePolicy(min_ec_bytes=4096, base=ThresholdPolicy(threshold=500, "
                                   "hysteresis=0.5, name='threshold'))")
    assert (built["cost"].window, built["cost"].horizon) == (DAY, 2 * DAY)
    assert repr(built["predictive"]) == "PredictivePolicy(threshold=500, cold_threshold=250, alpha=0.25, beta=0.75)"
    assert repr(built["replication"]) == "FixedPolicy(mode='replication')"
    assert repr(built["erasure_coding"]) == "FixedPolicy(mode='erasure_coding')"
    assert {name: p.name for name, p in built.items()} == {name: name for name in POLICIES}


def test_adaptive_is_the_threshold_rule_under_its_old_name():
    videos = view(COUNTS, CURRENT)
    old, new = make_policy("adaptive", 4, 0.5), make_policy("threshold", 4, 0.5)
    assert type(old) is type(new) is ThresholdPolicy
    assert old.decide(videos, NOW).tolist() == new.decide(videos, NOW).tolist()
    assert RedundancyManager(policy="adaptive").policy == "adaptive"
    assert RedundancyManager(policy="threshold").policy == "threshold"


def test_defaults_follow_the_sources():
    assert make_policy("age").age_threshold == 30 * DAY          # f4: one to three months
    assert make_policy("quiet").quiet_for == 30 * DAY            # S3 Intelligent-Tiering: 30 days
    reads = make_policy("reads")
    assert (reads.promote, reads.demote, reads.max_replicated) == (1000, 500, 1.0)
    assert isinstance(make_policy("replication"), FixedPolicy)


@pytest.mark.parametrize("name, settings, key", [
    ("age", dict(age_threshold=0), "age_threshold"),
    ("age", dict(age_threshold=float("inf")), "age_threshold"),
    ("age", dict(age_threshold=True), "age_threshold"),
    ("quiet", dict(quiet_for=-1.0), "quiet_for"),
    ("reads", dict(reads_promote=0, reads_demote=0), "reads_promote"),
    ("reads", dict(reads_promote=5, reads_demote=5), "reads_demote"),
    ("reads", dict(reads_demote=-1), "reads_demote"),
    ("reads", dict(reads_max_replicated=0.0), "reads_max_replicated"),
    ("reads", dict(reads_max_replicated=1.5), "reads_max_replicated"),
    ("sideways", {}, "policy"),
])
def test_bad_settings_name_the_argument(name, settings, key):
    with pytest.raises(ValueError, match=rf"^{key}:"):
        make_policy(name, **settings)


def test_settings_of_other_policies_are_ignored():
    assert isinstance(make_policy("age", reads_promote=1, reads_demote=0), AgePolicy)


@pytest.mark.parametrize("field", ["uploaded_at", "last_read"])
def test_video_view_checks_the_times(field):
    with pytest.raises(ValueError, match=rf"^{field}:"):
        VideoView.of(IDS, np.zeros(6), **{field: np.zeros(5)})
    with pytest.raises(ValueError, match=rf"^{field}:"):
        VideoView.of(IDS, np.zeros(6), **{field: np.array([0, 1, 2, 3, 4, np.nan])})
