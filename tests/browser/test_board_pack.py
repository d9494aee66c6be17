"""The board pack on the demo's last month: every headline KPI with a tile, a sentence and a chart,
no external URL, printed to A4 PDF by headless Chromium (page images kept to look at), and the
same file offered by the app."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from carekpi import read
from dashboard import ids
from dashboard.report import build_board_pack, default_org, headline_kpis
from kpi.catalogue import get_kpi
from tests.browser.conftest import END_MONTH

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pack(demo_engine):
    return build_board_pack(demo_engine, END_MONTH)


def test_the_pack_holds_every_headline_kpi_with_a_tile_a_sentence_and_a_chart(pack, demo_engine):
    area = default_org(demo_engine)
    with demo_engine.connect() as conn:
        expected = [k.id for k, _ in headline_kpis(conn, area, END_MONTH)]
    assert len(expected) >= 8 and list(pack.kpi_ids) == expected
    for kpi_id in expected:
        assert f'id="tile-{kpi_id}"' in pack.html
        assert f'id="spc-{kpi_id}"' in pack.html
        assert f'"chart-{kpi_id}"' in pack.html  # the plotly div the chart draws into
    assert pack.html.count("Plotly.newPlot(") == len(expected)
    summary = re.search(r'<ul id="summary">(.*?)</ul>', pack.html, re.S).group(1)
    assert summary.count("<li>") == len(expected)
    for heading in ("Red-red alerts", "Payment position", "Data freshness", "Methods"):
        assert f"<h2>{heading}</h2>" in pack.html


def test_the_pack_holds_no_external_url_and_plotly_once(pack):
    assert re.search(r"(https?|ftp|wss?):/|//[a-z0-9-]+\.[a-z]", pack.html, re.I) is None
    bundle = re.search(r"<script>(/\*\*? ?\n?\s*\* plotly\.js v.*?)</script>", pack.html, re.S)
    assert bundle is not None and pack.html.count("plotly.js v") == 1  # inlined once
    # outside plotly.js (whose map attributions a pack never draws) nothing is loaded or linked
    page = pack.html.replace(bundle.group(1), "")
    assert re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page, re.I) == []
    assert "url(" not in page and "@import" not in page


def test_the_pack_sentences_match_the_mart(pack, demo_engine):
    area = default_org(demo_engine)
    row = read.org_month(demo_engine, area, END_MONTH)
    ea = row[(row["kpi_id"] == "ea_rate") & (row["form"] == "month")].iloc[0]
    assert f"{ea['value']:,.2f} per 1,000, " in pack.html


def test_the_pack_prints_to_a4_pdf_with_page_images(pack, output_dir: Path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None or shutil.which("pdftoppm") is None:
        pytest.skip("needs chromium and poppler's pdftoppm (make browser installs them)")
    page = output_dir / "board-pack.html"
    page.write_text(pack.html, encoding="utf-8")
    pdf = output_dir / "board-pack.pdf"
    started = time.perf_counter()
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-pdf-header-footer", "--virtual-time-budget=20000",
                    f"--print-to-pdf={pdf}", page.as_uri()], check=True, timeout=180,
                   capture_output=True)
    seconds = time.perf_counter() - started
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info.stdout)
    assert (round(float(size.group(1))), round(float(size.group(2)))) == (595, 842)  # A4 in pt
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert pages >= 4
    for stale in output_dir.glob("page-*.png"):  # a previous run's pages
        stale.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(output_dir / "page")],
                   check=True, timeout=120)
    images = sorted(output_dir.glob("page-*.png"))
    assert len(images) == pages
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "Board pack" in text and "Red-red alerts" in text
    print(f"pack {len(pack.html) / 1e6:.2f} MB built in {pack.seconds:.1f} s; {pages} A4 pages "
          f"printed in {seconds:.1f} s; images {images[0].parent}")


def test_the_app_offers_the_pack_for_download(browser, demo_warehouse, server_port, pack):
    from dashboard.app import create_app

    browser.start_server(create_app(demo_warehouse), port=server_port)
    link = browser.wait_for_element(f"#{ids.OVERVIEW_PACK}", timeout=40)
    href = link.get_attribute("href")
    assert "/report.html?" in href and f"month={END_MONTH}" in href
    with urllib.request.urlopen(href, timeout=120) as answer:  # the local test server
        body = answer.read().decode()
        assert "attachment" in answer.headers["Content-Disposition"]
    assert all(f'id="spc-{k}"' in body for k in pack.kpi_ids)
    assert browser.find_element(f"#{ids.OVERVIEW_RED_RED}")


def test_carekpi_report_writes_the_pack_and_names_mistakes(demo_warehouse, tmp_path):
    from click.testing import CliRunner

    from carekpi.cli import cli

    env = {"CAREKPI_DATA_DIR": str(demo_warehouse.data_dir)}
    out = tmp_path / "pack.html"
    done = CliRunner().invoke(cli, ["report", "--month", END_MONTH, "--out", str(out)], env=env)
    assert done.exit_code == 0, done.output
    assert re.fullmatch(r"wrote .*pack\.html: \d+ KPIs, [\d.]+ MB in [\d.]+ s\n", done.output)
    assert 'id="spc-ea_rate"' in out.read_text(encoding="utf-8")
    bad = CliRunner().invoke(cli, ["report", "--month", "2026-13", "--out", str(out)], env=env)
    assert bad.exit_code == 2 and "'2026-13' is not a month written YYYY-MM" in bad.output
    unknown = CliRunner().invoke(cli, ["report", "--month", END_MONTH, "--org", "NOPE",
                                       "--out", str(out)], env=env)
    assert unknown.exit_code == 1 and "no organisation 'NOPE' in the warehouse" in unknown.output
    assert "Traceback" not in unknown.output


def test_annotations_propose_offers_shift_starts_and_changes_nothing(demo_warehouse, demo_engine,
                                                                     tmp_path):
    from click.testing import CliRunner

    from carekpi.cli import cli
    from dashboard.proposals import propose_rebases

    area = default_org(demo_engine)
    before = read.every_annotation(demo_engine)
    proposals = propose_rebases(demo_engine, area)
    env = {"CAREKPI_DATA_DIR": str(demo_warehouse.data_dir)}
    out = tmp_path / "annotations.csv"
    done = CliRunner().invoke(cli, ["annotations", "propose", "--org", area, "--out", str(out)],
                              env=env)
    assert done.exit_code == 0, done.output
    for row in proposals.itertuples(index=False):
        assert f"{row.kpi_id}: rebase at {row.period}" in done.output
        series = read.kpi_series(demo_engine, row.kpi_id, area)
        mean = series["spc_mean"].iloc[-1]
        after = series[series["period"] >= row.period]["value"].dropna()
        side = 1 if after.iloc[-1] > mean else -1
        assert len(after) >= 7 and ((after - mean) * side > 0).all()  # a run on one side
    written = pd.read_csv(out) if len(proposals) else None
    if written is not None:
        assert len(written) == len(before) + len(proposals)  # the others are kept
    assert read.every_annotation(demo_engine).equals(before)  # never rebased by itself


def test_red_red_equals_a_direct_reading_of_the_mart(pack, demo_engine):
    area = default_org(demo_engine)
    found = read.red_red(demo_engine, area, END_MONTH)
    rows = read.mart_rows(demo_engine, from_month=END_MONTH, to_month=END_MONTH)
    rows = rows[rows["level"].isin(["network", "practice"]) & (rows["form"] == "month")]
    expected = set()
    for r in rows.itertuples(index=False):
        kpi = get_kpi(r.kpi_id)
        if kpi.drilldown_of or r.suppressed or pd.isna(r.value):
            continue
        bad = "above" if kpi.polarity == "lower" else "below"
        worse = (str(r.variation_icon).startswith("concern")
                 or r.trend == ("increasing" if kpi.polarity == "lower" else "decreasing"))
        if r.funnel_class == f"{bad}_998" and worse:
            expected.add((r.kpi_id, r.org_code))
    assert set(zip(found["kpi_id"], found["org_code"], strict=True)) == expected
    assert expected  # the demo has some, so the pack's list is not empty by accident
    for code in found["org_code"]:
        assert f"<td>{code}</td>" in pack.html


def test_a_practice_named_in_a_sentence_has_a_shown_value(pack, demo_engine):
    summary = re.search(r'<ul id="summary">(.*?)</ul>', pack.html, re.S).group(1)
    for kpi_id, sentence in zip(pack.kpi_ids, re.findall(r"<li>(.*?)</li>", summary),
                                strict=True):
        named = re.findall(r"\((Y\d+)\)", sentence)
        month = read.kpi_month(demo_engine, kpi_id, END_MONTH, "practice").set_index("org_code")
        for code in named:
            assert not month.at[code, "suppressed"] and pd.notna(month.at[code, "value"])
        hidden = month[month["suppressed"]].index
        assert not any(f"({code})" in sentence for code in hidden)


def test_the_report_route_refuses_a_bad_month_in_words(demo_warehouse):
    from dashboard.app import create_app

    client = create_app(demo_warehouse).server.test_client()
    bad = client.get("/report.html?month=2026-13")
    assert bad.status_code == 400 and "month must be written YYYY-MM" in bad.get_data(True)
    unknown = client.get(f"/report.html?month={END_MONTH}&org=NOPE")
    assert unknown.status_code == 400 and "no organisation 'NOPE'" in unknown.get_data(True)
