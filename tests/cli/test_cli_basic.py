"""`vstack-sim` recommend / efficiency / bench codec, and the one-line exit-2 error contract."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

from vstack_sim.cli.main import build_parser, main
from vstack_sim.scenario.units import parse_size

MIB = 2**20


@pytest.fixture(autouse=True)
def _no_env_threshold(monkeypatch):
    monkeypatch.delenv("POPULARITY_THRESHOLD", raising=False)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, out, err, *fragments):
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vstack-sim: error: ")
    assert "Traceback" not in err and "usage:" not in err
    for fragment in fragments:
        assert fragment in lines[0]


# -- recommend ---------------------------------------------------------------


def test_recommend_prints_seed_json(capsys):
    code, out, err = run(capsys, "recommend", "abc123", "--views", "500")
    assert code == 0 and err == ""
    assert json.loads(out) == {
        "video_id": "abc123",
        "view_count": 500,
        "recommended_mode": "erasure_coding",
        "config": {
            "mode": "erasure_coding",
            "data_shards": 3,
            "parity_shards": 2,
            "total_shards": 5,
            "min_shards_for_recovery": 3,
        },
    }
    assert out.startswith('{\n  "video_id"')  # indent=2


def test_recommend_threshold_option_and_env(capsys, monkeypatch):
    assert json.loads(run(capsys, "recommend", "v", "--views", "1001")[1])["recommended_mode"] == "replication"
    assert json.loads(run(capsys, "recommend", "v", "--views", "1000")[1])["recommended_mode"] == "erasure_coding"
    monkeypatch.setenv("POPULARITY_THRESHOLD", "10")
    assert json.loads(run(capsys, "recommend", "v", "--views", "11")[1])["recommended_mode"] == "replication"
    out = run(capsys, "recommend", "v", "--views", "11", "--threshold", "100")[1]
    assert json.loads(out)["recommended_mode"] == "erasure_coding"


# -- efficiency --------------------------------------------------------------


def test_efficiency_defaults_print_seed_json(capsys):
    code, out, err = run(capsys, "efficiency")
    assert code == 0 and err == ""
    assert json.loads(out) == {
        "efficiency": {
            "replication_overhead_factor": 3.0,
            "erasure_coding_overhead_factor": 1.67,
            "storage_savings_percent": 44.4,
        },
        "mode_comparison": {
            # the design's keys, plus *_mib and *_bytes that say what they hold (issue 23)
            "replication": {"storage_per_chunk_mb": 6.0, "storage_per_chunk_mib": 6.0,
                            "storage_per_chunk_bytes": 6 * MIB, "nodes_required": 3, "failures_tolerated": 2},
            "erasure_coding": {"storage_per_chunk_mb": 3.33, "storage_per_chunk_mib": 3.33,
                               "storage_per_chunk_bytes": 5 * 699_051, "nodes_required": 5, "failures_tolerated": 2},
        },
    }


def test_efficiency_custom_geometry(capsys):
    code, out, _ = run(
        capsys, "efficiency", "--data-shards", "6", "--parity-shards", "3", "--replication-factor", "2",
        "--chunk-size", "1MiB",
    )
    assert code == 0
    body = json.loads(out)
    # 9 x ceil(1,048,576 / 6) = 1,572,867 B vs 2 x 1,048,576 = 2,097,152 B.
    assert body["efficiency"] == {
        "replication_overhead_factor": 2.0,
        "erasure_coding_overhead_factor": 1.5,
        "storage_savings_percent": 25.0,
    }
    assert body["mode_comparison"]["erasure_coding"] == {
        "storage_per_chunk_mb": 1.5, "storage_per_chunk_mib": 1.5, "storage_per_chunk_bytes": 1_572_867,
        "nodes_required": 9, "failures_tolerated": 3,
    }


def test_a_bare_command_prints_the_help(capsys):
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    assert out.startswith("usage: vstack-sim") and "run" in out and "sweep" in out


def test_efficiency_chunk_size_changes_rounding(capsys):
    # 10-byte chunks: 5 x ceil(10 / 3) = 20 B, factor 2.0 rather than 1.67.
    body = json.loads(run(capsys, "efficiency", "--chunk-size", "10")[1])
    assert body["efficiency"]["erasure_coding_overhead_factor"] == 2.0
    assert body["efficiency"]["storage_savings_percent"] == 33.3


# -- bench -------------------------------------------------------------------


def test_bench_codec_passes_options_and_prints_table(capsys, monkeypatch):
    calls = []
    fake = types.ModuleType("vstack_sim.system.codec.bench")
    fake.codec_benchmark = lambda **kw: calls.append(kw) or [{"row": 1}]
    fake.format_codec_table = lambda rows: f"TABLE {rows}"
    fake.missing_peers = lambda rows: []
    monkeypatch.setitem(sys.modules, "vstack_sim.system.codec.bench", fake)
    import vstack_sim

    monkeypatch.setattr(vstack_sim, "bench", fake, raising=False)

    code, out, err = run(capsys, "bench", "codec", "--chunk-size", "64KiB", "--repeats", "2", "--no-peers")
    assert code == 0 and err == ""
    assert calls == [{"chunk_size": 64 * 1024, "repeats": 2, "peers": False}]
    assert out == "TABLE [{'row': 1}]\n"

    run(capsys, "bench", "codec")
    assert calls[-1] == {"chunk_size": 2 * MIB, "repeats": 5, "peers": True}


def test_bench_codec_without_the_peers_says_how_to_install_them_in_one_line(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "zfec", None)      # import fails as if not installed
    monkeypatch.setitem(sys.modules, "pyeclib", None)
    code, out, err = run(capsys, "bench", "codec", "--chunk-size", "3KiB", "--repeats", "1")
    assert code == 0
    assert err.count("\n") == 1 and "zfec and pyeclib not installed" in err and "pip install 'vstack-sim[bench]'" in err
    assert "not installed" in out and "Traceback" not in out + err


def test_bench_table_shows_a_decode_that_returns_its_inputs_as_such():
    from vstack_sim.system.codec.bench import format_codec_table

    rows = [{"codec": "zfec", "operation": "decode, no loss", "chunk_size": 1, "mb_per_s": 2_182_260.0,
             "ms_per_chunk": 1e-6, "note": "hands back the k input shares, no work", "returns_inputs": True},
            {"codec": "zfec", "operation": "decode, 1 lost", "chunk_size": 1, "mb_per_s": 1000.0,
             "ms_per_chunk": 2.0, "note": ""}]
    table = format_codec_table(rows)
    assert "returns inputs" in table and "2,182,260" not in table and "1,000" in table


# -- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["recommend", "v", "--views", "-5"], ["--views: must be a non-negative integer, got -5"]),
        (["recommend", "v", "--views", "many"], ["--views"]),
        (["recommend", "v"], ["--views"]),
        (["recommend", "v", "--views", "1", "--threshold", "-1"], ["--threshold"]),
        (["frobnicate"], ["invalid choice", "frobnicate"]),
        (["efficiency", "--data-shards", "200", "--parity-shards", "56"], ["255", "--parity-shards"]),
        (["efficiency", "--data-shards", "0"], ["--data-shards"]),
        (["efficiency", "--parity-shards", "-1"], ["--parity-shards"]),
        (["efficiency", "--replication-factor", "0"], ["--replication-factor"]),
        (["efficiency", "--chunk-size", "2Mb"], ["--chunk-size", "2Mb"]),
        (["efficiency", "--chunk-size", "1.5B"], ["--chunk-size", "whole number"]),
        (["efficiency", "--chunk-size", "0"], ["--chunk-size"]),
        (["efficiency", "--bogus"], ["--bogus"]),
        (["bench"], ["required"]),
        (["bench", "codec", "--repeats", "0"], ["--repeats"]),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, fragments):
    assert_one_line_error(*run(capsys, *argv), *fragments)


def test_bad_env_threshold_is_one_line_exit_2(capsys, monkeypatch):
    monkeypatch.setenv("POPULARITY_THRESHOLD", "lots")
    assert_one_line_error(*run(capsys, "recommend", "v", "--views", "1"), "POPULARITY_THRESHOLD")


def test_help_exits_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "recommend" in out and "efficiency" in out


def test_console_script_subprocess():
    # The real process: exit code and stderr as a shell user sees them.
    ok = subprocess.run(
        [sys.executable, "-m", "vstack_sim.cli.main", "efficiency"], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["efficiency"]["storage_savings_percent"] == 44.4
    bad = subprocess.run(
        [sys.executable, "-m", "vstack_sim.cli.main", "recommend", "v", "--views", "-5"],
        capture_output=True, text=True, check=False,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == "vstack-sim: error: --views: must be a non-negative integer, got -5\n"


def test_cli_import_is_light():
    code = ("import sys, vstack_sim.cli.main; "
            "print(sorted(m for m in ('numpy', 'pandas', 'simpy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_subcommand_has_a_func():
    parser = build_parser()
    for argv in (["recommend", "v", "--views", "1"], ["efficiency"], ["bench", "codec"]):
        assert callable(parser.parse_args(argv).func)


# -- parse_size --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2097152", 2 * MIB),
        ("2MiB", 2 * MIB),
        ("2 MiB", 2 * MIB),
        ("64KiB", 65_536),
        ("1kB", 1000),
        ("1KB", 1000),
        ("3MB", 3_000_000),
        ("1GB", 10**9),
        ("1.5TB", 1_500_000_000_000),
        ("1GiB", 2**30),
        ("2TiB", 2 * 2**40),
        ("0.5KiB", 512),
        ("7B", 7),
        ("0", 0),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "MiB", "-1MiB", "2Mb", "2 mib", "1.5B", "0.1KiB", "1e6", "2 MiB/s", "2XB"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError):
        parse_size(text)


# -- one line, naming the key or the argument (issue 19, section 4) ------------------------------------

BASELINE = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml")


def test_validate_with_standard_output_closed_exits_0():
    import os

    proc = subprocess.run([sys.executable, "-m", "vstack_sim.cli.main", "validate", BASELINE],
                          stderr=subprocess.PIPE, text=True, timeout=120, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("sets, named", [
    (["failures.ttf_distribution=weibull", "failures.weibull_shape=0.001"], "--set failures.weibull_shape=0.001"),
    (["failures.disk_weibull_shape=1e-3"], "--set failures.disk_weibull_shape=1e-3"),
    (["migration.popularity_measure=windowed", "migration.window_resolution=1e-300"],
     "--set migration.window_resolution=1e-300"),
    (["cluster.node_capacity=1"], "--set cluster.node_capacity=1"),
])
def test_an_impossible_set_is_one_line_naming_the_set(capsys, sets, named):
    argv = ["validate", BASELINE]
    for item in sets:
        argv += ["--set", item]
    code, out, err = run(capsys, *argv)
    assert_one_line_error(code, out, err, named)
    assert "baseline.yaml" not in err


@pytest.mark.parametrize("target", [["bench", "codec"], ["demo", "codec"]])
def test_a_codec_benchmark_refuses_a_huge_chunk_before_allocating(capsys, target):
    code, out, err = run(capsys, *target, "--chunk-size", "1PB")
    assert_one_line_error(code, out, err, "--chunk-size", "at most 1GiB", "1PB")
