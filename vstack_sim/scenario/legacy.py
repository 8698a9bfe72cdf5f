"""The rules a stored scenario ran under when it was written before a rule's key existed.

A results folder keeps its scenario fully resolved (every key, defaults written out), so a key it lacks
did not exist when it ran. Loading it with today's defaults would relabel the run: a folder written
before the read path's named policies ran with the oracle replica choice, oracle repair sources, failures
known at once and no cache, not with today's random choice, client timeouts and (in the shipped
scenarios) a cache. :func:`rules_for` gives the dotted keys such a folder lacks with the rule it ran
under, as overrides for loading it, so reports and comparisons state what the run did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RULES_BEFORE_READ_PATH: dict[str, Any] = {
    "reads.replica_choice": "oracle",     # the replica whose disk would start the read soonest
    "repair.source_choice": "oracle",     # the sources whose disks would start soonest
    "reads.failure_timeout": 0,           # with failure_detection 0: readers knew of a failure at once
    "reads.failure_detection": 0,
    "cache.capacity": 0,                  # nothing in front of the store
}
"""The read-path rules of runs written before ``reads.replica_choice`` existed (issue 21)."""


def rules_for(stored: Mapping) -> dict[str, Any]:
    """The keys of :data:`RULES_BEFORE_READ_PATH` that the stored scenario mapping lacks, with their rules."""
    missing = {}
    for key, rule in RULES_BEFORE_READ_PATH.items():
        node: Any = stored
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                missing[key] = rule
                break
            node = node[part]
    return missing
