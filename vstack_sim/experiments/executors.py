"""Where a sweep's runs execute: in-process, on a process pool, or on a Dask cluster.

Everything is a :class:`concurrent.futures.Executor`: :class:`SerialExecutor`
(in the calling process), a ``ProcessPoolExecutor`` (the default, one worker
per core), a Dask ``Client(address).get_executor()`` for a running cluster, or
a ``LocalCluster`` on 127.0.0.1 that :func:`open_executor` starts and closes.
Any other executor can be passed from Python.

:func:`map_batched` submits the runs in batches so that one task lasts at
least ``target_s`` (0.1 s): Dask pays about a millisecond per task and its
scheduler chokes on millions of tiny ones. The first wave is one run per task;
later batches are sized from the mean run time seen so far, and only a window
of tasks (a few per worker) is in flight at once, so a huge sweep never holds
a million futures and a finished run is handed back as soon as its batch ends.
The result of a run never depends on where it ran.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

TARGET_TASK_S = 0.1
"""Shortest task worth sending: Dask's per-task overhead is about 1 ms."""
TASKS_PER_WORKER = 2
"""Tasks kept in flight per worker: one running, one queued, so no worker waits for the client."""


class SerialExecutor(Executor):
    """Runs each task at once in the calling process (``--workers 1``; simplest to debug)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # a KeyboardInterrupt stops the sweep instead
            future.set_exception(exc)
        return future


def worker_count(executor: Executor) -> int:
    """How many tasks the executor runs at once (a guess for executors that do not say)."""
    if isinstance(executor, SerialExecutor):
        return 1
    for attr in ("_max_workers",):
        n = getattr(executor, attr, None)
        if isinstance(n, int) and n > 0:
            return n
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        with contextlib.suppress(Exception):
            return max(1, sum(client.nthreads().values()))
    return os.cpu_count() or 1


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool of ``workers`` (default: the cores); forkserver where there is one, else spawn.

    Not fork: the parent may hold threads (a progress bar's monitor, a notebook kernel's).
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # This process is a pool worker re-running the caller's script (spawn and forkserver workers import
        # the main module) and met the script's own sweep call: a worker must not start a pool. It leaves
        # quietly; the caller's map_batched sees the pool break and says what to do in one line.
        raise SystemExit(1)
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(["vstack_sim.experiments.sweeps"])  # workers fork with the simulator imported
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, mp_context=ctx)


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ValueError("Dask executors need dask.distributed: pip install 'vstack-sim[dist]'") from None
    return distributed


@contextlib.contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None,
                  local_cluster: int | None = None) -> Iterator[tuple[Executor, str]]:
    """The executor the command line asks for, closed (with any cluster it started) at the end.

    Yields ``(executor, description)``. ``workers == 1`` runs in-process; ``scheduler`` connects to
    a running Dask scheduler (``tcp://host:port``); ``local_cluster`` starts that many Dask workers
    on 127.0.0.1 (one thread each, the dashboard on a free port of 127.0.0.1).
    """
    if sum(x is not None for x in (workers, scheduler, local_cluster)) > 1:
        raise ValueError("give one of --workers, --scheduler and --local-cluster")
    if scheduler is not None:
        distributed = _distributed()
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ValueError(f"--scheduler {scheduler}: cannot connect: {exc}") from None
        try:
            yield client.get_executor(), f"dask scheduler {scheduler} ({worker_count(client.get_executor())} threads)"
        finally:
            client.close()
        return
    if local_cluster is not None:
        if local_cluster < 1:
            raise ValueError(f"--local-cluster must be >= 1, got {local_cluster}")
        distributed = _distributed()
        import dask

        # Dask's statistical profiler samples the running task's stack every 10 ms, which slows a
        # pure-Python simulation by up to half; nobody reads those profiles from a sweep.
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = distributed.LocalCluster(n_workers=local_cluster, threads_per_worker=1, processes=True,
                                               host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                               silence_logs=logging.ERROR)
        client = distributed.Client(cluster)
        try:
            yield client.get_executor(), f"dask LocalCluster of {local_cluster} workers on 127.0.0.1"
        finally:
            client.close()
            cluster.close()
        return
    if workers == 1:
        yield SerialExecutor(), "serial (in-process)"
        return
    pool = process_pool(workers)
    try:
        yield pool, f"process pool of {pool._max_workers} workers"
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)


BROKEN_POOL = ("a worker of the process pool exited abruptly: killed, out of memory, or re-running a script that "
               "calls vstack_sim.sweep at module level (workers import the main script: put the call under "
               "`if __name__ == \"__main__\":`, or pass executor=\"serial\")")
"""What a broken pool means, said once in one line instead of a page of multiprocessing text."""


def run_batch(fn: Callable, items: list) -> list[tuple[object, float]]:
    """Run ``fn`` on each item in turn (on a worker); returns ``(result, seconds)`` pairs."""
    out = []
    for item in items:
        t0 = time.perf_counter()
        result = fn(item)
        out.append((result, time.perf_counter() - t0))
    return out


def map_batched(fn: Callable, items: Iterable, executor: Executor, on_result: Callable[[object], None],
                target_s: float = TARGET_TASK_S) -> None:
    """Apply ``fn`` to every item on ``executor`` in batches; ``on_result`` gets each result as it comes.

    Results arrive in completion order; a failing item raises after the tasks in flight are cancelled.
    """
    pending = deque(items)
    workers = worker_count(executor)
    window = max(1, TASKS_PER_WORKER * workers)
    inflight: dict[Future, int] = {}
    seconds, done_runs = 0.0, 0
    batch = 1
    try:
        while pending or inflight:
            while pending and len(inflight) < window:
                # Never so big that the last batches leave workers idle.
                size = max(1, min(batch, math.ceil(len(pending) / window)))
                chunk = [pending.popleft() for _ in range(min(size, len(pending)))]
                inflight[executor.submit(run_batch, fn, chunk)] = len(chunk)
            finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            for future in finished:
                inflight.pop(future)
                try:
                    results = future.result()
                except BrokenProcessPool:
                    raise RuntimeError(BROKEN_POOL) from None
                for result, elapsed in results:
                    seconds += elapsed
                    done_runs += 1
                    on_result(result)
            if done_runs:
                batch = max(1, math.ceil(target_s / max(seconds / done_runs, 1e-6)))
    except BaseException:
        for future in inflight:
            future.cancel()
        raise
