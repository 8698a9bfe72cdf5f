"""The off-peak window arithmetic, by hand: the next opening at or after t."""

import pytest

from vstack_sim.model.offpeak import DAY, HOUR, next_opening

NIGHT = [(22, 6)]                       # wraps midnight
TWO = [(9, 12), (14, 15.5)]


@pytest.mark.parametrize("t, expected", [
    (0.0, 0.0),                                   # midnight is inside 22-6
    (6 * HOUR - 1, 6 * HOUR - 1),                 # a second before the end: still open
    (6 * HOUR, 22 * HOUR),                        # exactly the end: closed, opens at 22:00 (79,200 s)
    (12 * HOUR, 79_200.0),
    (22 * HOUR, 22 * HOUR),                       # exactly the start: open
    (DAY + 23 * HOUR, DAY + 23 * HOUR),           # day 1, 23:00
    (2 * DAY + 7 * HOUR, 252_000.0),              # day 2, 07:00 -> 2 x 86,400 + 79,200
])
def test_a_window_across_midnight(t, expected):
    assert next_opening(t, NIGHT) == expected


@pytest.mark.parametrize("t, expected", [
    (8 * HOUR, 32_400.0),                         # before the first window: 09:00
    (12 * HOUR, 50_400.0),                        # the end of the first: the second at 14:00
    (15.5 * HOUR, 118_800.0),                     # the end of the last: tomorrow 09:00 = 86,400 + 32,400
    (3 * DAY + 15 * HOUR, 313_200.0),             # inside the second on day 3
    (14 * HOUR - 0.25, 14 * HOUR),                # a quarter second early
])
def test_two_windows_in_a_day(t, expected):
    assert next_opening(t, TWO) == expected


def test_no_windows_or_the_whole_day_is_always_open():
    for t in (0.0, 5 * HOUR, 123_456.789):
        assert next_opening(t, []) == t
        assert next_opening(t, [(0, 24)]) == t


def test_an_end_at_midnight_written_as_0_or_24():
    assert next_opening(23 * HOUR, [(22, 0)]) == 23 * HOUR
    assert next_opening(DAY, [(22, 0)]) == DAY + 22 * HOUR          # midnight itself is outside [22, 24)
    assert next_opening(DAY, [(22, 24)]) == DAY + 22 * HOUR
