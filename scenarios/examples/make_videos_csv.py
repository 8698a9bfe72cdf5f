"""Writes videos.csv beside this script: a made-up catalog of 300 videos with heavy-tailed views.

Run once (``python scenarios/examples/make_videos_csv.py``); the output is committed, so nothing is
fetched or generated at run time. Views follow a Pareto (Lomax) law with tail index 1.1, as video
popularity does (a few videos take most views); lengths are lognormal around 60 MiB; ids are
YouTube-like 11-character strings, to show that ids need not be integers.
"""

from __future__ import annotations

import csv
import string
from pathlib import Path

import numpy as np

N = 300
SEED = 20251201


def main() -> None:
    rng = np.random.default_rng(SEED)
    alphabet = np.array(list(string.ascii_letters + string.digits + "-_"))
    ids = ["".join(rng.choice(alphabet, 11)) for _ in range(N)]
    views = np.floor(40 * rng.pareto(1.1, N)).astype(np.int64)
    size = np.maximum(2**20, rng.lognormal(np.log(60 * 2**20), 0.9, N)).astype(np.int64)
    uploaded = np.datetime64("2023-01-01T00:00:00") + rng.integers(0, 700 * 86400, N).astype("timedelta64[s]")
    size_class = np.where(size < 30 * 2**20, "short", np.where(size < 150 * 2**20, "medium", "long"))
    out = Path(__file__).with_name("videos.csv")
    with out.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["video_id", "views", "bytes", "uploaded_at", "size_class"])
        for row in zip(ids, views.tolist(), size.tolist(), np.datetime_as_string(uploaded, unit="s").tolist(),
                       size_class.tolist(), strict=False):
            w.writerow([row[0], row[1], row[2], row[3] + "Z", row[4]])
    print(f"{out}: {N} videos, {int(views.sum()):,} views, {int((views > 1000).sum())} above 1000")


if __name__ == "__main__":
    main()
