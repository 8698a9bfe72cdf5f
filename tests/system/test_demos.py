"""The V-Stack design's two demos: numbers from the real manager, ledger and codec; the CLI prints the same tables."""

from __future__ import annotations

from vstack_sim.cli.main import main
from vstack_sim.system import demos

MIB = 2**20
FRAG = 699_051          # ceil(2 MiB / 3)
ALL_REP = 50_000 * 3 * 2 * MIB


def test_the_designs_example_in_bytes():
    example = dict(zip(*demos.storage_savings()["example"].T.values, strict=False))
    assert example["chunks replicated / erasure coded"] == "2,500 / 47,500"
    assert example["adaptive: total bytes"] == f"{2_500 * 3 * 2 * MIB + 47_500 * 5 * FRAG:,}" == "181,753,252,500"
    assert example["saved vs all replication"] == "42.22 %"
    assert example["all erasure coding, bytes"] == f"{50_000 * 5 * FRAG:,}"


def test_slips_show_the_designs_figure_beside_the_right_one():
    slips = demos.storage_savings()["slips"].set_index("figure")
    assert slips.loc["/storage/overhead erasure_overhead_bytes", "the design says"] == "170,685,235,200"
    assert slips.loc["/storage/overhead erasure_overhead_bytes", "right value"] == f"{47_500 * 5 * FRAG:,}"
    assert "40.7 %" in slips.loc["/storage/overhead total_physical_bytes", "why"]


def test_savings_against_hot_fraction_and_code_by_hand():
    tables = demos.storage_savings()
    by_hot = tables["by_hot_fraction"].set_index("hot videos")["saved vs all replication (%)"]
    assert by_hot["0 %"] == 44.44 and by_hot["100 %"] == 0.0 and by_hot["10 %"] == 40.0
    by_code = tables["by_code"].set_index("code")
    # RS(10,4): 14 x ceil(2 MiB / 10) = 14 x 209,716 bytes per chunk.
    assert by_code.loc["RS(10,4)", "bytes per 2 MiB chunk"] == 14 * 209_716
    mix = tables["youtube_mix"].set_index("code")
    assert mix.loc["RS(3,2)", "replicated chunks"] == 6_500
    by_hand = 100 * (1 - (6_500 * 3 * 2 * MIB + 43_500 * 5 * FRAG) / ALL_REP)
    assert mix.loc["RS(3,2)", "saved vs all replication (%)"] == round(by_hand, 2) == 38.67


def test_codec_demo_decodes_every_pair_of_lost_fragments():
    tables = demos.codec_benchmark(chunk_size=3 * 1024, repeats=1, peers=False)
    pairs = tables["lost_pairs"]
    assert len(pairs) == 10 and set(pairs["data fragments lost"]) == {0, 1, 2}
    assert (pairs["ms per chunk"] >= 0).all()
    assert {"vstack_sim numpy", "replication x3"} <= set(tables["throughput"]["codec"])


def test_cli_demo_storage_prints_the_notebooks_tables(capsys):
    assert main(["demo", "storage"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip("\n") == demos.format_tables(demos.storage_savings(), demos.STORAGE_TITLES)
    assert "181,753,252,500" in out and "38.67" in out and "e+" not in out


def test_cli_demo_codec_runs(capsys):
    assert main(["demo", "codec", "--chunk-size", "3KiB", "--repeats", "1", "--no-peers"]) == 0
    out = capsys.readouterr().out
    assert "Decode with two fragments lost" in out and "3, 4" in out


def test_printed_demo_tables_fit_120_columns_wider_ones_as_records():
    # Issue 23: `vstack-sim demo storage` printed 189 columns.
    from vstack_sim.system.demos import STORAGE_TITLES, format_tables, storage_savings

    text = format_tables(storage_savings(), STORAGE_TITLES)
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "  why: ceil(size / 3); 400 KB fragments hold no redundancy" in text.splitlines()
