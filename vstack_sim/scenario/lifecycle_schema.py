"""The living catalog's sections of the scenario schema: uploads, deletes and per-video aging (``workload.uploads``,
``workload.deletes``, ``workload.aging``).

Part of :class:`~vstack_sim.scenario.schema.WorkloadConfig`. Off by default: an upload rate of 0, no deletes and no
aging leave the catalog fixed at ingest, as before. The rules and the real systems they follow are in docs/model.md
("A living catalog").
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from vstack_sim.scenario.sections import PerSecond, Seconds, Section
from vstack_sim.scenario.units import parse_duration

UPLOAD_KEY = "upload-{}"
"""The key of the i-th video uploaded during a run (i from 0, in upload order)."""
_UPLOAD_KEY = re.compile(r"upload-(0|[1-9][0-9]*)")


def check_upload_keys(keys) -> None:
    """A ``catalog.source`` of a run with uploads may not key a video as an upload would be (two videos, one key)."""
    for i, key in enumerate(keys.tolist()):
        if _UPLOAD_KEY.fullmatch(key):
            raise ValueError(f"catalog.source: line {i + 2}: video {key!r} has the key of a video uploaded during the "
                             f"run (workload.uploads keys them upload-0, upload-1, ...); rename it")


#: Aging presets: curve, burst and exponent, each from a published measurement (docs/model.md).
AGING_PRESETS = {
    # f4 (Muralidhar et al., OSDI'14, section 3): requests fall at least tenfold within a week for 8 of its 9 BLOB
    # types. (1 + 7d/6h)^-1.5 / (1 + 1d/6h)^-1.5 = (29/5)^-1.5: a week-old video gets 14x fewer views than a day-old.
    "f4": {"curve": "power_law", "burst": 6 * 3600.0, "exponent": 1.5},
}


class AgingConfig(Section):
    """How each uploaded video's view intensity follows its own age: a burst at upload, then a decay.

    A video with lifetime views A is viewed at A x g(age), g a density over ages (its integral is 1):
    ``power_law`` g(x) = (beta - 1) / tau x (1 + x / tau)^-beta, ``exponential`` g(x) = exp(-x / tau) / tau;
    tau is the ``burst`` (the age up to which the intensity stays near its peak)."""

    preset: Literal["custom", "f4"] = "custom"
    """A published curve (its settings replace curve, burst and exponent): f4 = power law, 6 h burst, exponent 1.5."""
    curve: Literal["power_law", "exponential"] = "power_law"
    """power_law: (1 + age / burst)^-exponent; exponential: exp(-age / burst)."""
    burst: Seconds = Field(6 * 3600.0, gt=0)
    """tau: the age over which a new video's intensity stays near its peak."""
    exponent: float = Field(1.5, gt=1, le=10)
    ("beta of the power law: above 1, so each video's lifetime views are finite and the catalog's total view rate "
     "reaches a steady state (at 1 or below it grows without bound).")

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data):
        if isinstance(data, dict) and data.get("preset", "custom") in AGING_PRESETS:
            preset = AGING_PRESETS[data["preset"]]
            # A resolved scenario writes the preset's own values back beside it: those are no clash.
            parse = {"curve": str, "burst": parse_duration, "exponent": float}
            for key in sorted(set(data) & set(preset)):
                try:
                    same = parse[key](data[key]) == preset[key]
                except (TypeError, ValueError):
                    same = False
                if not same:
                    raise ValueError(f"{key}: set by preset {data['preset']!r} to {preset[key]!r}, got "
                                     f"{data[key]!r}; give one or the other")
            data = {**data, **preset}
        return data


class UploadsConfig(Section):
    """New videos arriving during the run (Poisson, following ``workload.daily_cycle``)."""

    rate: PerSecond = Field(0.0, ge=0)
    """Mean uploads per second (0 = none); accepts 1000/d style rates."""
    chunks_per_video: int = Field(50, ge=1)
    """Chunks of an uploaded video (the mean when chunk_count_distribution is lognormal)."""
    chunk_count_distribution: Literal["fixed", "lognormal"] = "fixed"
    """fixed: every upload has chunks_per_video chunks; lognormal: drawn with that mean (at least 1)."""
    chunk_count_sigma: float = Field(1.0, gt=0, le=5)
    """Sigma of the lognormal chunk count."""
    mean_views: float = Field(2000.0, ge=0)
    """Mean lifetime views A of an uploaded video; each video's A is drawn lognormal around it."""
    views_sigma: float = Field(1.5, ge=0, le=5)
    ("Sigma of the lognormal lifetime views (0 = every video the same): YouTube's view counts are heavy-tailed and "
     "close to lognormal (Cheng, Dale and Liu, IWQoS 2008).")


class DeletesConfig(Section):
    """Videos removed during the run: their slots are freed, and storage and capacity follow."""

    after: Seconds = Field(0.0, ge=0)
    """Delete each uploaded video at this age (a retention period; 0 = never by age)."""
    rate: PerSecond = Field(0.0, ge=0)
    """Also delete videos at this rate, each a stored video drawn uniformly (0 = none)."""
