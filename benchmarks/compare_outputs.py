"""Do the shipped scenarios give the same outputs as at another commit? (summary.json and tables, byte for byte)

Runs every shipped scenario (``scenarios/*.yaml``) here and at COMMIT (checked out into a temporary git
worktree, run with that tree's own package on PYTHONPATH), each in its own process with
``outputs.figures=false`` and ``outputs.catalog=false``, and compares ``summary.json`` and every
``tables/*.csv`` byte for byte. ``--duration`` shortens every scenario (e.g. ``1d``) to save time.

    python benchmarks/compare_outputs.py b4885d2 [--duration 1d] [--only seed,baseline]

Prints one line per scenario and file that differs, then a verdict; exits 1 if anything differs.
A refactoring should print "identical"; a change that moves goldens on purpose shows here what moved.
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
try:
    from vstack_sim.results.runner import run_to_folder
    from vstack_sim.scenario.files import load_scenario
except ImportError:  # the layout before the layer packages
    from vstack_sim.runner import run_to_folder
    from vstack_sim.scenario import load_scenario
sets = {"outputs.figures": False, "outputs.catalog": False}
if sys.argv[4]:
    sets["run.duration"] = sys.argv[4]
config = load_scenario(sys.argv[2], overrides=sets)
run_to_folder(config, out=sys.argv[3], quiet=True)
"""


def run_all(tree: Path, names: list[str], out: Path, duration: str) -> None:
    for name in names:
        print(f"  {tree.name}: {name}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-c", RUN, str(tree), str(ROOT / "scenarios" / f"{name}.yaml"),
                        str(out / name), duration], check=True, cwd=tree)


def differences(a: Path, b: Path, names: list[str]) -> list[str]:
    out = []
    for name in names:
        files = ["summary.json"] + sorted(p.relative_to(a / name).as_posix() for p in (a / name / "tables").glob("*"))
        others = {p.relative_to(b / name).as_posix() for p in (b / name / "tables").glob("*")}
        for rel in sorted(set(files) | others):
            if rel == "summary.json" or rel.startswith("tables/"):
                pa, pb = a / name / rel, b / name / rel
                if not pa.exists() or not pb.exists():
                    out.append(f"{name}: {rel} only in {'this tree' if pa.exists() else 'the other commit'}")
                elif not filecmp.cmp(pa, pb, shallow=False):
                    out.append(f"{name}: {rel} differs")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("commit", help="the commit to compare with, e.g. the one before a refactoring")
    ap.add_argument("--duration", default="", help="shorten every scenario to this run.duration (e.g. 1d)")
    ap.add_argument("--only", default="", help="comma-separated scenario names (default: every shipped one)")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    with tempfile.TemporaryDirectory(prefix="vstack-compare-") as tmp:
        tmp = Path(tmp)
        other = tmp / "other"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(other), args.commit], check=True, cwd=ROOT)
        try:
            run_all(ROOT, names, tmp / "here", args.duration)
            run_all(other, names, tmp / "there", args.duration)
            diffs = differences(tmp / "here", tmp / "there", names)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], check=True, cwd=ROOT)
    for line in diffs:
        print(line)
    shown = f" (run.duration {args.duration})" if args.duration else ""
    print(f"{len(names)} scenarios{shown} against {args.commit}: "
          + ("identical summary.json and tables" if not diffs else f"{len(diffs)} files differ"))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
