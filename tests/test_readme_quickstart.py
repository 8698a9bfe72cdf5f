"""The README's Quickstart as .ci/run reads it: the second command installs the test extra and runs pytest."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quickstart_command(n: int) -> str:
    """The n-th command of the Quickstart block, extracted with .ci/run's own awk program."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    awk = script[script.index("awk '") + 5: script.index("' README.md")]
    out = subprocess.run(["awk", awk, str(ROOT / "README.md")], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[n - 1]


def test_ci_runs_the_quickstarts_second_command_and_it_runs_pytest():
    assert "sed -n 2p" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = quickstart_command(2)
    assert "pip install" in command and "'.[test]'" in command
    assert command.split("&&")[-1].strip().startswith("pytest")


def test_the_first_quickstart_command_installs_and_runs_the_default_scenario():
    assert quickstart_command(1) == "pip install . && vstack-sim run"
