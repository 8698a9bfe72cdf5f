"""`vstack-sim check-model`: the table, exit 0 when every check passes and 1 when one fails, --only and --json,
and bad input as one line naming the argument (exit 2)."""

from __future__ import annotations

import json

from vstack_sim.cli.main import main
from vstack_sim.validation import CheckSpec, Measurement, Rule, registry


def run(capsys, *argv):
    code = main(["check-model", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_only_cheap_checks_print_a_table_and_exit_0(capsys):
    code, out, err = run(capsys, "--only", "backblaze", "storage-savings")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("check-model (quick): 5 checks")
    assert lines[1].split() == ["check", "source", "expected", "simulated", "result"]
    assert [ln.split()[0] for ln in lines[2:7]] == ["backblaze-4+2", "backblaze-4+2-ge4", "backblaze-4+2-ge5",
                                                  "backblaze-17+3", "storage-savings"]
    assert "Backblaze calculator  1.500e-07 P(loss)/yr" in out and all(ln.endswith("pass") for ln in lines[2:7])
    assert lines[-1] == "5 of 5 checks pass"


def test_json_carries_citation_parameters_rule_and_verdict(capsys):
    code, out, _ = run(capsys, "--only", "backblaze-17+3", "mttdl-3rep-serial", "--json")
    data = json.loads(out)
    assert code == 0 and data["size"] == "quick" and data["passed"] is True
    serial, vault = data["checks"]                                       # in the table's order
    assert (serial["name"], vault["name"]) == ("mttdl-3rep-serial", "backblaze-17+3")
    assert vault["expected"] == 7.354e-12 and vault["status"] == "pass" and "6.5" in vault["citation"]
    assert vault["tolerance"] == "equal to 4 significant figures" and vault["parameters"]["data_shards"] == 17
    assert serial["status"] == "not checkable" and serial["passed"] is None and serial["value"] is None
    assert "parallel only" in serial["note"]


def test_a_failing_check_exits_1(capsys, monkeypatch):
    bad = CheckSpec("wrong-on-purpose", "test", "none", {"x": 1}, 2.0, "u", Rule(rel=0.01),
                    lambda size: Measurement(1.0))
    monkeypatch.setattr(registry, "specs", lambda: registry.backblaze_checks()[:1] + [bad])
    code, out, err = run(capsys)
    assert code == 1 and err == ""
    assert "wrong-on-purpose" in out and "FAIL" in out and out.splitlines()[-1] == "1 of 2 checks pass, 1 FAIL"
    code, out, _ = run(capsys, "--json")
    assert code == 1 and json.loads(out)["passed"] is False


def test_bad_arguments_exit_2_with_one_line_naming_them(capsys):
    for argv, says in [(["--only", "nope"], "--only: unknown check 'nope'"),
                       (["--only"], "--only: expected at least one argument"),
                       (["--only", "md1-rho0.9"], "--only: no check named md1-rho0.9 runs at the quick size"),
                       (["--fast"], "unrecognized arguments: --fast")]:
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "", argv
        assert err.count("\n") == 1 and err.startswith("vstack-sim: error: ") and says in err, (argv, err)


def test_full_runs_the_full_size_and_the_full_only_checks(capsys, monkeypatch):
    import vstack_sim.validation as validation

    seen = []

    def fake(spec, size):
        seen.append((spec.name, size))
        return validation.check.run_spec(CheckSpec(spec.name, spec.source, "c", {"p": 1}, 1.0, "ms", Rule(rel=0),
                                                   lambda _size: Measurement(1.0)), size)

    monkeypatch.setattr(validation, "run_spec", fake)       # no minutes-long queue runs in the suite
    code, out, _ = run(capsys, "--full", "--only", "md1")
    assert code == 0 and seen == [("md1-rho0.5", "full"), ("md1-rho0.9", "full")]
    assert out.startswith("check-model (full): 2 checks")
