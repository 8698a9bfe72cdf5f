"""The rules before issue 21, set explicitly, give back main's numbers exactly (issue 21, "What it must show").

``before_issue_21.json`` holds the whole ``summary.json`` of three shipped scenarios, shortened, as the commit
before issue 21 (1cf3961) wrote them. Each run here sets every rule issue 21 added or changed back to what it
was (``OLD_RULES``) and must give the same summary, key by key and exactly. The only keys allowed beyond
those are the ones issue 21 added (``NEW_KEYS``) and the blocks issues 22, 24, 25 and 26 added (``NEW_BLOCKS``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vstack_sim import load_scenario, simulate
from vstack_sim.scenario.legacy import RULES_BEFORE_READ_PATH

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE.parents[1] / "scenarios"
BEFORE = json.loads((HERE / "before_issue_21.json").read_text())

# The rules before issue 21, as overrides; the idealised ones are named in the report's caveats.
OLD_RULES = [f"{key}={rule}" for key, rule in RULES_BEFORE_READ_PATH.items()] + [
    "cluster.network_bandwidth=10Gbps",   # the node NIC every profile had (old folders store it written out)
]
OLD_CLIENT_LINK = ["cluster.client_bandwidth=1Gbps"]   # the old default reader link
OWN_CLIENT_LINK = {"hdd-loaded"}                        # scenarios that set cluster.client_bandwidth themselves
NEW_KEYS = {"reads.timed_out"}            # summary keys issue 21 added ("a.b" paths)
# Summary blocks added since: issue 22's frontier points, issue 24's cost of conversions.
NEW_BLOCKS = ("recovery.rebuild", "migrations.first_wave", "conversions", "cost", "durability.exposure",
              "durability.analytic", "durability.nines")


def flatten(block, prefix: str = "") -> dict:
    if not isinstance(block, dict):
        return {prefix: block}
    out = {}
    for key, value in block.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else key))
    return out


@pytest.mark.parametrize("run", sorted(BEFORE))
def test_the_old_rules_give_back_the_summary_before_issue_21(run):
    name, short = run.split(" ")
    overrides = [short, *OLD_RULES, *([] if name in OWN_CLIENT_LINK else OLD_CLIENT_LINK)]
    summary = simulate(load_scenario(SCENARIOS / f"{name}.yaml", overrides)).summary
    got, want = flatten(summary), flatten(BEFORE[run])
    assert {k: got.get(k, "missing") for k in want if got.get(k, "missing") != want[k]} == {}
    added = {k for k in set(got) - set(want) if not any(k == b or k.startswith(b + ".") for b in NEW_BLOCKS)}
    assert added == NEW_KEYS
