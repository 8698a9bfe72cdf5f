"""`vstack-sim durability`: the figures it prints are the library's, and bad input is one line naming the flag."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from vstack_sim.analysis import durability as d
from vstack_sim.cli.main import main


def run(capsys, *argv):
    code = main(["durability", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_issue_example_prints_backblaze_and_the_chain(capsys):
    code, out, err = run(capsys, "--data-shards", "4", "--parity-shards", "2", "--afr", "10%", "--rebuild", "1d",
                         "--stripes", "1000")
    assert code == 0 and err == ""
    assert "annual loss 1.500e-07   6.82 nines" in out                       # the calculator's parity row
    cluster = d.cluster_loss_probability(d.annual_loss_probability(4, 2, 0.1, 1.0), 1000)
    assert f"1,000 stripes  annual loss {cluster:.3e}" in out
    assert "365 d / AFR = 3,650 d" in out and "MTTR = the rebuild window = 1 d" in out
    assert f"MTTDL of one stripe: {d.mttdl(6, 2, 0.1 / 365, 1.0):.4g} d" in out
    assert "shards fail independently, and so do stripes" in out            # the stated assumption


def test_json_matches_the_library_and_the_issue_chain_numbers(capsys):
    # RS(3,2) with MTTF 3650 d (AFR 10 %) and MTTR 1 d over a 365-day mission: 2.239e-7, serial 4.469e-7
    code, out, _ = run(capsys, "--afr", "0.1", "--rebuild", "24h", "--mission", "1y", "--json")
    f = json.loads(out)
    assert code == 0 and (f["data_shards"], f["parity_shards"], f["stripes"]) == (3, 2, 1_000_000)
    assert f["node_mttf_days"] == pytest.approx(3650.0) and f["mttr_days"] == 1.0 and f["mission_days"] == 365.0
    assert f"{f['chain']['mission_loss']:.3e}" == "2.239e-07"
    assert f["backblaze"]["annual_loss"] == d.annual_loss_probability(3, 2, 0.1, 1.0)
    assert f["backblaze"]["nines"] == pytest.approx(-math.log10(f["backblaze"]["annual_loss"]))
    serial = json.loads(run(capsys, "--afr", "10%", "--rebuild", "1d", "--repair", "serial", "--json")[1])
    assert f"{serial['chain']['mission_loss']:.3e}" == "4.469e-07"


def test_three_replicas_are_one_data_shard_and_two_parity(capsys):
    code, out, _ = run(capsys, "--data-shards", "1", "--parity-shards", "2", "--afr", "10%", "--rebuild", "1d")
    assert code == 0 and out.startswith("RS(1,2) (3 replicas): 3 shards")
    assert f"{d.loss_probability(3, 2, 0.1 / 365, 1.0, 365.0):.3e}" in out   # 2.240e-08


@pytest.mark.parametrize("argv, flag", [
    (["--afr", "-1", "--rebuild", "1d"], "--afr"),
    (["--afr", "0%", "--rebuild", "1d"], "--afr"),
    (["--afr", "10", "--rebuild", "1d"], "--afr"),          # a forgotten %: refused, not 1000 %
    (["--afr", "ten", "--rebuild", "1d"], "--afr"),
    (["--afr", "nan%", "--rebuild", "1d"], "--afr"),
    (["--afr", "10%", "--rebuild", "6.5"], "--rebuild"),    # no unit: refused, not 6.5 seconds
    (["--afr", "10%", "--rebuild", "0d"], "--rebuild"),
    (["--afr", "10%", "--rebuild", "soon"], "--rebuild"),
    (["--afr", "10%", "--rebuild", "1e309d"], "--rebuild"),
    (["--afr", "10%", "--rebuild", "1d", "--mission=-1y"], "--mission"),
    (["--afr", "10%", "--rebuild", "1d", "--parity-shards", "-1"], "--parity-shards"),
    (["--afr", "10%", "--rebuild", "1d", "--data-shards", "0"], "--data-shards"),
    (["--afr", "10%", "--rebuild", "1d", "--data-shards", "250", "--parity-shards", "10"], "--parity-shards"),
    (["--afr", "10%", "--rebuild", "1d", "--stripes", "0"], "--stripes"),
    (["--afr", "10%", "--rebuild", "1d", "--repair", "both"], "--repair"),
    (["--rebuild", "1d"], "--afr"),
])
def test_bad_input_is_one_line_naming_the_flag(capsys, argv, flag):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("vstack-sim: error: ")
    assert flag in err and "Traceback" not in err and "usage:" not in err


def test_no_parity_is_a_stripe_lost_at_its_first_failure(capsys):
    f = json.loads(run(capsys, "--data-shards", "2", "--parity-shards", "0", "--afr", "1%", "--rebuild", "1d",
                       "--json")[1])
    assert f["chain"]["mttdl_days"] == pytest.approx(365 / 0.02)


def test_subprocess_exit_codes():
    ok = subprocess.run([sys.executable, "-m", "vstack_sim.cli.main", "durability", "--afr", "2%", "--rebuild", "1d"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "nines" in ok.stdout and ok.stderr == ""
    bad = subprocess.run([sys.executable, "-m", "vstack_sim.cli.main", "durability", "--afr", "-1",
                          "--rebuild", "1d"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == "vstack-sim: error: --afr: must be a number above 0 %, got -1\n"


def test_a_probability_that_underflows_prints_inf_nines_and_json_null(capsys):
    argv = ["--afr", "0.0000001%", "--rebuild", "1min", "--data-shards", "200", "--parity-shards", "55"]
    out = run(capsys, *argv)[1]
    assert "annual loss 0.000e+00   inf nines" in out
    f = json.loads(run(capsys, *argv, "--json")[1])            # strict JSON: no Infinity
    assert f["backblaze"]["nines"] is None and f["chain"]["cluster_nines"] is None
