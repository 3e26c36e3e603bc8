"""Stage ``projects`` without Jupyter: every web-form shape, de-duplication, rejections, messages."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from pipeline.contract.config import Edition
from pipeline.contract.errors import ConfigError
from pipeline.demo import formats, partners
from pipeline.stages import projects
from tests.conftest import ROOT, make_edition

SHAPES = {
    "limesurvey": (formats.limesurvey_export, formats.LIMESURVEY_MAPPING, "depot.csv"),
    "excel_fr": (formats.excel_fr_export, formats.EXCEL_FR_MAPPING, "depot.csv"),
    "webform": (formats.webform_export, formats.WEBFORM_MAPPING, "depot.tsv"),
    "google_forms": (formats.google_forms_export, formats.GOOGLE_FORMS_MAPPING, "depot.csv"),
    "xlsx": (formats.xlsx_export, formats.XLSX_MAPPING, "depot.xlsx"),
}


def sample(n=6):
    rows = partners.records(seed=7, count=n)
    rows[0]["title"] = "Théâtre « forum », l'enfant & ses parents"
    rows[0]["description"] = 'Ligne 1 avec "guillemets"\nLigne 2 ; point-virgule, virgule'
    rows[1]["referent_phone"] = "+33 5 36 49 12 34"
    rows[2]["structure_name"] = "=HYPERLINK(\"http://x.example\")"
    rows[3]["hours"] = "52,5"
    return rows


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_web_form_shape_gives_the_same_projects(tmp_path, shape):
    writer, mapping, name = SHAPES[shape]
    rows = sample()
    result = projects.ingest(make_edition(tmp_path, writer(rows), mapping, name))
    assert result.metrics["rows_read"] == 6 and result.metrics["projects_accepted"] == 6, result.rejected
    got = result.projects.set_index("source_row").sort_index()
    assert list(got["title"]) == [r["title"] for r in rows]
    assert got.iloc[0]["description"] == 'Ligne 1 avec "guillemets"\nLigne 2 ; point-virgule, virgule'
    assert got.iloc[1]["referent_phone"] == "+33 5 36 49 12 34"
    assert got.iloc[2]["structure_name"] == "=HYPERLINK(\"http://x.example\")"
    assert got.iloc[3]["hours"] == 52.5
    assert [list(c) for c in got["competences"]] == [r["competences"] for r in rows]
    assert [sorted(t) for t in got["tracks"]] == [sorted(x.strip() for x in r["tracks"].split(",")) for r in rows]
    assert list(got["submitted_at"].dt.strftime("%d/%m/%Y %H:%M")) == [r["submitted_at"].strftime("%d/%m/%Y %H:%M") for r in rows]
    assert set(got["structure_type"]) <= {"essms", "eaje", "collectivite", "entreprise_sociale", "organisation_solidaire"}


def test_limesurvey_bytes_look_like_limesurvey():
    data = formats.limesurvey_export(sample())
    assert data.startswith(b"\xef\xbb\xbf\"ID de la r\xc3\xa9ponse\";") and data.endswith(b"\r\n\r\n")


def test_demo_metrics_identity_and_cases():
    result = projects.ingest(Edition.load("demo", ROOT))
    m = result.metrics
    assert m["rows_read"] == m["projects_accepted"] + m["rows_rejected"] + m["duplicates_superseded"]
    assert (m["rows_read"], m["duplicates_superseded"], m["rows_rejected"]) == (40, 3, 1)
    assert result.rejected.iloc[0]["value"] == "une centaine"
    assert result.rejected.iloc[0]["column"] == "Volume horaire prévu (heures)"
    assert any("n'a pas remplacé" in note for note in result.notes)
    titles = set(result.projects["title"])
    assert "=Projet « tous en scène » (théâtre forum)" in titles
    assert any("<img src=x onerror=alert(1)>" in t for t in titles)
    assert "+33 5 36 49 12 34" in set(result.projects["referent_phone"])
    assert "@sso Les Liens Solidaires" in set(result.projects["structure_name"])


def rows_with(tmp_path, edits: list[dict], mapping=formats.LIMESURVEY_MAPPING):
    base = partners.records(seed=3, count=len(edits))
    for row, edit in zip(base, edits):
        row.update(edit)
    return projects.ingest(make_edition(tmp_path, formats.limesurvey_export(base), mapping, "depot.csv"))


def test_latest_valid_submission_wins_and_rejected_never_replaces(tmp_path):
    same = {"structure_name": "IME Les Genêts", "structure_siret": "", "postcode": "87000", "title": "Fresque"}
    result = rows_with(tmp_path, [
        dict(same, submitted_at=datetime(2025, 6, 1, 10, 0), hours="90"),
        dict(same, submitted_at=datetime(2025, 6, 2, 10, 0), hours="100", title="  FRESQUE "),
        dict(same, submitted_at=datetime(2025, 6, 3, 10, 0), hours="beaucoup"),
        {"submitted_at": datetime(2025, 6, 4, 10, 0)},
    ])
    m = result.metrics
    assert (m["rows_read"], m["projects_accepted"], m["rows_rejected"], m["duplicates_superseded"]) == (4, 2, 1, 1)
    line = result.raw.row_numbers  # submissions span several lines (multi-line descriptions)
    kept = result.projects[result.projects["structure_name"] == "IME Les Genêts"].iloc[0]
    assert kept["hours"] == 100.0 and kept["source_row"] == line[1]
    assert result.superseded.iloc[0]["source_row"] == line[0] and result.superseded.iloc[0]["replaced_by_row"] == line[1]
    assert f"ligne {line[1]}" in result.superseded.iloc[0]["reason"]
    assert result.notes == [f"La soumission rejetée de la ligne {line[2]} n'a pas remplacé la version valide de la "
                            f"ligne {line[1]} (projet {kept['project_code']})."]


def test_siret_identifies_the_structure_across_name_changes(tmp_path):
    result = rows_with(tmp_path, [
        {"structure_siret": "12345678901234", "structure_name": "MECS A", "title": "T", "submitted_at": datetime(2025, 6, 1)},
        {"structure_siret": "12345678901234", "structure_name": "Maison d'enfants A", "title": "T", "submitted_at": datetime(2025, 6, 2)},
    ])
    assert result.metrics["projects_accepted"] == 1 and result.metrics["duplicates_superseded"] == 1


def test_schema_failures_name_column_value_and_reason(tmp_path):
    result = rows_with(tmp_path, [
        {"postcode": "8700A"}, {"referent_email": "pas-une-adresse"}, {"structure_siret": "123"},
        {"title": ""}, {"consent": "Non"}, {"team_min": "0"}, {"hours": "-5"},
    ])
    rejected = result.rejected.set_index("source_row")
    rejected.index = [result.raw.row_numbers.index(r) + 2 for r in rejected.index]  # 2 = first submission
    assert result.metrics["rows_rejected"] == 7 and result.metrics["projects_accepted"] == 0
    assert rejected.loc[2, "column"] == "Code postal" and rejected.loc[2, "value"] == "8700A"
    assert "5 chiffres" in rejected.loc[2, "reason"]
    assert "courriel" in rejected.loc[3, "reason"]
    assert "14 chiffres" in rejected.loc[4, "reason"]
    assert rejected.loc[5, "reason"] == "valeur obligatoire manquante" and rejected.loc[5, "column"] == "Titre du projet"
    assert "consentement" in rejected.loc[6, "reason"]
    assert "au moins 1" in rejected.loc[7, "reason"]
    assert "nombre" in rejected.loc[8, "reason"] or "négatif" in rejected.loc[8, "reason"]


def test_missing_required_column_names_field_and_close_labels(tmp_path):
    mapping = yaml.safe_load(yaml.safe_dump(formats.LIMESURVEY_MAPPING))
    mapping["fields"]["title"] = "Intitulé du projet"
    with pytest.raises(ConfigError) as info:
        rows_with(tmp_path, [{}], mapping=mapping)
    message = str(info.value)
    assert "« title »" in message and "« Intitulé du projet »" in message and "« Titre du projet »" in message
    assert "mapping.yaml" in message


def test_project_codes_are_stable_and_distinct():
    keys = [f"k{i}" for i in range(500)]
    codes = projects.project_codes(keys)
    assert len(set(codes.values())) == 500
    assert projects.project_codes(["k1"])["k1"] == codes["k1"]
