"""What a person reads is French prose and figures, never a data structure.

Unit tests of the one formatter (``pipeline/io/fr.py``) and of the home page's key figures; one slow test
scans the visible text of every HTML page of the demo run (technical provenance footers aside) for Python
values (``nan``, ``None``, ``True``, ``False``, ``{'``, ``['``) and ISO dates.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.cockpit.figures import metric_entries
from pipeline.io import fr, html
from tests.conftest import ROOT

NBSP = "\u00a0"
RAW = re.compile(r"\bnan\b|\bNone\b|\bTrue\b|\bFalse\b|\{'|\['|\d{4}-\d{2}-\d{2}")
UNDECIDED = re.compile(r"\w\(s\)")  # « fermé(s) »: a count's word agrees with the count instead


# --- the formatter ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, shown", [
    (24118, f"24{NBSP}118"), (1234567, f"1{NBSP}234{NBSP}567"), (np.int64(7), "7"), (-1200, f"-1{NBSP}200"),
    (0.97, "0,97"), (52.5, "52,5"), (105.0, "105"), (np.float64(2.345), "2,35"), (1234.5, f"1{NBSP}234,5"),
    (True, "oui"), (np.bool_(False), "non"),
    (date(2024, 12, 2), "02/12/2024"), (pd.Timestamp("2024-12-02"), "02/12/2024"), ("2024-12-02", "02/12/2024"),
    (datetime(2025, 7, 15, 14, 32), "15/07/2025 14:32"), ("2025-07-15T14:32:00", "15/07/2025 14:32"),
    (["BC1", "BC4"], "BC1, BC4"), (np.array(["ES", "EJE"]), "ES, EJE"), ({"ES": 165, "EJE": 85}, "ES : 165 ; EJE : 85"),
    ("texte libre", "texte libre"),
])
def test_values_read_in_french(value, shown):
    assert fr.text(value) == shown


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, "", "  "])
def test_a_missing_value_reads_non_renseigne_or_what_the_caller_asks(missing):
    assert fr.text(missing) == "non renseigné"
    assert fr.text(missing, missing="") == ""
    assert html.display(missing) == ""  # an empty table cell stays empty
    assert html.esc(missing, fr.MISSING) == "non renseigné"


def test_shares_ratios_hours_and_changes():
    assert fr.percent(0.4882) == f"49{NBSP}%" and fr.percent(0.46) == f"46{NBSP}%"
    assert fr.measure(0.4882, "share") == f"49{NBSP}%"
    assert fr.measure(0.97, "ratio") == "0,97"
    assert fr.measure(24118, "hours") == f"24{NBSP}118{NBSP}h"
    assert fr.measure(24118, "count") == f"24{NBSP}118"
    assert fr.measure("< 5", "learners") == "< 5"  # already suppressed: kept as is
    assert fr.signed(3) == "+3" and fr.signed(-0.126) == "-0,13" and fr.signed(0) == "0"
    assert fr.ordinal(1) == "1er" and fr.ordinal(2) == "2e"
    assert fr.count(1, "courriel") == "1 courriel" and fr.count(0, "projet") == "0 projet"
    assert fr.count(2500, "heure") == f"2{NBSP}500 heures"
    assert fr.count(3, "attente non satisfaite", "attentes non satisfaites") == "3 attentes non satisfaites"


@pytest.mark.parametrize("value, word", [(0, "fermé"), (1, "fermé"), (2, "fermés"), (1.5, "place"), (1.99, "place"),
                                         (2.0, "places"), (-1, "fermé"), (np.int64(3), "fermés"), (None, "fermé")])
def test_a_word_agrees_with_its_quantity_as_in_french(value, word):
    """Singular below 2 (« 0 fermé », « 1,5 place »), plural from 2; the plural form may be given."""
    assert fr.agree(value, word.removesuffix("s")) == word
    assert fr.agree(5, "choix a été écarté", "choix ont été écartés") == "choix ont été écartés"
    assert fr.agree(1, "choix a été écarté", "choix ont été écartés") == "choix a été écarté"


def test_nothing_the_formatter_returns_is_a_python_value():
    values = [None, math.nan, True, False, {"a": None}, [None, 1.5], (), {}, pd.NaT, np.float64("nan"),
              "2024-12-02", [True, False], {"k": [1, 2]}]
    for value in values:
        assert not RAW.search(fr.text(value)), (value, fr.text(value))


# --- the home page's key figures --------------------------------------------------------------------------
def test_home_page_figures_are_labelled_french_values_with_the_rank_profile_as_a_chart():
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    metrics = {"rank_profile": [115, 68, 43, 18, 0, 6], "optimal": True, "gap": 0.0, "worst_rank": 6}
    entries = {e["label"]: e for e in metric_entries(params, ["rank_profile", "optimal", "gap", "worst_rank"], metrics)}
    assert entries["optimalité prouvée"]["text"] == "oui"
    assert entries["écart à l'optimum"]["text"] == "0"
    profile = entries["choix obtenu"]
    assert profile["chart"].startswith("<svg") and "1er choix" in profile["chart"] and "hors choix" in profile["chart"]
    review = {"indicators": {"training_hours": 24118, "first_choice_share": 0.46, "places_per_learner": 0.97,
                             "learners": 3},
              "breakdowns": {"rank_profile": {"1": 115, "2": 4, "hors choix": 6}},
              "earlier_editions": ["demo-2024"]}
    entries = {e["label"]: e for e in metric_entries(params, ["indicators", "breakdowns", "earlier_editions"], review)}
    indicators = {i["label"]: i["text"] for i in entries["indicateurs du bilan"]["items"]}
    labels = {k: v["label"] for k, v in params["review"]["indicators"].items()}
    assert indicators[labels["training_hours"]] == f"24{NBSP}118{NBSP}h"
    assert indicators[labels["first_choice_share"]] == f"46{NBSP}%"
    assert indicators[labels["places_per_learner"]] == "0,97"
    assert indicators[labels["learners"]] == "< 5"  # a small count of learners is suppressed, as in every page
    ranks = {i["label"]: i["text"] for i in entries["répartitions du bilan"]["items"]}
    assert ranks[params["review"]["breakdowns"]["rank_profile"]["label"]] == "1er choix : 115 ; 2e choix : < 5 ; hors choix : 6"
    assert entries["éditions comparées"]["text"] == "demo-2024"
    for entry in entries.values():
        assert not RAW.search(entry["text"] + " ".join(i["text"] for i in entry["items"]))


# --- every page of the demo run ---------------------------------------------------------------------------
class VisibleText(HTMLParser):
    """The text a reader sees: no style, script or title, and no technical provenance footer (the public
    pages' short footer is kept: it is all they show of their origin)."""

    def __init__(self):
        super().__init__()
        self.skipping: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self.skipping or tag in ("style", "script", "title"):
            self.skipping.append(tag)
        elif tag == "footer" and "provenance" in classes:
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(page: str, *, keep_footer: bool = False) -> str:
    if keep_footer:
        page = page.replace('<footer class="provenance"', "<footer")
    parser = VisibleText()
    parser.feed(page)
    return " ".join(parser.parts)


def test_visible_text_scan_sees_raw_values():
    """Proof the scan is not blind: a page with a leaked Python value and an ISO date is caught, its footer is not."""
    page = ("<html><head><style>.nan{}</style></head><body><p>Référent nan, optimal True, {'a': 1}</p>"
            '<p>le 2024-12-02</p><footer class="provenance"><pre>None</pre></footer></body></html>')
    found = RAW.findall(visible_text(page))
    assert found == ["nan", "True", "{'", "2024-12-02"]
    assert UNDECIDED.findall(visible_text("<p>1 projet(s) fermé(s)</p>")) == ["t(s)", "é(s)"]


def test_no_page_shows_a_python_value_or_an_iso_date(demo_run):
    pages = sorted((demo_run / "outputs" / "demo").rglob("*.html"))
    assert len(pages) >= 12  # nine reports, the catalogue, the home page, the outboxes' pages
    public = set(yaml.safe_load((demo_run / "params.yaml").read_text(encoding="utf-8"))["report"]["public_pages"])
    problems = {}
    for path in pages:
        name = path.relative_to(demo_run / "outputs" / "demo").as_posix()
        text = visible_text(path.read_text(encoding="utf-8"), keep_footer=name in public)
        found = [text[max(0, m.start() - 50):m.end() + 30] for m in RAW.finditer(text)]
        found += [text[max(0, m.start() - 50):m.end() + 30] for m in UNDECIDED.finditer(text)]
        if found:
            problems[name] = found[:5]
    assert not problems, problems


def test_every_report_links_home_and_public_pages_carry_no_settings(demo_run):
    out = demo_run / "outputs" / "demo"
    for report in sorted(out.glob("*/report.html")):
        assert 'href="../index.html"' in report.read_text(encoding="utf-8"), report
    params = yaml.safe_load((demo_run / "params.yaml").read_text(encoding="utf-8"))
    school = yaml.safe_load((demo_run / "inputs" / "demo" / "edition.yaml").read_text(encoding="utf-8"))["school"]
    for name in params["report"]["public_pages"]:
        page = (out / name).read_text(encoding="utf-8")
        footer = page[page.index('<footer class="provenance"'):]
        assert "Réglages utilisés" not in footer and "<pre>" not in footer and "inputs/" not in footer, name
        assert school["email"] not in page and "notifications" not in footer, name
        assert re.search(r"données arrêtées au \d{2}/\d{2}/\d{4}", footer) and re.search(r"<code>[0-9a-f]{16}</code>", footer)
    commission = (out / "commission" / "report.html").read_text(encoding="utf-8")
    assert "Réglages utilisés" in commission  # the commission's own pages keep the full provenance


def test_charts_are_named_for_screen_readers_and_their_axes_read_in_french():
    from pipeline.io import charts

    def ticks(svg: str) -> list[str]:
        return re.findall(r"<text[^>]*>([^<]*)</text>", svg)

    svg = charts.bar_chart(["Haute-Vienne", "Creuse"], [0.5, 1.25], title="Places « offertes » & demandées")
    assert svg.startswith('<svg role="img" aria-label="Places « offertes » &amp; demandées"')
    assert "<title>Places « offertes » &amp; demandées</title>" in svg
    assert "0,2" in ticks(svg) and not any(re.fullmatch(r"-?\d+\.\d+", t.strip()) for t in ticks(svg))
    counts = ticks(charts.bar_chart(["a", "b"], [3, 1200], title="Projets"))
    assert f"1{NBSP}200" in [t.strip() for t in counts] and not any("," in t for t in counts)  # whole steps
    nothing = ticks(charts.grouped_bar_chart(["a", "b"], {"2024": [0, 0], "2025": [0, 0]}, title="Acquis"))
    assert not any(t.startswith(("-", "−")) for t in nothing) and "1" in nothing  # from 0 up, never around 0
