"""Off-peak windows in a run: no chunk conversion starts outside them, a chunk under way finishes, and checks
still run (and queue) at their interval."""

import pytest

from tests.builders import config
from vstack_sim.model.migration import Migrator
from vstack_sim.model.offpeak import DAY, HOUR
from vstack_sim.model.simulation import simulate
from vstack_sim.system.modes import MODE_ERASURE_CODING


def crowd(windows=(), **extra):
    """A flash crowd on video 10 from 09:00 to 11:00: an hourly check past the threshold replicates it."""
    return config({
        "run": {"duration": "24h"},
        "catalog": {"videos": 20, "chunks_per_video": 5, "hot_fraction": 0.1},
        "cluster": {"nodes": 8, "racks": 4},
        "migration": {"check_interval": "1h", "windows": [list(w) for w in windows]},
        "workload": {"flash_crowds": [{"video": 10, "start": "9h", "duration": "2h", "view_rate": "0.5/s"}]},
    }, extra)


@pytest.fixture
def chunk_times(monkeypatch):
    """(start, end) of every chunk conversion of the run, from the migrator's own per-chunk step."""
    times = []
    original = Migrator._convert_chunk

    def recorded(self, c, *args):
        start = self.w.env.now
        outcome = yield from original(self, c, *args)
        times.append((start, self.w.env.now))
        return outcome

    monkeypatch.setattr(Migrator, "_convert_chunk", recorded)
    return times


def at_night(t: float) -> bool:
    hour = (t % DAY) / HOUR
    return hour >= 22 or hour < 6


def test_without_windows_the_conversion_starts_at_the_check(chunk_times):
    r = simulate(crowd())
    m = r.migrations
    assert list(m["video_id"]) == [10]
    assert m["start_s"].iloc[0] % HOUR == 0 and 9 * HOUR < m["start_s"].iloc[0] <= 12 * HOUR
    assert len(chunk_times) == 5


def test_with_a_night_window_no_chunk_starts_by_day(chunk_times):
    r = simulate(crowd(windows=[(22, 6)]))
    m = r.migrations
    assert list(m["video_id"]) == [10] and m["to_mode"].iloc[0] == "replication"
    assert m["start_s"].iloc[0] == 22 * HOUR                  # decided by day, converted from 22:00
    assert len(chunk_times) == 5 and all(at_night(start) for start, _ in chunk_times)
    assert r.videos.set_index("video_id").loc[10, "mode"] == "replication"


def test_a_chunk_under_way_finishes_and_the_rest_wait_for_the_next_window(chunk_times):
    # 10 kB/s: a chunk takes about 14 minutes, so a 30-minute window starts three and the rest wait a day.
    r = simulate(crowd(windows=[(22, 22.5)], run={"duration": "50h"}, migration={"conversion_rate": "10kB/s"}))
    close = 22.5 * HOUR
    starts = sorted(start for start, _ in chunk_times)
    assert len(starts) == 5
    assert all(22 * HOUR <= s < close or DAY + 22 * HOUR <= s < DAY + close for s in starts)
    first_night = [(s, e) for s, e in chunk_times if s < close]
    assert 0 < len(first_night) < 5
    assert max(e for _, e in first_night) > close                 # the last one ran past the close, to its end
    m = r.migrations.iloc[0]
    assert m["start_s"] == 22 * HOUR and DAY + 22 * HOUR < m["end_s"] < DAY + close + HOUR
    assert m["chunks"] == 5


def test_checks_still_run_outside_the_windows():
    from vstack_sim.model.simulation import Simulation

    sim = Simulation(crowd(windows=[(22, 6)], run={"duration": "14.5h"})).build().start().run()
    assert sim.migrator.checks == 15                             # t = 0, 1 h, ..., 14 h
    assert sim.migrator.unfinished() == 1                        # video 10 taken, its converter waiting
    assert sim.migrator.busy[10] and sim.world.video_mode[10] == MODE_ERASURE_CODING
