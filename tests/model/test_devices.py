"""Device profiles (sources, ranges, explicit keys win, custom = the plain model) and positioning times."""

import math

import numpy as np
import pytest

from vstack_sim.model.devices import PositioningTimes
from vstack_sim.scenario.devices import PROFILE_KEYS, PROFILES
from vstack_sim.scenario.schema import Config


def cluster(**keys):
    return Config.model_validate({"cluster": keys}).cluster


def test_every_profile_value_documents_its_source():
    for name, profile in PROFILES.items():
        for key in PROFILE_KEYS:
            doc = type(profile).model_fields[key].description or ""
            assert len(doc) > 20, (name, key)
    for name in ("hdd", "ssd", "nvme"):
        docs = " ".join(type(PROFILES[name]).model_fields[k].description for k in PROFILE_KEYS)
        assert any(s in docs for s in ("data sheet", "product brief", "specification", "Ruemmler")), name


def test_profiles_are_within_the_physical_ranges():
    hdd, ssd, nvme = (cluster(device=d) for d in ("hdd", "ssd", "nvme"))
    assert hdd.io_slots == 1 and 150e6 <= hdd.disk_bandwidth <= 250e6 and 0.004 <= hdd.request_latency <= 0.012
    assert 12 <= hdd.disks_per_node <= 60
    for flash in (ssd, nvme):
        assert flash.io_slots >= 16 and flash.request_latency < 0.001 and flash.shared_disk_bandwidth
    assert nvme.disk_bandwidth > ssd.disk_bandwidth > hdd.disk_bandwidth


def test_the_default_device_is_a_realistic_profile_and_custom_is_the_plain_model():
    assert Config().cluster.device == "hdd"
    c = cluster(device="custom")
    assert (c.disks_per_node, c.io_slots, c.disk_bandwidth, c.request_latency, c.positioning_time,
            c.positioning_cv, c.shared_disk_bandwidth) == (1, 4, 50e6, 0.004, "deterministic", 0.0, False)


def test_keys_set_explicitly_override_the_profile():
    c = cluster(device="ssd", io_slots=3, request_latency="2ms", disks_per_node=24)
    assert (c.io_slots, c.request_latency, c.disks_per_node) == (3, 0.002, 24)
    assert c.disk_bandwidth == PROFILES["ssd"].disk_bandwidth       # the rest still from the profile


def test_a_resolved_config_round_trips():
    c = Config.model_validate({"cluster": {"device": "nvme", "io_slots": 7}})
    again = Config.model_validate(c.model_dump())
    assert again == c


@pytest.mark.parametrize("kind,cv", [("lognormal", 1.0), ("lognormal", 2.0), ("gamma", 0.4), ("gamma", 1.5)])
def test_positioning_times_have_the_configured_mean_and_cv(kind, cv):
    pos = PositioningTimes(kind, 0.008, cv, np.random.default_rng(1))
    x = np.array([pos.take() for _ in range(200_000)])
    se = cv * 0.008 / math.sqrt(len(x))
    assert abs(x.mean() - 0.008) < 5 * se
    assert x.std() / x.mean() == pytest.approx(cv, rel=0.1)
    assert (x > 0).all()
    m1, m2 = pos.moments()
    assert m1 == 0.008 and m2 == pytest.approx(0.008 ** 2 * (1 + cv * cv))


def test_take_consumes_the_stream_in_numpy_blocks_in_order():
    a = PositioningTimes("gamma", 0.005, 0.5, np.random.default_rng(7))
    b = PositioningTimes("gamma", 0.005, 0.5, np.random.default_rng(7))
    taken = [a.take() for _ in range(70_000)]           # crosses a block boundary
    drawn = np.concatenate([b.draw(1 << 16), b.draw(1 << 16)])[:70_000]
    assert np.array_equal(np.array(taken), drawn)


def test_deterministic_positioning_draws_nothing():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    pos = PositioningTimes("deterministic", 0.004, 0.7, rng)
    assert [pos.take() for _ in range(5)] == [0.004] * 5
    assert PositioningTimes("lognormal", 0.004, 0.0, rng).take() == 0.004
    assert rng.bit_generator.state == state


@pytest.mark.parametrize("args,name", [(("weibull", 1.0, 1.0), "kind"), (("gamma", -1.0, 1.0), "mean"),
                                       (("gamma", 1.0, -0.1), "cv")])
def test_bad_positioning_arguments_are_refused_naming_them(args, name):
    with pytest.raises(ValueError, match=name):
        PositioningTimes(*args, np.random.default_rng(0))


def test_bad_device_keys_name_the_key():
    from pydantic import ValidationError

    from vstack_sim.scenario.sections import validation_error_line

    for bad, key in [({"device": "tape"}, "cluster.device"),
                     ({"positioning_time": "pareto"}, "cluster.positioning_time"),
                     ({"disks_per_node": 0}, "cluster.disks_per_node"),
                     ({"positioning_cv": -1}, "cluster.positioning_cv")]:
        with pytest.raises(ValidationError) as e:
            Config.model_validate({"cluster": bad})
        assert validation_error_line(e.value).startswith(key)
