"""Fuzzing the CLI with generated scenario documents: every outcome is exit 0, or exit 2 with one line.

Documents are drawn over the schema (random keys, types and values, unknown keys, hostile values:
booleans, inf/nan, huge and negative numbers, wrong types, nested junk, unsafe names) and also as
raw hostile YAML text. They go through ``main()`` in-process for ``validate`` and for ``run`` with a
tiny duration; sizes are bounded so that valid cases stay small (a run takes about a second, most of
it drawing the figures). A few cases go through a real subprocess. Every case runs under an alarm,
so a hang fails the test instead of the suite; no case may leave a folder behind.
"""

from __future__ import annotations

import contextlib
import io
import signal
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, BeforeValidator

from vstack_sim.cli.main import main
from vstack_sim.scenario import units
from vstack_sim.scenario.schema import Config

CASE_TIMEOUT_S = 20
FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

# Values that are wrong for most keys; each class of the probes is here.
HOSTILE = st.sampled_from([
    True, False, None, "yes", "no", float("inf"), float("-inf"), float("nan"), ".inf", "1e309", "nan",
    -1, -0.5, 10**30, 2**63, "9" * 5000, "", "x" * 300, "2MiB/x", "-5MiB", "1e9", "12 parsecs",
    [1, 2], {"a": 1}, [[[]]], "evil\n", "../up", "\x00", 3.5,
])

# Small valid values per unit, so that a valid document runs in about a second.
UNIT_VALUES = {
    units.parse_size: st.sampled_from([1, 100, 3000, "2KiB", "64KiB", 4096]),
    units.parse_duration: st.sampled_from([0, 1, 60, 600, "30s", "20min", "1h", 3600.0]),
    units.parse_rate: st.sampled_from([0, 1e6, "100MB/s", "1Gbps", 5e7]),
    units.parse_frequency: st.sampled_from([0, 0.01, "1/s", "10/min", 0.2]),
}


def _unit_of(annotation, metadata=()) -> typing.Callable | None:
    for m in metadata:
        if isinstance(m, BeforeValidator) and m.func in UNIT_VALUES:
            return m.func
    for arg in typing.get_args(annotation):
        found = _unit_of(arg, getattr(arg, "__metadata__", ()))
        if found:
            return found
    return None


def _model_in(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found:
            return found
    return None


# Keys whose small values would make a valid run long (a node failing every second for hours).
KEY_VALUES = {
    "node_mttf": st.sampled_from([0, 1800, "1h", "1d"]),
    "rack_mttf": st.sampled_from([0, 1800, "1h", "1d"]),
}


def _valid(field, name: str = "") -> st.SearchStrategy:
    """Small values of the field's own type."""
    if name in KEY_VALUES:
        return KEY_VALUES[name]
    annotation = field.annotation
    unit = _unit_of(annotation, field.metadata)
    if unit is not None:
        return UNIT_VALUES[unit]
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(annotation))
    if annotation is bool:
        return st.booleans()
    if origin is dict:
        return st.dictionaries(st.integers(0, 6), st.sampled_from(["replication", "erasure_coding"]), max_size=2)
    model = _model_in(annotation)
    if origin is tuple and model is not None:
        return st.lists(document_of(model, depth=1), max_size=2)
    if model is not None:
        return document_of(model, depth=1)
    if annotation is int or int in typing.get_args(annotation):
        return st.integers(0, 8)
    if annotation is float:
        return st.sampled_from([0.0, 0.05, 0.5, 0.99, 1.0, 2.0])
    if annotation is str:
        return st.sampled_from(["fuzz", "a.b_c-1", "Ünïcode"])
    return st.none()


def document_of(model: type[BaseModel], depth: int = 0) -> st.SearchStrategy:
    """A mapping over ``model``'s keys: valid small values mostly, hostile ones and unknown keys sometimes."""
    fields = model.model_fields
    # About one value in twelve is hostile, so that a good share of documents is valid and runs.
    value = {name: st.integers(0, 11).flatmap(lambda i, f=f, n=name: HOSTILE if i == 0 else _valid(f, n))
             for name, f in fields.items()}
    known = st.fixed_dictionaries({}, optional=value)
    unknown = st.dictionaries(st.sampled_from(["nodez", "extra", "1", "Run"]), HOSTILE, max_size=1)
    return st.tuples(known, unknown, st.integers(0, 9)).map(lambda t: {**t[0], **t[1]} if t[2] == 0 else t[0])


# A tiny base the fuzzed keys are merged over (the fuzz may override any of it).
TINY = {
    "name": "fuzz",
    "run": {"duration": "1h"},
    "catalog": {"videos": 4, "chunks_per_video": 2, "chunk_size": 3000},
    "cluster": {"nodes": 6, "racks": 3},
    "migration": {"window": "2h"},
    "outputs": {"timeline_interval": "20min"},
}

SECTIONS = {name: _model_in(f.annotation) for name, f in Config.model_fields.items() if _model_in(f.annotation)}


@st.composite
def scenario_documents(draw) -> dict:
    doc = {k: dict(v) if isinstance(v, dict) else v for k, v in TINY.items()}
    for name in draw(st.lists(st.sampled_from(sorted(SECTIONS)), max_size=4, unique=True)):
        section = draw(st.integers(0, 7).flatmap(lambda i, n=name: HOSTILE if i == 0 else document_of(SECTIONS[n])))
        if isinstance(section, dict) and isinstance(doc.get(name), dict):
            doc[name] = {**doc[name], **section}
        else:
            doc[name] = section
    if draw(st.integers(0, 9)) == 0:
        doc["name"] = draw(st.one_of(HOSTILE, st.text(max_size=12)))
    # Run durations stay short whatever was drawn, unless the value is hostile (then it is refused).
    run = doc.get("run")
    if (isinstance(run, dict) and isinstance(run.get("duration"), (int, float))
            and not isinstance(run["duration"], bool)):
        if run["duration"] == run["duration"] and 0 <= run["duration"] < 1e6:
            run["duration"] = min(run["duration"], 7200)
    return doc


HOSTILE_TEXTS = st.sampled_from([
    "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
                                                    for p, c in zip("abcdefg", "bcdefgh", strict=False)) + "name: *h\n",
    "catalog: " + "[" * 3000 + "]" * 3000 + "\n",
    "a: &a [*a]\n",
    "extends: /dev/zero\n",
    "extends: .\n",
    "extends: [1]\n",
    "catalog: {videos: " + "9" * 5000 + "}\n",
    "\tname: tab\n",
    "name: !!python/object/apply:os.system ['true']\n",
    "run: {seed: 2024-13-45}\n",
    "- a\n- b\n",
    "42\n",
    "cluster: {nodes: 6\n",
    "name: x\nname: y\n",
    "{a: 1}: 2\n",
    "? [1, 2]\n: 3\n",
    "%YAML 9.9\n---\nname: x\n",
    "--- a\n--- b\n",
])


class CaseTimeout(Exception):
    pass


@contextlib.contextmanager
def alarm(seconds: int):
    def fire(signum, frame):
        raise CaseTimeout(f"a case took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with alarm(CASE_TIMEOUT_S), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_clean_outcome(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err and "Traceback" not in out, err
    if code == 0:
        return
    assert code == 2, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vstack-sim: error: "), err
    assert out == ""


def write_text(folder: Path, text: str) -> Path:
    path = folder / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def only_the_scenario_left(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == ["scenario.yaml"], sorted(p.name for p in folder.iterdir())


@settings(FUZZ, max_examples=150)
@given(doc=st.one_of(scenario_documents(), scenario_documents(), HOSTILE_TEXTS))
def test_validate_exits_0_or_2_with_one_line(workdir, doc):
    path = write_text(workdir, doc if isinstance(doc, str) else dump(doc))
    code, out, err = run_main(["validate", str(path)])
    assert_clean_outcome(code, out, err)
    if code == 0:
        assert yaml.safe_load(out)["name"]
    only_the_scenario_left(workdir)


@settings(FUZZ, max_examples=18)
@given(doc=st.one_of(scenario_documents(), HOSTILE_TEXTS))
def test_tiny_runs_exit_0_with_a_complete_folder_or_2_with_one_line_and_nothing_left(workdir, doc):
    import shutil

    from vstack_sim.results.folders import is_results_folder

    path = write_text(workdir, doc if isinstance(doc, str) else dump(doc))
    code, out, err = run_main(["run", str(path), "--quiet", "--out", "out"])
    assert_clean_outcome(code, out, err)
    if code == 0:
        assert is_results_folder(workdir / "out"), sorted(p.name for p in (workdir / "out").iterdir())
        shutil.rmtree(workdir / "out")
    only_the_scenario_left(workdir)


@settings(FUZZ, max_examples=60)
@given(key=st.sampled_from(sorted(k for k in ("catalog.videos", "cluster.nodes", "run.duration", "run.seed",
                                              "catalog.zipf_alpha", "workload.view_rate", "cluster",
                                              "failures.scheduled", "redundancy.overrides", "name",
                                              "outputs.timeline_interval", "catalog.chunk_size"))),
       value=st.one_of(HOSTILE.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("\n...")),
                       st.text(max_size=20)))
def test_set_overrides_exit_0_or_2_with_one_line(workdir, key, value):
    write_text(workdir, dump(TINY))
    code, out, err = run_main(["validate", "scenario.yaml", "--set", f"{key}={value}"])
    assert_clean_outcome(code, out, err)
    only_the_scenario_left(workdir)


@pytest.mark.parametrize("text, fragment", [
    ("catalog: {videos: " + "9" * 5000 + "}\n", "catalog.videos"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
                                                        for p, c in zip("abcdefgh", "bcdefghi", strict=False)),
     "expands to more than"),
    ("extends: /dev/zero\n", "not a regular file"),
    ("name: \"evil\\n\"\n", "not a safe folder name"),
])
def test_hostile_files_in_a_real_subprocess(workdir, text, fragment):
    path = write_text(workdir, text)
    proc = subprocess.run([sys.executable, "-m", "vstack_sim.cli.main", "run", str(path), "--quiet"], cwd=workdir,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("vstack-sim: error: ") and fragment in proc.stderr
    only_the_scenario_left(workdir)


# --------------------------------------------------------------------------- integer overflow (issue 19 §1)

# Near every width the model uses: int32 ids, float64's exact integers, int64 byte counters, int64 itself.
OVERFLOW_VALUES = [2**31 - 1, 2**31, 2**53, 2**53 + 1, 2**62, 2**63 - 1, 2**63]

# Every count a scenario gives, as a --set whose {} is the value.
OVERFLOW_SETS = [
    "catalog.videos={}", "catalog.chunks_per_video={}", "catalog.chunk_weight={}", "catalog.chunk_size={}",
    "catalog.total_views={}", "cluster.nodes={}", "cluster.racks={}", "cluster.disks_per_node={}",
    "cluster.io_slots={}", "cluster.cpu_cores_per_node={}", "cluster.node_capacity={}",
    "redundancy.replication_factor={}",
    "redundancy.data_shards={}", "redundancy.parity_shards={}", "redundancy.popularity_threshold={}",
    "redundancy.overrides={{{}: replication}}", "migration.concurrent_videos={}", "workload.late_binding_extra={}",
    "workload.flash_crowds=[{{video: {}, start: 0, duration: 60, view_rate: 1}}]",
    "workload.scheduled_views=[{{at: 1, video: {}}}]", "failures.scheduled=[{{at: 60, node: {}}}]",
    "failures.scheduled=[{{at: 60, rack: {}}}]", "failures.scheduled=[{{at: 60, node: 1, disk: {}}}]",
    "repair.streams_per_node={}", "repair.source_streams_per_node={}", "outputs.reads_table_sample={}",
    "run.seed={}",
]

# Every count of the data files: catalog.source columns and failures.trace fields.
OVERFLOW_FILES = [
    ("catalog.source", "video_id,views,chunks\na,3,2\nb,{},1\n"),
    ("catalog.source", "video_id,views,chunks\na,3,2\nb,5,{}\n"),
    ("catalog.source", "video_id,views,bytes\na,3,2\nb,5,{}\n"),
    ("catalog.source", "video_id,views,chunks\na,{},1\nb,{},1\nc,{},1\nd,5,1\n"),
    ("failures.trace", "time,node\n1h,{}\n"),
    ("failures.trace", "time,rack\n1h,{}\n"),
    ("failures.trace", "time,node,disk\n1h,1,{}\n"),
    ("failures.trace", "time,node,duration\n{},1,{}\n"),
]

# Short runs: a valid case must finish in about a second (no figures, no catalog.sqlite).
OVERFLOW_BASE = {**TINY, "run": {"duration": "10min"}, "outputs": {"timeline_interval": "5min", "figures": False,
                                                                     "catalog": False}}


def _validate_then_run(workdir: Path, argv: list[str]) -> None:
    import shutil

    code, out, err = run_main(["validate", *argv])
    assert_clean_outcome(code, out, err)
    if code == 0:   # what validate accepts, run must carry out (or refuse in one line), never crash or wrap
        code, out, err = run_main(["run", *argv, "--quiet", "--out", "out"])
        assert_clean_outcome(code, out, err)
        shutil.rmtree(workdir / "out", ignore_errors=True)


@pytest.mark.parametrize("value", OVERFLOW_VALUES)
@pytest.mark.parametrize("item", OVERFLOW_SETS)
def test_counts_near_every_integer_width_in_a_scenario_run_or_exit_2(workdir, item, value):
    write_text(workdir, dump(OVERFLOW_BASE))
    _validate_then_run(workdir, ["scenario.yaml", "--set", item.format(value)])
    only_the_scenario_left(workdir)


@pytest.mark.parametrize("value", OVERFLOW_VALUES)
@pytest.mark.parametrize("key, text", OVERFLOW_FILES)
def test_counts_near_every_integer_width_in_a_data_file_run_or_exit_2(workdir, key, text, value):
    (workdir / "data.csv").write_text(text.format(*[value] * text.count("{}")))
    section, name = key.split(".")
    doc = {**OVERFLOW_BASE, section: {**OVERFLOW_BASE.get(section, {}), name: "data.csv"}}
    doc["catalog"] = {k: v for k, v in doc["catalog"].items() if key != "catalog.source" or k != "videos"}
    doc["catalog"]["chunk_size"] = "64MiB"   # 2^31 bytes are 32 chunks, a run of a second
    write_text(workdir, dump(doc))
    _validate_then_run(workdir, ["scenario.yaml"])
    assert sorted(p.name for p in workdir.iterdir()) == ["data.csv", "scenario.yaml"]
