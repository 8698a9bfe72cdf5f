"""One disk slot, Poisson reads of fixed-size chunks: the read path is an M/D/1 queue.

Mean latency through simulate() must match Pollaczek-Khinchine,
1/mu + rho / (2 mu (1 - rho)), plus the fixed network terms, within 3 %.
"""

import pytest

from vstack_sim.analysis.theory import md1_mean_sojourn
from vstack_sim.model.simulation import simulate
from vstack_sim.scenario.schema import Config
from vstack_sim.validation.queue_checks import MD1_NETWORK as NETWORK  # NIC (never queues), client link, latency
from vstack_sim.validation.queue_checks import MD1_SERVICE as SERVICE
from vstack_sim.validation.queue_checks import md1_scenario


@pytest.mark.parametrize("rho,reads", [(0.5, 300_000), (0.9, 1_000_000)])
def test_mean_read_latency_matches_pollaczek_khinchine(rho, reads):
    rate = rho / SERVICE
    cfg = Config.model_validate(md1_scenario(rate, reads / rate, 11))   # the setup check-model runs (one source)
    s = simulate(cfg).summary
    assert s["reads"]["count"] > 0.97 * reads
    expected_ms = (md1_mean_sojourn(rate, SERVICE) + NETWORK) * 1000.0
    assert s["reads"]["latency_ms"]["all"]["mean"] == pytest.approx(expected_ms, rel=0.03)
