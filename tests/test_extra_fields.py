"""Nothing mapped is lost: a field of ``mapping.yaml`` stagesco does not know is an error naming it, unless the
edition declares it as an extra field (``projects.extra_fields`` of ``edition.yaml``); an extra field is
validated like any field, kept in the clean tables and shown where the edition says — the dossier (stage 20),
the catalogue (stage 30) and the workbooks. Stage functions on the demo's export with one more column, in a
temporary project: no Jupyter, no pipeline run."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from pipeline.contract.config import Edition
from pipeline.contract.errors import ConfigError
from pipeline.io.extras import ExtraFieldError, declared
from pipeline.io.mapping import UnknownFieldError, checked_mapping, load_mapping
from pipeline.stages import commission_report, eligibility, eligibility_report, projects, projects_report
from pipeline.stages.commission import CommissionResult
from tests.conftest import ROOT, make_edition

COLUMN = "Le site est-il accessible aux personnes à mobilité réduite ?"
EXTRA = {"accessibility": {"label": "Accessibilité PMR", "type": "boolean",
                           "description": "Le site d'accueil est accessible aux personnes à mobilité réduite.",
                           "show": ["catalogue", "dossier", "workbooks"]},
         "capacity": {"label": "Places assises", "type": "integer", "min": 1,
                      "message": "le nombre de places assises doit être un entier d'au moins 1", "show": []}}


# ------------------------------------------------------------------------------------- the mapping

def test_an_unknown_mapped_field_is_an_error_naming_it_the_section_and_the_file():
    with pytest.raises(UnknownFieldError) as info:
        load_mapping({"projects": {"fields": {"title": "Titre", "accessibility": COLUMN}}}, "inputs/x/mapping.yaml")
    error = info.value
    assert isinstance(error, ConfigError) and error.file == "inputs/x/mapping.yaml"
    assert "« projects.fields.accessibility »" in error.message and "section projects" in error.message
    assert "Corrigez son nom" in error.hint and "projects.extra_fields.accessibility" in error.hint
    assert "inputs/x/mapping.yaml" in str(error)
    with pytest.raises(UnknownFieldError, match="vouliez-vous dire : title"):
        load_mapping({"projects": {"fields": {"titel": "Titre"}}})
    with pytest.raises(UnknownFieldError) as info:  # the roster has no extra fields: no such advice
        load_mapping({"roster": {"fields": {"accessibility": "PMR"}}})
    assert "extra_fields" not in info.value.hint


def test_a_declared_extra_field_may_be_mapped():
    mapping = load_mapping({"projects": {"fields": {"accessibility": COLUMN}}}, "m", {"projects": {"accessibility"}})
    assert mapping["projects"]["fields"]["accessibility"] == COLUMN


@pytest.mark.parametrize("spec, said", [
    ({"title": {"label": "Titre", "type": "string"}}, "champ que stagesco connaît déjà"),
    ({"acces": {"type": "boolean"}}, "libellé français"),
    ({"acces": {"label": "Accès", "type": "oui/non"}}, "type « oui/non » inconnu"),
    ({"acces": {"label": "Accès", "type": "boolean", "show": ["rapport"]}}, "projects.extra_fields.acces.show"),
    ({"acces": {"label": "Accès", "type": "boolean", "colour": "red"}}, "Clé inconnue « projects.extra_fields.acces.colour »"),
    ({"Accès PMR": {"label": "Accès", "type": "boolean"}}, "Nom de champ supplémentaire invalide"),
    ({"acces": {"label": "Accès", "type": "integer", "min": "un"}}, "doit être un nombre"),
])
def test_a_wrong_declaration_is_a_french_error_naming_the_key(spec, said):
    with pytest.raises(ExtraFieldError) as info:
        declared({"projects": {"extra_fields": spec}}, "projects", "inputs/x/edition.yaml")
    assert said in info.value.message and info.value.file == "inputs/x/edition.yaml"


# ---------------------------------------------------------------------------- through the stages

def demo_export_with_extra_column() -> tuple[bytes, list[str]]:
    """The demo's partner export with two more columns (accessibility, seats), as the form would write them;
    and the values written for accessibility, row by row (a bad one on the third row, then one in eight: fewer
    than a mass of rejections, which would stop the stage)."""
    text = (ROOT / "inputs" / "demo" / "depot_projets.csv").read_bytes().decode("cp1252")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    answers = ["Oui", "Non", "peut-être", "", "Oui", "Non", "Oui", ""] * len(rows)
    rows[0] += [COLUMN, "Places assises"]
    for i, row in enumerate(rows[1:]):
        row += [answers[i], "12"]
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("cp1252"), answers[:len(rows) - 1]


@pytest.fixture(scope="module")
def stage10(tmp_path_factory):
    """Stage 10 on that export, the demo's mapping and edition.yaml plus the extra fields declared."""
    data, answers = demo_export_with_extra_column()
    mapping = yaml.safe_load((ROOT / "inputs" / "demo" / "mapping.yaml").read_text(encoding="utf-8"))["projects"]
    mapping["fields"].update({"accessibility": COLUMN, "capacity": "Places assises"})
    config = yaml.safe_load((ROOT / "inputs" / "demo" / "edition.yaml").read_text(encoding="utf-8"))
    config["projects"]["extra_fields"] = EXTRA
    tmp = tmp_path_factory.mktemp("extras")
    edition = make_edition(tmp, data, mapping, "depot.csv", yaml.safe_dump(config, allow_unicode=True))
    params = yaml.safe_load((edition.root / "params.yaml").read_text(encoding="utf-8"))
    params["editions"]["t"]["files"]["decisions"] = "decisions_commission.xlsx"  # stage 30's page footer names it
    (edition.root / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    edition = Edition.load("t", edition.root)
    return edition, projects.ingest(edition), answers


def test_the_mapping_of_an_edition_with_an_extra_field_loads(stage10):
    edition, _, _ = stage10
    assert "accessibility" in checked_mapping(edition)["projects"]["fields"]


def test_an_extra_field_is_validated_and_kept_in_the_clean_table(stage10, tmp_path):
    edition, result, answers = stage10
    bad = result.rejected[result.rejected["column"] == COLUMN]
    rows_with_bad = [result.raw.row_numbers[i] for i, a in enumerate(answers) if a == "peut-être"]
    assert sorted(bad["source_row"]) == rows_with_bad and set(bad["value"]) == {"peut-être"}
    assert (bad["reason"].str.len() > 0).all()
    table = result.projects
    assert list(table.columns[-2:]) == ["accessibility", "capacity"] and str(table["accessibility"].dtype) == "boolean"
    assert table["accessibility"].isna().any() and table["accessibility"].eq(True).any()
    assert table["capacity"].eq(12).all()
    assert result.metrics["rows_read"] == (result.metrics["projects_accepted"] + result.metrics["rows_rejected"]
                                           + result.metrics["duplicates_superseded"])
    projects_report.write_outputs(result, edition, tmp_path)
    saved = pd.read_parquet(tmp_path / "projets.parquet")
    assert saved["accessibility"].tolist() == table["accessibility"].tolist() and "capacity" in saved
    header = [c.value for c in load_workbook(tmp_path / "projets.xlsx")["Projets reçus"][1]]
    assert "Accessibilité PMR" in header and "Places assises" not in header  # capacity: show is empty
    assert any("Places assises" in note and "affiché nulle part" in note for note in result.notes)


def test_a_bad_value_of_an_extra_field_gets_its_own_message(tmp_path):
    data = ("Date de soumission;Nom de la structure;Titre du projet;RGPD;Places assises\n"
            "01/07/2025 10:00;Maison des Fougères;Jardin;Oui;0\n").encode("utf-8")
    mapping = {"fields": {"submitted_at": "Date de soumission", "structure_name": "Nom de la structure",
                          "title": "Titre du projet", "consent": "RGPD", "capacity": "Places assises"}}
    edition = make_edition(tmp_path, data, mapping, "depot.csv",
                           yaml.safe_dump({"title": "T", "projects": {"extra_fields": {"capacity": EXTRA["capacity"]}}}))
    result = projects.ingest(edition)
    assert result.rejected[["source_row", "column", "value", "reason"]].values.tolist() == [
        [2, "Places assises", "0", "le nombre de places assises doit être un entier d'au moins 1"]]
    del mapping["fields"]["capacity"]  # declared, not mapped: said, and the column stays empty
    result = projects.ingest(make_edition(tmp_path / "unmapped", data, mapping, "depot.csv",
                                          yaml.safe_dump({"title": "T", "projects": {"extra_fields": EXTRA}})))
    assert len(result.projects) == 1 and result.projects["capacity"].isna().all()
    assert sum("absent de la correspondance" in n for n in result.notes) == 2


def test_an_optional_mapped_column_absent_from_the_file_is_said(tmp_path):
    data = "Date de soumission;Nom de la structure;Titre du projet;RGPD\n01/07/2025 10:00;Maison;Jardin;Oui\n".encode()
    mapping = {"fields": {"submitted_at": "Date de soumission", "structure_name": "Nom de la structure",
                          "title": "Titre du projet", "consent": "RGPD", "period": "Période envisagée"}}
    result = projects.ingest(make_edition(tmp_path, data, mapping, "depot.csv"))
    assert len(result.projects) == 1
    assert [n for n in result.notes if "« Période proposée » (period)" in n and "« Période envisagée »" in n
            and "il reste vide" in n]


def test_an_extra_field_reaches_the_dossier_and_the_catalogue(stage10, tmp_path):
    edition, result, _ = stage10
    checked = eligibility.evaluate(edition, result.projects)
    assert "accessibility" in checked.projects.columns
    dossier = eligibility_report.cards(checked, edition)
    assert dossier.count("<dt>Accessibilité PMR</dt>") == len(result.projects)
    assert "<dt>Accessibilité PMR</dt><dd>oui</dd>" in dossier and "<dt>Accessibilité PMR</dt><dd>non renseigné</dd>" in dossier
    assert "Places assises" not in dossier
    decisions = checked.projects.head(3).assign(
        decision_code="retained", decision="retenu", decided_team_min=2, decided_team_max=6,
        tracks_open=[["ES"]] * 3, trainer="Hélène Marchadier", motivation="")
    decisions["decided_team_min"] = decisions["decided_team_min"].astype("Int64")
    decisions["decided_team_max"] = decisions["decided_team_max"].astype("Int64")
    page = commission_report.catalogue_html(CommissionResult(decisions=decisions), edition)
    values = {"oui" if v is True else "non" if v is False else "non renseigné" for v in decisions["accessibility"]}
    assert page.count("<dt>Accessibilité PMR</dt>") == 3
    assert all(f"<dt>Accessibilité PMR</dt><dd>{v}</dd>" in page for v in values)
    assert "Places assises" not in page
    out = tmp_path / "commission"
    commission_report.write_outputs(CommissionResult(decisions=decisions), edition, out)
    header = [c.value for c in load_workbook(out / "projets_retenus.xlsx")["Projets retenus"][1]]
    assert header[-1] == "Accessibilité PMR"


def test_without_extra_fields_the_catalogue_card_is_as_before():
    edition = Edition.load("demo", ROOT)
    template = (ROOT / "pipeline" / "stages" / "templates" / "catalogue.html.j2").read_text(encoding="utf-8")
    assert "{% endif %}{% for e in p.extras %}" in template  # the extras follow the offer's terms and sites
    from pipeline.io.extras import extra_fields

    assert extra_fields(edition) == {}
