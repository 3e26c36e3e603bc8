"""Stage 80, the review (bilan): every figure traced to an earlier stage, the earlier editions read from
their aggregates only (``history/``), small counts suppressed only when rendered."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from pipeline.repro import history
from pipeline.contract.config import Edition, Params
from pipeline.repro.dvcgen import generate
from pipeline.repro.privacy import suppress
from pipeline.demo import history as demo_history
from pipeline.stages import review
from tests.conftest import ROOT, copy_repo

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
INDICATORS = PARAMS["review"]["indicators"]
# a campaign's own breakdowns (a pôle's offers per pupil by basin) exist only for the editions of that campaign
BREAKDOWNS = {k: v for k, v in PARAMS["review"]["breakdowns"].items() if not v.get("campaign")}


# --- the earlier demo edition's aggregates -----------------------------------------------------------------
def test_committed_earlier_edition_is_what_the_generator_writes_and_adds_up():
    committed = json.loads((ROOT / "history" / f"{demo_history.NAME}.json").read_text(encoding="utf-8"))
    record = demo_history.record()
    assert committed == json.loads(json.dumps(record))
    assert set(record["indicators"]) == set(INDICATORS) and set(record["breakdowns"]) == set(BREAKDOWNS)
    i, b = record["indicators"], record["breakdowns"]
    assert sum(b["partners_by_type"].values()) == sum(b["partners_by_departement"].values()) == i["partners"]
    assert sum(b["learners_by_track"].values()) == sum(b["rank_profile"].values()) == i["learners"]
    assert sum(b["targeted_by_competence"].values()) == i["competences_targeted"]
    assert sum(b["acquired_by_competence"].values()) == i["competences_acquired"] <= i["competences_targeted"]
    assert i["projects_received"] >= i["projects_eligible"] >= i["projects_retained"] == i["projects_opened"] + i["projects_closed"]


def test_review_reads_only_earlier_editions(tmp_path):
    root = copy_repo(tmp_path / "repo")
    params = Params.load(root)
    before = generate(root)
    assert [p.name for p in history.earlier_files("demo", params)] == ["demo-2024.json"]
    later = dict(demo_history.record(), edition="demo-2027", start="2027-12-01")
    (root / "history" / "demo-2027.json").write_text(json.dumps(later), encoding="utf-8")
    (root / "history" / "demo.json").write_text(json.dumps(dict(later, edition="demo", start="2025-12-01")),
                                                encoding="utf-8")
    assert [p.name for p in history.earlier_files("demo", params)] == ["demo-2024.json"]
    assert generate(root) == before  # freezing this or a later edition never touches the demo's review
    assert "${item.earlier0}" in before and "earlier0: history/demo-2024.json" in before


def test_a_damaged_history_file_is_named(tmp_path):
    root = copy_repo(tmp_path / "repo")
    (root / "history" / "demo-2023.json").write_text('{"edition": "demo-2023"}', encoding="utf-8")
    with pytest.raises(Exception) as info:
        history.earlier(Edition.load("demo", root))
    assert "history/demo-2023.json" in str(info.value) and "indicators" in str(info.value)


# --- suppression -----------------------------------------------------------------------------------------------
def test_small_counts_of_learners_are_suppressed_only_when_rendered():
    edition = Edition.load("demo", ROOT)
    small = review.Review(edition, dict(demo_history.record()["indicators"], learners=4, first_choice=3),
                          dict(demo_history.record()["breakdowns"], learners_by_track={"EJE": 3, "ES": 1, "X": 0}),
                          [])
    assert suppress(4, 5) == "< 5" and suppress(5, 5) == 5 and suppress(0, 5) == 0
    table = review.comparison(small).set_index("Indicateur")
    assert table.loc[INDICATORS["learners"]["label"], "demo"] == "< 5"
    assert table.loc[INDICATORS["projects_received"]["label"], "demo"] == small.indicators["projects_received"]
    tracks = review.breakdown(small, "learners_by_track").set_index("Catégorie")["demo"].to_dict()
    assert tracks == {"EJE": "< 5", "ES": "< 5", "X": 0}
    raw = review.comparison(small, rendered=False).set_index("Indicateur")
    assert raw.loc[INDICATORS["learners"]["label"], "demo"] == 4
    assert all("< 5" not in s or "4" not in s for s in review.summary_sentences(small))


# --- the demo run ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bilan(demo_run):
    out = demo_run / "outputs" / "demo"
    metrics = {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*/metrics.json")}
    return {"root": demo_run, "out": out, "metrics": metrics, "review": metrics["review"],
            "html": (out / "review" / "report.html").read_text(encoding="utf-8")}


@pytest.mark.slow
def test_every_metric_sourced_figure_is_the_earlier_stage_metric(bilan):
    indicators, metrics = bilan["review"]["indicators"], bilan["metrics"]
    assert set(indicators) == set(INDICATORS)
    traced = 0
    for key, spec in INDICATORS.items():
        match = re.fullmatch(r"(\w+)\.(\w+)", spec["source"])
        if match:
            stage, name = match.groups()
            assert indicators[key] == metrics[stage][name], key
            traced += 1
    assert traced >= 10


@pytest.mark.slow
def test_computed_figures_recomputed_from_the_published_tables(bilan):
    i, b, m, out = bilan["review"]["indicators"], bilan["review"]["breakdowns"], bilan["metrics"], bilan["out"]
    profile = m["assignment"]["rank_profile"]
    assert i["first_choice"] == profile[0] and list(b["rank_profile"].values()) == profile
    assert i["places_per_learner"] == round(m["commission"]["places_max"] / m["applications"]["learners"], 2)
    results = pd.read_parquet(out / "evaluation" / "resultats_competences.parquet")
    assert i["competences_acquired"] == int((results["level"] == "acquis").sum())
    assert i["competences_targeted"] == len(results) == sum(b["targeted_by_competence"].values())
    roster = pd.read_parquet(out / "applications" / "promotion.parquet")
    assert b["learners_by_track"] == roster["track"].value_counts().to_dict()
    retained = pd.read_parquet(out / "commission" / "projets_retenus.parquet")
    assert i["departements"] == retained["departement"].nunique()
    assert i["conventions_on_time"] <= m["conventions"]["fully_signed"] and i["conventions_on_time"] < i["conventions"]


@pytest.mark.slow
def test_both_editions_side_by_side_in_the_report_and_workbook(bilan):
    html, earlier = bilan["html"], demo_history.record()
    assert bilan["review"]["earlier_editions"] == ["demo-2024"]
    assert "<th>demo-2024</th><th>demo</th><th>Évolution</th>" in html
    row = re.search(r"<td>Projets déposés</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>", html)
    assert row and int(row.group(1)) == earlier["indicators"]["projects_received"]
    assert int(row.group(2)) == bilan["metrics"]["projects"]["projects_accepted"]
    assert earlier["title"] in html and html.count("<svg") >= 3
    sheet = load_workbook(bilan["out"] / "review" / "bilan.xlsx")["Indicateurs"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Indicateur", "demo-2024", "demo"]


@pytest.mark.slow
def test_review_and_history_record_hold_no_learner_data(bilan):
    root, out = bilan["root"], bilan["out"]
    roster = pd.read_parquet(out / "applications" / "promotion.parquet")
    record = json.dumps(history.record(Edition.load("demo", root)), ensure_ascii=False)
    pages = [bilan["html"], record]
    for sheet in load_workbook(out / "review" / "bilan.xlsx"):
        pages.append(" ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None))
    for page in pages:
        for person in roster.head(60).itertuples():
            assert person.learner_id not in page and person.email not in page
            assert f"{person.first_name} {person.last_name}" not in page


def test_the_demos_review_compares_only_with_the_demo_campaign(demo_run):
    """history/ also holds the frozen demo-askoria and demo-cnam records: other campaigns, not compared."""
    names = {json.loads(p.read_text(encoding="utf-8"))["edition"] for p in (demo_run / "history").glob("*.json")}
    assert {"demo-askoria", "demo-cnam", "demo-2024"} <= names
    metrics = json.loads((demo_run / "outputs" / "demo" / "review" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["earlier_editions"] == ["demo-2024"]


def test_every_breakdown_has_its_own_sheet_name_within_excels_31_characters():
    from pipeline.stages.review_report import SHEET_NAME, sheet_name

    spec = Params.load(ROOT).data["review"]
    names = [sheet_name(s) for s in spec["breakdowns"].values()]
    names += [sheet_name(s, "Pôle — ") for s in spec["pole"]["breakdowns"].values()]
    assert all(len(n) <= SHEET_NAME for n in names) and len(set(names)) == len(names)
    assert not any(n.endswith("…") for n in names)  # each too long a label has its own short name
    cut = sheet_name({"label": "Places offertes par apprenant, par département du projet"})
    assert cut == "Places offertes par apprenant…" and len(cut) <= SHEET_NAME
