"""The ``prices`` section of the scenario schema: what storage, requests and conversion traffic cost, for the
``cost`` redundancy policy (:class:`~vstack_sim.system.cost_policies.CostPolicy`).

One storage price for now, with a per-mode override (``storage_per_gb_month_by_mode``) so that pools of one mode
priced apart can be given later without changing the others. Each default is a published list price (Amazon S3
Standard, us-east-1, as of 2024) or says it is illustrative; a GB is 10^9 bytes and a month 30 days
(docs/model.md, "Policies").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from vstack_sim.scenario.sections import ModeName, Section
from vstack_sim.system.cost_policies import (
    DEFAULT_MOVED_PER_GB,
    DEFAULT_REQUEST_PRICE,
    DEFAULT_STORAGE_PER_GB_MONTH,
    PriceTable,
)


class Prices(Section):
    """What the cost policy pays, in dollars."""

    storage_per_gb_month: float = Field(DEFAULT_STORAGE_PER_GB_MONTH, ge=0)
    ("Dollars per GB (10^9 bytes) stored for a month, physical bytes (replicas or fragments), in every mode not "
     "priced in storage_per_gb_month_by_mode. Default $0.023: Amazon S3 Standard, first 50 TB a month, us-east-1 "
     "(list price as of 2024).")
    storage_per_gb_month_by_mode: dict[ModeName, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = \
        Field(default_factory=dict)
    ("Per-mode storage prices, mode -> dollars per GB-month (e.g. {erasure_coding: 0.01} for a cheaper coded "
     "pool); a mode left out pays storage_per_gb_month.")
    request: float = Field(DEFAULT_REQUEST_PRICE, ge=0)
    ("Dollars per read request (one per replica read, one per fragment: k per coded chunk). Default $4e-7: Amazon "
     "S3 Standard GET, $0.0004 per 1,000 requests (list price as of 2024).")
    moved_per_gb: float = Field(DEFAULT_MOVED_PER_GB, ge=0)
    ("Dollars per GB a conversion moves (its bytes read plus its bytes written). Default $0.01, illustrative: "
     "AWS's list price for data transfer between Availability Zones in each direction (as of 2024).")

    def with_mode_prices(self, by_mode: dict[str, float]) -> Prices:
        """These prices with ``by_mode``'s storage prices taking precedence (the prices of the pools that hold the
        modes, :meth:`~vstack_sim.scenario.cluster_schema.ClusterConfig.pool_prices`)."""
        if not by_mode:
            return self
        return self.model_copy(update={"storage_per_gb_month_by_mode": {**self.storage_per_gb_month_by_mode,
                                                                        **by_mode}})

    def table(self) -> PriceTable:
        """The system layer's :class:`~vstack_sim.system.cost_policies.PriceTable` of these prices."""
        by_mode = self.storage_per_gb_month_by_mode
        return PriceTable(storage_replication=by_mode.get("replication", self.storage_per_gb_month),
                          storage_erasure_coding=by_mode.get("erasure_coding", self.storage_per_gb_month),
                          request=self.request, moved_per_gb=self.moved_per_gb)
