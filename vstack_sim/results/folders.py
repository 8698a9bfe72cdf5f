"""Writing a results folder safely: atomic publication, --force rules, stale ``.tmp-*`` cleanup, signals.

A run writes into ``.tmp-<name>-<pid>-<token>`` beside its target and renames
it into place at the end, so a reader never sees half a folder and an
interrupted run leaves nothing behind (not even the parent folders it made).

Nothing here deletes what this package did not make:

* ``--force`` replaces only a complete results folder (:func:`is_results_folder`:
  its manifest says so and it holds nothing beyond the folder contract) or an
  empty folder. The check is made again on the very folder that is replaced:
  the target is first renamed aside (atomic), checked there, and put back if
  it is not replaceable, so a folder created at the target while the run was
  going is never lost.
* A live run holds an ``flock`` on ``.vstack-sim-run.lock`` inside its
  temporary folder for its whole life. :func:`clean_stale_tmp` removes only
  ``.tmp-*`` folders that hold that lock file and whose lock it can take:
  provably abandoned, whatever PID namespace the writer lived in. The lock file
  appears under its final name only once it is locked, so a cleaner can never
  take the lock of a run that is just starting.
* SIGTERM, SIGHUP and SIGQUIT unwind like Ctrl-C while a run writes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from vstack_sim.results.manifest import RESULTS_FORMAT
from vstack_sim.results.serve_lock import SERVE_LOCK_NAME, service_holds
from vstack_sim.results.store import ResultsError

LOCK_NAME = ".vstack-sim-run.lock"
"""The lock file a live run holds inside its temporary folder."""

# catalog.sqlite is written by the run; the service's lock file by `vstack-sim serve`.
CONTRACT_FILES = frozenset({"scenario.yaml", "summary.json", "manifest.json", "report.html", "report.md",
                            "catalog.sqlite", SERVE_LOCK_NAME})
SERVICE_STATE_FILES = frozenset({"serve-state.sqlite", "serve-state.sqlite-wal", "serve-state.sqlite-shm"})
"""The overrides `vstack-sim serve` keeps: a run did not write them, so --force never removes them."""
CONTRACT_DIRS = {"tables": ".csv", "figures": ".png"}
"""The folder contract: these top-level files, and sub-folders holding only files of that suffix."""

_TMP_NAME_MAX = 64  # characters of the target's name kept in the temporary folder's name


class FolderError(ResultsError):
    """A results folder that cannot be written where asked; the message is one line naming the path."""


class TargetTaken(FolderError):
    """The run finished, but the folder asked for was taken (or could not be replaced) meanwhile: the
    results were kept under the next free name, ``final``, and the message names both paths."""

    def __init__(self, message: str, final: Path):
        super().__init__(message)
        self.final = final


# --------------------------------------------------------------------------- what --force may replace

def why_not_replaceable(folder: Path) -> str | None:
    """None if ``folder`` is an empty folder or a complete results folder, else the reason it is not."""
    try:
        st = folder.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link; --force replaces only results folders"
    if not stat.S_ISDIR(st.st_mode):
        return "exists and is not a folder; --force replaces only results folders"
    entries = {p.name: p for p in folder.iterdir()}
    if not entries:
        return None
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != RESULTS_FORMAT:
        return "exists and is not a results folder (no vstack-sim manifest); --force only replaces results folders"
    if service_holds(folder):
        return "is being served by a running vstack-sim serve; stop it before --force replaces the folder"
    for name, path in entries.items():
        if name in SERVICE_STATE_FILES:
            return (f"holds {name}, the overrides of vstack-sim serve, which no run wrote; "
                    "--force does not remove it (move it away first)")
        st = path.lstat()
        if name in CONTRACT_FILES and stat.S_ISREG(st.st_mode):
            continue
        suffix = CONTRACT_DIRS.get(name)
        if suffix is not None and stat.S_ISDIR(st.st_mode):
            for inner in path.iterdir():
                if not (inner.name.endswith(suffix) and stat.S_ISREG(inner.lstat().st_mode)):
                    return (f"holds {name}/{inner.name}, which is not part of a results folder; "
                            "--force only replaces complete results folders")
            continue
        return f"holds {name}, which is not part of a results folder; --force only replaces complete results folders"
    return None


def is_results_folder(folder: Path) -> bool:
    """A non-empty folder that ``--force`` may replace: a complete vstack-sim results folder."""
    return folder.is_dir() and not folder.is_symlink() and any(folder.iterdir()) and why_not_replaceable(folder) is None


# --------------------------------------------------------------------------- stale temporary folders

def _lock_file(folder: Path) -> int:
    """Create ``folder/LOCK_NAME`` already locked; returns its descriptor (held for the run's life)."""
    staging = folder / f".lock-{secrets.token_hex(4)}"
    fd = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(staging, folder / LOCK_NAME)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _abandoned(folder: Path) -> int | None:
    """The descriptor of ``folder``'s lock, taken, if the run that made it is gone; else None."""
    lock = folder / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None  # no lock file (not ours, or not yet), or a symlink
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise BlockingIOError
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def clean_stale_tmp(parent: Path) -> list[Path]:
    """Remove ``.tmp-*`` folders in ``parent`` that a run of this package abandoned; returns them."""
    removed: list[Path] = []
    try:
        candidates = [p for p in Path(parent).iterdir() if p.name.startswith(".tmp-")]
    except OSError:
        return removed
    for tmp in sorted(candidates):
        try:
            if not stat.S_ISDIR(tmp.lstat().st_mode):
                continue
        except OSError:
            continue
        fd = _abandoned(tmp)
        if fd is None:
            continue
        try:
            shutil.rmtree(tmp, ignore_errors=True)
        finally:
            os.close(fd)
        removed.append(tmp)
    return removed


# --------------------------------------------------------------------------- naming

def _numbered(target: Path) -> Iterator[Path]:
    yield target
    n = 1
    while True:
        yield target.with_name(f"{target.name}-{n}")
        n += 1


def next_free(target: Path) -> Path:
    """``target`` if it does not exist, else the first free ``target-<n>`` (n = 1, 2, ...)."""
    return next(p for p in _numbered(target) if not os.path.lexists(p))


def _name_max(folder: Path) -> int:
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_target(target: Path, force: bool, shown: str | None = None, auto: bool = False) -> None:
    """Refuse, before anything runs, a target that cannot become a results folder.

    With ``auto`` (a default name that moves on to ``-<n>`` when taken) only the place is checked.
    """
    shown = shown or str(target)
    try:
        holds_cwd = Path.cwd().resolve().is_relative_to(target.resolve())
    except (OSError, RuntimeError):  # a symbolic link loop (RuntimeError before Python 3.13)
        raise FolderError(f"{shown}: symbolic link loop") from None
    if target.name in ("", ".", "..") or holds_cwd:
        raise FolderError(f"{shown}: is the working folder or one of its parents; name a new folder")
    if len(target.name.encode("utf-8", "surrogateescape")) > _name_max(target.parent):
        raise FolderError(f"{shown}: the folder name is longer than {_name_max(target.parent)} bytes")
    for parent in target.parents:
        if os.path.lexists(parent):
            if not parent.is_dir():
                raise FolderError(f"{shown}: {parent} is not a folder")
            break
    if os.path.lexists(target) and not auto:
        if not force:
            raise FolderError(f"{shown}: already exists (use --force to replace it)")
        reason = why_not_replaceable(target)
        if reason:
            raise FolderError(f"{shown}: {reason}")


# --------------------------------------------------------------------------- the atomic folder

def _os_error(path: Path, exc: OSError, what: str) -> FolderError:
    return FolderError(f"{path}: cannot {what}: {exc.strerror or exc}")


class AtomicFolder:
    """A temporary folder beside ``target`` that becomes ``target`` on success and vanishes on failure.

    With ``auto`` the final name is the first free one of ``target``, ``target-1``, ``target-2`` ...,
    chosen at the moment of the rename (another run may have taken a name meanwhile). With ``force``
    an existing ``target`` is replaced if, at that moment, it is a complete results folder. An
    explicit target taken meanwhile (or not replaceable any more) is an error, or with ``fallback``
    sends the results to the next free name rather than throwing them away; ``final`` and
    ``refused`` say what happened. Nothing at the target is ever replaced but a results folder.
    Parent folders made for the target are removed again if the run fails.
    """

    def __init__(self, target: str | Path, force: bool = False, auto: bool = False, fallback: bool = False):
        self.target = Path(target)
        self.force = force
        self.auto = auto
        self.fallback = fallback
        self.tmp: Path | None = None
        self.final: Path | None = None
        self._lock_fd: int | None = None
        self._made_parents: list[Path] = []
        self.refused: str | None = None  # why --force did not replace the target, if it did not

    def __enter__(self) -> AtomicFolder:
        parent = self.target.parent
        missing = [p for p in [parent, *parent.parents] if not os.path.lexists(p)]
        try:
            for p in reversed(missing):
                try:
                    p.mkdir()
                except FileExistsError:
                    continue  # made meanwhile by someone else: not ours to remove
                self._made_parents.insert(0, p)
            clean_stale_tmp(parent)
            name = self.target.name[:_TMP_NAME_MAX]
            self.tmp = parent / f".tmp-{name}-{os.getpid()}-{secrets.token_hex(4)}"
            self.tmp.mkdir()
            self._lock_fd = _lock_file(self.tmp)
        except OSError as exc:
            self._discard()
            raise _os_error(self.target, exc, "create the results folder") from None
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._discard()
            return False
        try:
            self.final = self._publish()
        except BaseException:
            self._discard()
            raise
        self._unlock()
        return False

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _discard(self) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._unlock()
        for p in self._made_parents:  # deepest first; only while empty (another run may use it now)
            try:
                p.rmdir()
            except OSError:
                break

    def _publish(self) -> Path:
        (self.tmp / LOCK_NAME).unlink()  # not part of the folder contract; still held through the descriptor
        if self.force and os.path.lexists(self.target):
            try:
                return self._replace()
            except _Refused as exc:
                if not self.fallback:
                    raise FolderError(str(exc)) from None
                self.refused = str(exc)  # the results go to the next free name instead of being thrown away
        # rename(2) of a folder onto an existing path fails unless that path is an empty folder, so this
        # never replaces anything made meanwhile; a name taken meanwhile moves the results to the next one.
        moves_on = self.auto or self.fallback
        for candidate in _numbered(self.target) if moves_on else [self.target]:
            if os.path.lexists(candidate):
                if moves_on:
                    continue
                raise FolderError(f"{candidate}: already exists (use --force to replace it)")
            try:
                os.rename(self.tmp, candidate)
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                    if moves_on:
                        continue
                    raise FolderError(f"{candidate}: already exists (use --force to replace it)") from None
                raise _os_error(candidate, exc, "write the results folder") from None
            return candidate
        raise AssertionError("unreachable")

    def _replace(self) -> Path:
        """--force: move the target aside, check exactly what was moved, then put the new folder in."""
        reason = why_not_replaceable(self.target)
        if reason:  # a symlink or a foreign file is never moved at all
            raise _Refused(f"{self.target} {reason}")
        old = self.target.parent / f".tmp-old-{self.target.name[:_TMP_NAME_MAX]}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.rename(self.target, old)
        except FileNotFoundError:
            old = None
        except OSError as exc:
            raise _os_error(self.target, exc, "replace the folder") from None
        if old is not None:
            reason = why_not_replaceable(old)
            if reason:  # it changed between the check and the rename: put it back untouched
                try:
                    os.rename(old, self.target)
                except OSError:
                    raise _Refused(f"{self.target} changed while the run was going and {reason}; "
                                   f"it is kept as {old}") from None
                raise _Refused(f"{self.target} changed while the run was going and {reason}")
        try:
            os.rename(self.tmp, self.target)
        except OSError as exc:
            if old is not None:
                with contextlib.suppress(OSError):
                    os.rename(old, self.target)
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise _Refused(f"{self.target} was created again while it was being replaced") from None
            raise _os_error(self.target, exc, "write the results folder") from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.target


class _Refused(Exception):
    """--force found, at the rename, a target it may not replace."""


# --------------------------------------------------------------------------- signals

class Interrupted(KeyboardInterrupt):
    """A termination signal received while a run writes; unwinds like Ctrl-C."""


UNWINDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name))


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """SIGTERM, SIGHUP and SIGQUIT raise :class:`Interrupted` while a run writes, so its folder is removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    previous = {}
    try:
        for sig in UNWINDING_SIGNALS:
            if signal.getsignal(sig) is not signal.SIG_IGN:  # nohup's SIGHUP stays ignored
                previous[sig] = signal.signal(sig, handler)
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
