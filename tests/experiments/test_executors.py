"""The same sweep gives a byte-identical runs.csv serially, on the process pool and on a real Dask LocalCluster;
batching; any Executor."""

import concurrent.futures
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.sweep_builders import TINY, write_base, write_sweep
from vstack_sim.experiments import executors
from vstack_sim.experiments.sweep_files import load_sweep
from vstack_sim.experiments.sweeps import run_sweep

SWEEP = "base: base.yaml\ngrid:\n  redundancy.policy: [adaptive, erasure_coding]\nreplications: 2\n"


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exec")
    write_base(folder)
    return write_sweep(folder, SWEEP)


def _runs_csv(sweep_file, tmp_path, name, **where):
    with executors.open_executor(**where) as (executor, _):
        done = run_sweep(load_sweep(sweep_file), executor=executor, out=tmp_path / name, progress=False)
    return (done.path / "runs.csv").read_bytes()


def test_runs_csv_is_byte_identical_serial_process_pool_and_local_cluster(sweep_file, tmp_path):
    pytest.importorskip("distributed")
    serial = _runs_csv(sweep_file, tmp_path, "serial", workers=1)
    assert _runs_csv(sweep_file, tmp_path, "pool", workers=2) == serial
    with executors.open_executor(local_cluster=2) as (executor, where):
        assert "LocalCluster of 2 workers on 127.0.0.1" in where
        client = executor._client
        address = client.scheduler.address
        assert address.startswith("tcp://127.0.0.1:") and len(client.nthreads()) == 2
        assert client.dashboard_link is None or "127.0.0.1" in client.dashboard_link
        done = run_sweep(load_sweep(sweep_file), executor=executor, out=tmp_path / "dask", progress=False)
        assert (done.path / "runs.csv").read_bytes() == serial
        # the same cluster reached through its scheduler's address: Client(address)
        assert _runs_csv(sweep_file, tmp_path, "addr", scheduler=address) == serial


def test_any_executor_from_python(sweep_file, tmp_path):
    with ThreadPoolExecutor(2) as pool:
        done = run_sweep(load_sweep(sweep_file), executor=pool, progress=False)
    assert len(done.runs) == 4 and done.runs["reads.count"].notna().all()


def _square(x):
    return x * x


class CountingExecutor(concurrent.futures.Executor):
    """Serial, counting how many tasks it was handed."""

    def __init__(self):
        self.tasks = []

    def submit(self, fn, /, *args, **kwargs):
        self.tasks.append(args[1])
        return executors.SerialExecutor().submit(fn, *args, **kwargs)


def test_short_runs_are_batched_into_tasks_of_about_100_ms(monkeypatch):
    ex = CountingExecutor()
    monkeypatch.setattr(executors, "worker_count", lambda e: 2)
    got = []
    executors.map_batched(_square, range(1000), ex, got.append)
    assert sorted(got) == [i * i for i in range(1000)]
    # the first wave is one item per task, then batches sized from the (tiny) mean item time
    assert len(ex.tasks[0]) == 1 and max(len(t) for t in ex.tasks) > 50 and len(ex.tasks) < 100


def test_a_failing_run_raises_after_cancelling_the_rest():
    def boom(x):
        if x == 3:
            raise RuntimeError("run 3 failed")
        return x

    got = []
    with pytest.raises(RuntimeError, match="run 3 failed"):
        executors.map_batched(boom, range(10), executors.SerialExecutor(), got.append)
    assert 3 not in got


def test_one_executor_choice_at_a_time():
    with pytest.raises(ValueError, match="one of"):
        with executors.open_executor(workers=2, local_cluster=2):
            pass


def test_a_sweep_at_module_level_of_a_plain_script_says_in_one_line_what_to_do(tmp_path):
    # Pool workers import the main script; without `if __name__ == "__main__":` they meet its sweep call.
    # Today's answer: the workers leave quietly and the caller gets one line, not a page of multiprocessing text.
    import subprocess
    import sys

    script = tmp_path / "plain.py"
    script.write_text(
        "import vstack_sim\n"
        f"base = vstack_sim.Config.model_validate({TINY!r})\n"
        "vstack_sim.sweep(base, grid={'catalog.videos': [12, 13]})\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: a worker of the process pool exited abruptly") and "__main__" in last
    assert "BrokenProcessPool" not in done.stderr and "forkserver" not in done.stderr
