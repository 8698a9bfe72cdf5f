"""The lock a live ``vstack-sim serve`` holds on its results folder.

The service keeps its overrides in ``serve-state.sqlite`` inside the results
folder. While it runs it holds an exclusive ``flock`` on ``.vstack-sim-serve.lock``
in that folder, so that ``run --force`` can refuse to replace the folder under
it (the service would go on acknowledging writes to an unlinked file) and a
second service on the same folder is refused. The lock file stays behind when
the service stops (removing it would race with a service starting); it is part
of the folder contract.
"""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

__all__ = ["SERVE_LOCK_NAME", "ServiceLocked", "hold_service_lock", "service_holds"]

SERVE_LOCK_NAME = ".vstack-sim-serve.lock"


class ServiceLocked(ValueError):
    """The folder is held by a running service, or its lock file cannot be used; one line naming it."""


def _open(path: Path, flags: int) -> int:
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ServiceLocked(f"{path}: not a regular file; remove it")
    return fd


def hold_service_lock(folder: str | Path) -> int:
    """Take ``folder``'s service lock; returns the descriptor to keep open for the service's life."""
    path = Path(folder) / SERVE_LOCK_NAME
    try:
        fd = _open(path, os.O_RDWR | os.O_CREAT)
    except OSError as exc:
        raise ServiceLocked(f"{path}: cannot take the service's lock: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise ServiceLocked(f"{folder}: another vstack-sim serve is serving this folder "
                            f"(it holds {SERVE_LOCK_NAME}); stop it first") from None
    return fd


def service_holds(folder: str | Path) -> bool:
    """True while a live ``vstack-sim serve`` holds ``folder``'s lock."""
    try:
        fd = _open(Path(folder) / SERVE_LOCK_NAME, os.O_RDONLY)
    except (OSError, ServiceLocked):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)   # closing releases a shared lock taken just to look
    return False
