"""Reports: rebuilt from the tables alone, identical to what run wrote, with the V-Stack design's claims beside ours."""

from __future__ import annotations

import base64
import re

from tests.conftest import make_fake_result
from vstack_sim.results.report import build_report, format_summary, key_numbers
from vstack_sim.results.runner import run_to_folder
from vstack_sim.scenario.schema import Config


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_report_rebuilds_exactly_what_run_wrote(tmp_path, fake_result, fake_simulate):
    folder = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate)
    before = snapshot(folder)
    for name in [n for n in before if n.startswith("figures/") or n.startswith("report.")]:
        (folder / name).unlink()
    build_report(folder)
    assert snapshot(folder) == before
    assert not [p for p in folder.rglob(".*")]  # no partial files left


def test_report_html_is_self_contained(tmp_path, fake_result, fake_simulate):
    folder = run_to_folder(fake_result.config, root=tmp_path, simulate=fake_simulate)
    page = (folder / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(list((folder / "figures").glob("*.png")))
    assert base64.b64decode(images[0]) == (folder / "figures" / "storage_by_mode.png").read_bytes()
    assert "src=\"figures/" not in page and "http" not in page.replace("http-equiv", "")


def test_report_shows_scenario_numbers_manifest_and_reproduce_command(tmp_path, fake_result, fake_simulate):
    folder = run_to_folder(fake_result.config, out=tmp_path / "r", simulate=fake_simulate)
    md = (folder / "report.md").read_text()
    assert f"vstack-sim run {(tmp_path / 'r').as_posix()}/scenario.yaml" in md
    assert "## Scenario (resolved)" in md and "timeline_interval: 21600.0" in md
    assert '"config_sha256"' in md
    assert "| Storage savings at ingest (vs all-replication) | 33.33 % | ~40 % (headline) |" in md
    assert "| Per-chunk savings, EC vs replication | 44.44 % | 44.4 % |" in md
    assert "![storage_by_mode](figures/storage_by_mode.png)" in md


def test_seed_claims_appear_only_for_the_seed_catalog(fake_result):
    seed_cfg = Config(name="seedlike")
    fake = make_fake_result()
    fake.config = seed_cfg
    rows = {a: (b, c) for a, b, c in key_numbers(fake)}
    assert rows["Storage savings at ingest (vs all-replication)"][1].startswith("42.2 %")
    assert rows["Chunks at ingest: replicated / erasure coded"][1] == "2,500 / 47,500"
    other = {a: c for a, b, c in key_numbers(fake_result)}
    assert other["Chunks at ingest: replicated / erasure coded"] == ""
    odd = make_fake_result()
    odd.config = Config(name="odd", redundancy={"data_shards": 4, "parity_shards": 2})
    assert {a: c for a, b, c in key_numbers(odd)}["Per-chunk savings, EC vs replication"] == ""


def test_format_summary_has_the_key_lines(fake_result):
    text = format_summary(fake_result.summary)
    s = fake_result.summary
    lines = text.splitlines()
    assert lines[0].split() == ["storage", "savings", "start", "end"]
    assert lines[1].split() == [f"{s['storage_initial']['storage_savings_percent']:.2f}", "%",
                                f"{s['storage']['storage_savings_percent']:.2f}", "%"]
    p50 = s["reads"]["latency_ms"]["degraded"]["p50"]
    assert any(line.split()[0] == "degraded" and f"{p50:,.2f}" in line for line in lines)
    assert "1.50 h mean" in text
    assert "chunks lost               0" in text
    assert "1 to replication, 0 to EC" in text


def test_format_summary_without_reads_of_a_kind(fake_result):
    fake_result.summary["reads"]["latency_ms"]["degraded"] = None
    fake_result.summary["recovery"]["time_s"] = {"mean": None, "p50": None, "p95": None, "max": None}
    text = format_summary(fake_result.summary)
    assert "n/a" in text


def test_report_opens_with_the_interpreted_conclusion_from_the_ledger(tmp_path, fake_result, fake_simulate):
    from vstack_sim.results.conclusion import interpret
    from vstack_sim.scenario.units import format_bytes

    lines = interpret(fake_result)
    size = fake_result.config.catalog.chunk_size
    frag = -(-size // 3)
    # 12 chunks of 2 MiB: all replicated 12 x 3 x size, all RS(3,2) 12 x 5 x ceil(size / 3).
    all_ec = 100 * (1 - 60 * frag / (36 * size))
    assert lines[0].startswith("The adaptive policy saved 33.33 % of storage against all-replication at the start")
    end = fake_result.summary["storage"]
    assert f"({format_bytes(end['total_physical_bytes'])} for 12 chunks)" in lines[0]
    assert f"all-EC would save {all_ec:.2f} %, {all_ec - end['storage_savings_percent']:.2f} points more" in lines[0]
    assert lines[1].startswith("Replicated against erasure-coded reads: at p50 ")
    assert lines[2].startswith("Recovery took 1.50 h on average. Nodes were ")
    folder = run_to_folder(fake_result.config, out=tmp_path / "r", simulate=fake_simulate)
    md = (folder / "report.md").read_text().splitlines()
    assert md[2:4] == ["## Conclusion", ""] and md[4:4 + len(lines)] == [f"- {line}" for line in lines]


def test_report_says_whether_the_reads_table_is_a_sample(fake_result):
    from vstack_sim.results.report import reads_note

    assert reads_note(fake_result).startswith("tables/reads.csv holds every one of the run's 60 chunk reads")
    fake_result.summary["reads"]["count"] = 6000
    assert "a sample of 60 of the run's 6,000 chunk reads (every read of a kind with fewer than 1,000" in \
        reads_note(fake_result)


def test_plurals():
    from vstack_sim.results.report import plural

    assert plural(1, "declared failure") == "1 declared failure"
    assert plural(2, "declared failure") == "2 declared failures"
    assert plural(0, "chunk") == "0 chunks"
    assert plural(1200, "read") == "1,200 reads"


HOSTILE = "Title\n```\n# heading\n    indented <script>alert(1)</script> [link](http://x) *em* `code` ~~~ | a |"


def test_description_is_inert_in_report_md_and_cannot_leave_or_open_a_fence(tmp_path, fake_simulate):
    from vstack_sim.results.report import markdown_text

    base = make_fake_result().config
    config = Config.model_validate({**base.model_dump(), "description": HOSTILE})
    folder = run_to_folder(config, out=tmp_path / "r", simulate=fake_simulate)
    md = (folder / "report.md").read_text()
    paragraph = markdown_text(HOSTILE)
    assert paragraph in md.splitlines()
    assert "<script>" not in paragraph and "&lt;script&gt;" in paragraph
    assert "\n" not in paragraph and "```" not in paragraph and "\\#" in paragraph and "\\[link\\]" in paragraph
    # outside the fenced blocks, no line opens a fence: fences around the scenario are longer than its backticks
    fences = [line for line in md.splitlines() if line.startswith("```")]
    assert all(line.startswith("````") for line in fences[2:4])  # the resolved scenario holds ``` itself
    assert "<script>" not in (folder / "report.html").read_text()


def test_the_printed_recovery_line_counts_the_disk_failures_its_times_cover(fake_result):
    from vstack_sim.results.report import format_summary

    summary = fake_result.summary
    assert "(1 declared failure)" in format_summary(summary)
    summary["recovery"]["by_component"] = {"node": {"declared": 1}, "disk": {"declared": 37}}
    assert "(1 node and 37 disk failures declared)" in format_summary(summary)
    summary["recovery"]["disk_failures"] = 37
    assert ("Disk failures", "37", "") in key_numbers(fake_result)


def test_key_numbers_give_hedging_and_late_binding_beside_each_other(fake_result):
    assert not [a for a, _, _ in key_numbers(fake_result) if a.startswith(("Hedged", "Late binding"))]
    fake_result.summary["reads"]["hedges"] = {"after": 0.03, "sent": 1200, "won": 300, "lost": 500,
                                              "cancelled": 400, "unanswered": 0, "primary_not_withdrawn": 5,
                                              "extra_bytes": 800 * 2**21, "delay_ms_at_end": 30.0}
    fake_result.summary["reads"]["late_binding"] = {"extra": 1, "extra_fragments": 90, "extra_bytes": 90 * 699051}
    rows = {a: b for a, b, _ in key_numbers(fake_result)}
    assert rows["Hedged reads (after 30.00 ms): sent / won / cancelled before start; extra I/O"] == \
        "1,200 / 300 / 400; 1.56 GiB"    # 800 hedges of 2 MiB
    assert rows["Late binding (k + 1): extra fragments read; extra I/O"].startswith("90; ")


def test_what_conversions_cost_is_shown_when_the_summary_has_it(fake_result):
    from tests.model.test_migration import one_chunk_conversion
    from vstack_sim.model.simulation import simulate

    # A folder from before the conversions block: no rows, no line.
    assert not any(a.startswith("Conversion") for a, _, _ in key_numbers(fake_result))
    assert "conversion I/O" not in format_summary(fake_result.summary)
    run = simulate(one_chunk_conversion(outputs={"timeline_interval": "1min"}))
    rows = {a: b for a, b, _ in key_numbers(run)}
    assert rows["Conversion disk I/O read / written"] == "2.00 MiB / 6.00 MiB"
    assert rows["Conversions' share of all disk I/O, peak (per 1.00 min) / mean"] == "100 % / 80 %"
    bw = run.summary["conversions"]["bandwidth_share"]
    label = ("Conversions' share of disk bandwidth, peak (per 1.00 min) / mean; "
             "PACEMAKER (OSDI'20): at most 5 % / 0.2-0.4 %")
    assert rows[label] == f"{100 * bw['peak']:.3g} % / < 0.001 %"
    assert rows["Replicated share of stored bytes: start / end / steady state (95 %)"] == \
        "0.00 % / 100.00 % / 100.00 % [100.00, 100.00]"
    assert f"{100 * bw['peak']:.3g} % / < 0.001 % of disk bandwidth (peak / mean)" in format_summary(run.summary)


def test_a_living_catalog_shows_its_uploads_and_a_fixed_one_does_not(fake_result):
    assert not any(a.startswith("Upload") for a, _, _ in key_numbers(fake_result))
    fake_result.summary["uploads"] = {"scheduled": 12, "uploaded": 10, "refused": 2, "deleted": 4,
                                      "uploaded_bytes": 10 * 2**20, "deleted_bytes": 4 * 2**20, "write_mean_s": 0.1,
                                      "write_p99_s": 0.2, "views_dropped": 3, "reads_failed_deleted": 0,
                                      "stored_videos_end": 106}
    rows = {a: b for a, b, _ in key_numbers(fake_result)}
    assert rows["Uploads: stored / refused; deleted; videos stored at the end"] == "10 / 2; 4; 106"
    assert rows["Upload bytes in / deleted"] == "10.00 MiB / 4.00 MiB"


def test_the_price_table_and_the_dollars_are_key_numbers():
    from tests.model.test_dollars import run

    rows = {a: (b, c) for a, b, c in key_numbers(run())}
    prices = rows["Prices: storage $/GB-month replication / EC; $ per read request; $ per GB moved"]
    assert prices[0] == "0.05 / 0.01; 1e-06; 0.02" and "S3" in prices[1]
    assert rows["Cost: storage replication / EC; read requests; traffic; total"][0] == \
        "$0.00 / $0.00; $0.00; $0.00; $0.00"        # a few tenths of a cent: dollars to the cent
