"""Naming a video in a scenario: by its key (text) or its id (an integer).

Three settings name videos: the keys of ``redundancy.overrides``, ``workload.flash_crowds[].video`` and
``workload.scheduled_views[].video``. The model numbers videos 0 .. V-1 (the Zipf catalog by popularity
rank - 1, a ``catalog.source`` file in row order) and gives each a ``video_key``: the id's text ("0",
"1", ...) in the Zipf catalog, the file's ``video_id`` for a ``catalog.source``, the key it was given for
a video uploaded during the run. The rules:

* An integer is the video's id, 0 .. ``catalog.videos`` - 1.
* Text is the video's key.
* In the Zipf catalog, text of digits is the same video as that integer (its key is the id's text, so
  ``"5"`` and ``5`` are one video, and ``--set redundancy.overrides.5=replication`` is video 5).
* On a ``catalog.source``, text is looked up as a key first; text of digits that is no key of the file
  is the id (so ``--set redundancy.overrides.5=...`` is row 5 when no video is keyed "5").
* On a ``catalog.source``, an integer n is refused as ambiguous when another video of the file is keyed
  "n" (video n's own key being "n" is no ambiguity): write the key, quoted, instead.
* A key the catalog does not have when the scenario is read may be a video uploaded during the run: it is
  resolved when the run builds its world (:func:`resolve_video_refs`), and one no video has stops the
  run before it starts, naming the key path: ``workload.flash_crowds.0.video: no video 'abc' in the
  catalog``. Keys of uploaded videos are not all digits, so they never meet the id rules.
* Two overrides that name the same video are refused.

Reading the scenario checks everything it can (:func:`check_video_refs`, from the schema): every id
against ``catalog.videos``, every key against the ``catalog.source`` file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vstack_sim.scenario import units

__all__ = ["VideoIds", "video_refs", "check_video_refs", "resolve_video_refs"]


@dataclass(frozen=True)
class VideoIds:
    """The videos a scenario names, as the model's integer ids."""

    overrides: dict[int, str]
    """``redundancy.overrides``: video id -> mode, in the order written."""
    flash_crowds: tuple[int, ...]
    """The id of ``workload.flash_crowds[i].video``, for each i."""
    scheduled_views: tuple[int, ...]
    """The id of ``workload.scheduled_views[i].video``, for each i."""

    def by_path(self, config) -> dict[str, int]:
        """``{key path: id}`` of every reference of ``config`` (the scenario these ids were resolved from)."""
        ids = [*self.overrides, *self.flash_crowds, *self.scheduled_views]
        return {path: vid for (path, _), vid in zip(video_refs(config), ids, strict=True)}


def video_refs(config) -> list[tuple[str, int | str]]:
    """``(key path, reference as written)`` of every video the scenario names, in order."""
    out: list[tuple[str, int | str]] = [(f"redundancy.overrides.{ref}", ref) for ref in config.redundancy.overrides]
    out += [(f"workload.flash_crowds.{i}.video", fc.video) for i, fc in enumerate(config.workload.flash_crowds)]
    out += [(f"workload.scheduled_views.{i}.video", sv.video) for i, sv in enumerate(config.workload.scheduled_views)]
    return out


def check_video_refs(config) -> list[str]:
    """Check what can be checked when the scenario is read (``ValueError``); returns the key paths of the keys
    left for the world to resolve (not in the starting catalog: maybe uploaded during the run)."""
    return [path for (path, _), vid in zip(video_refs(config), _resolve(config, None), strict=True) if vid is None]


def resolve_video_refs(config, keys: Sequence[str] | np.ndarray | Callable[[], np.ndarray]) -> VideoIds:
    """The ids of the videos ``config`` names, given the keys of the world's videos (id i's key is ``keys[i]``).

    ``keys`` is every video the world has (the starting catalog, then uploads), or a function returning
    them (``catalog.keys``), called only when a key must be looked up. A key no video has, an ambiguous
    integer or a video overridden twice is a ``ValueError`` naming the key path.
    """
    ids = _resolve(config, keys)
    n_over = len(config.redundancy.overrides)
    n_fc = len(config.workload.flash_crowds)
    modes = list(config.redundancy.overrides.values())
    return VideoIds(overrides=dict(zip(ids[:n_over], modes, strict=True)),
                    flash_crowds=tuple(ids[n_over:n_over + n_fc]), scheduled_views=tuple(ids[n_over + n_fc:]))


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text):,} characters)"


def _resolve(config, keys) -> list:
    """The id of every reference (:func:`video_refs` order); ``keys=None`` (reading): unknown keys give None."""
    cat = config.catalog
    videos, source = cat.videos, cat.source is not None
    refs = video_refs(config)
    by_id = [(path, ref) for path, ref in refs if isinstance(ref, int) or (not source and _digits(ref))]
    wanted = {ref for _, ref in refs if isinstance(ref, str)} - {ref for _, ref in by_id}
    if source:
        wanted |= {str(ref) for _, ref in by_id}
    table, found = _lookup(config, keys, wanted)
    ids: list = []
    for path, ref in refs:
        if isinstance(ref, int) or (not source and _digits(ref)):
            ids.append(_by_id(path, ref, videos, source, table, found))
        elif ref in found:
            ids.append(found[ref])
        elif source and _digits(ref) and len(ref) <= 30 and int(ref) < videos:
            ids.append(int(ref))       # no video is keyed so: the id
        elif keys is None:
            ids.append(None)           # may be a video uploaded during the run: the world resolves it
        else:
            raise ValueError(f"{path}: no video {_shown(ref)} in the catalog")
    n_over = len(config.redundancy.overrides)
    _once(refs[:n_over], ids[:n_over])
    return ids


def _by_id(path: str, ref: int | str, videos: int, source: bool, table, found: dict) -> int:
    n = ref if isinstance(ref, int) else (int(ref) if len(ref) <= 30 else None)
    text = str(ref) if n is None else str(n)
    keyed = found.get(text)
    if n is None or n >= videos:
        hint = f"; the video keyed {text!r} is named by the text {text!r} (quoted)" if keyed is not None else ""
        shown = text if len(text) <= 40 else f"{text[:40]}... ({len(text):,} digits)"
        raise ValueError(f"{path}: video {shown} does not exist ({units.plural(videos, 'video')}){hint}")
    if source and keyed is not None and keyed != n:
        raise ValueError(f"{path}: {n} is ambiguous: video {n} (keyed {table()[n]!r}) or the video keyed {text!r} "
                         f"(video {keyed}); name it by its key, quoted: {table()[n]!r} or {text!r}")
    return n


def _lookup(config, keys, wanted: set[str]):
    """``(table, found)``: a function giving the keys searched, and ``{key: id}`` of the wanted keys found."""
    source = config.catalog.source is not None
    if keys is None:   # reading the scenario: the file's keys, or none (a Zipf catalog's keys are its ids)
        if source:
            from vstack_sim.scenario.catalog_source import load_videos_csv

            def table():
                return load_videos_csv(config.catalog.source).keys
        else:
            def table():
                return np.empty(0, dtype=object)
    else:
        table = keys if callable(keys) else (lambda: keys)
    if not wanted:
        return table, {}
    import pandas as pd

    every = np.asarray(table(), dtype=object)
    # A Zipf catalog's own keys are its ids' text, handled as ids: only uploads are searched.
    start = 0 if source or keys is None else config.catalog.videos
    order = sorted(wanted)
    at = pd.Index(every[start:]).get_indexer(order)
    return (lambda: every), {key: start + int(i) for key, i in zip(order, at.tolist(), strict=True) if i >= 0}


def _once(refs: list, ids: list) -> None:
    """Refuse two overrides of one video (``5`` and ``"5"``, or a key and its row's id)."""
    seen: dict[int, int | str] = {}
    for (path, ref), vid in zip(refs, ids, strict=True):
        if vid is None:
            continue
        if vid in seen:
            raise ValueError(f"{path}: {ref!r} is video {vid}, and so is {seen[vid]!r}; give each video one "
                             f"override")
        seen[vid] = ref
