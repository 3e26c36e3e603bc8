"""Learners in rendered pages: pseudonyms, never identifiers or e-mails; names only in the reports
``privacy.names_in_reports`` lists; the catalogue and the review carry aggregates only."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from pipeline.contract.config import Edition
from pipeline.repro.pseudonyms import pseudonyms
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
NAMED = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["privacy"]["names_in_reports"]


@pytest.fixture(scope="module")
def pages(demo_run):
    out = demo_run / "outputs" / "demo"
    roster = pd.read_parquet(out / "applications" / "promotion.parquet")
    html = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.glob("*/*.html")}
    return roster, html, pseudonyms(Edition.load("demo", demo_run), roster["learner_id"])


def test_no_page_shows_a_learner_identifier_or_email(pages):
    roster, html, _ = pages
    assert {"commission/catalogue.html", "review/report.html", "assignment/report.html"} <= set(html)
    for name, page in html.items():
        for person in roster.itertuples():
            assert person.learner_id not in page, (name, person.learner_id)
            assert person.email.lower() not in page.lower(), (name, person.email)


def test_names_only_where_the_commission_needs_them(pages):
    roster, html, codes = pages
    full_names = [f"{p.first_name} {p.last_name}" for p in roster.itertuples()]
    for name, page in html.items():
        stage = name.split("/")[0]
        shown = [n for n in full_names if n in page]
        if stage in NAMED and name.endswith("report.html"):
            continue
        assert not shown, (name, shown[:3])
    # the assignment report names every learner beside their pseudonym
    page = html["assignment/report.html"]
    assert all(codes[lid] in page for lid in roster["learner_id"])


def test_pseudonyms_are_stable_and_unique_per_edition(pages, demo_run):
    roster, _, codes = pages
    assert len(set(codes.values())) == len(codes) == len(roster)
    again = pseudonyms(Edition.load("demo", demo_run), list(reversed(roster["learner_id"])))
    assert again == codes
