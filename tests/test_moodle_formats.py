"""Moodle preference exports: each shape, byte for byte as Moodle writes it, parsed to the same choices;
a file of no known shape stops with a French message naming it."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.contract.errors import InputFileError
from pipeline.io.moodle import detect_format, moodle_value, parse_moodle_date, read_moodle_export
from pipeline.demo import moodle_formats as mf

RADIO = "P7KQ2 – Atelier radio avec l'enfant & ses parents"
DASHED = "Jeux - coopératifs - en plein air"
EVIL = "Slam - Text"  # a title ending like ratingallocate's own suffix
FORMULA = "=Projet « tous en scène »"
CHOICES = [RADIO, DASHED, EVIL, FORMULA]


def people():
    return [
        {"first_name": "Léa", "last_name": "N’Diaye", "email": "lea.ndiaye@apprenants.example", "idnumber": "A1",
         "username": "lndiaye", "submitted_at": datetime(2025, 10, 21, 14, 5),
         "ranking": [RADIO, None, FORMULA, DASHED], "comment": "- motivée & prête\nà tout", "groups": "Groupe A"},
        {"first_name": "Jean-Marc", "last_name": "Petit", "email": "jm.petit@apprenants.example", "idnumber": "",
         "username": "jmpetit", "submitted_at": datetime(2025, 11, 2, 9, 5),
         "ranking": [EVIL, RADIO], "comment": "-"},
        {"first_name": "Zoé", "last_name": "Martin", "email": "zoe.martin@apprenants.example", "idnumber": "A3",
         "username": "zmartin", "submitted_at": datetime(2025, 10, 30, 23, 59), "ranking": [], "comment": "=)"},
    ]


def parse(tmp_path, data: bytes, name="export.csv", **kwargs):
    path = tmp_path / name
    path.write_bytes(data)
    return read_moodle_export(path, **kwargs)


def ranked(export) -> dict[int, list[tuple[int, str]]]:
    """``{source row: [(rank, choice label)]}``."""
    out: dict[int, list[tuple[int, str]]] = {}
    for row in export.choices.itertuples():
        out.setdefault(row.source_row, []).append((row.rank, row.choice))
    return out


# --- bytes as Moodle writes them ----------------------------------------------------------------------
def test_php_fputcsv_quoting():
    assert mf.php_csv_field("abc") == "abc"
    assert mf.php_csv_field("") == ""
    assert mf.php_csv_field("a b") == '"a b"'          # PHP quotes a value holding a space
    assert mf.php_csv_field('x"y') == '"x""y"'
    assert mf.php_csv_field("a,b") == '"a,b"'
    assert mf.php_csv_field("tab\there") == '"tab\there"'


def test_feedback_bytes_look_like_moodle():
    data = mf.feedback_export(people(), 4)
    text = data.decode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf\"Nom complet de l\xe2\x80\x99utilisateur\",Groupes,")
    assert "\r" not in text and text.endswith("\n")
    header, first, second, third = text.lstrip("\ufeff").splitlines()
    assert header.endswith(',Date,"(choix1) Choix n°1","(choix2) Choix n°2","(choix3) Choix n°3",'
                           '"(choix4) Choix n°4","Commentaire (facultatif)"')
    assert '"P7KQ2 – Atelier radio avec l&#039;enfant &amp; ses parents"' in first
    assert '"mardi 21 octobre 2025, 14:05"' in first
    assert "\"'=Projet « tous en scène »\"" in first     # Moodle's guard before '='
    assert "\"'- motivée &amp; prête   à tout\"" in first  # guard before '-', new line as three spaces
    assert second.endswith(",-")                         # a lone '-' gets no guard
    assert third.endswith(",'=)")


def test_ratingallocate_and_questionnaire_bytes():
    ra = mf.ratingallocate_export(people(), CHOICES, 4).decode("utf-8")
    assert ra.startswith("\ufeffID,\"Nom d’utilisateur\",\"Numéro d’identification\",")
    assert '"Slam - Text","Slam - Text - Text","Slam - Text - Allocation"' in ra
    assert ",,Unrated," in ra
    q = mf.questionnaire_export(people(), CHOICES, checkbox={"disponibilites": ["Lundi", "Mardi"]}).decode("utf-8")
    assert q.startswith('\ufeffRéponse,"Soumis le :",')
    assert '"21/10/2025 14:05:00"' in q and ",'-1," in q  # -1 (N/A) gets Moodle's guard too
    assert "Q02_disponibilites->Lundi" in q


# --- parsing -------------------------------------------------------------------------------------------
def test_feedback_parsed(tmp_path):
    export = parse(tmp_path, mf.feedback_export(people(), 4))
    assert export.format == "feedback" and export.raw.encoding == "UTF-8 avec BOM" and export.raw.delimiter == ","
    got = ranked(export)
    assert got == {2: [(1, RADIO), (3, FORMULA), (4, DASHED)], 3: [(1, EVIL), (2, RADIO)]}
    first = export.responses.iloc[0]
    assert first.submitted_at == datetime(2025, 10, 21, 14, 5)
    assert (first.learner_id, first.email, first.full_name) == ("A1", "lea.ndiaye@apprenants.example", "Léa N’Diaye")
    assert export.responses.iloc[1].learner_id is None
    assert export.rank_column(2) == "(choix2) Choix n°2"
    row = export.choices.iloc[0]
    assert row.value == "P7KQ2 – Atelier radio avec l&#039;enfant &amp; ses parents"  # as in the file, for reports
    assert export.problems.empty


def test_feedback_without_question_labels(tmp_path):
    export = parse(tmp_path, mf.feedback_export(people(), 4, labelled=False, comment=None))
    assert export.format == "feedback" and ranked(export)[3] == [(1, EVIL), (2, RADIO)]


def test_ratingallocate_parsed_titles_with_dashes(tmp_path):
    export = parse(tmp_path, mf.ratingallocate_export(people(), CHOICES, 4))
    assert export.format == "ratingallocate"
    assert ranked(export) == {2: [(1, RADIO), (3, FORMULA), (4, DASHED)], 3: [(1, EVIL), (2, RADIO)]}
    assert export.responses["submitted_at"].isna().all()
    assert list(export.responses["first_name"]) == ["Léa", "Jean-Marc", "Zoé"]
    assert list(export.responses["username"]) == ["lndiaye", "jmpetit", "zmartin"]


def test_ratingallocate_rank_is_n_minus_rating_plus_one(tmp_path):
    data = mf.ratingallocate_export(people(), CHOICES, 5)  # 5 ranks asked: a 1st choice is rated 5
    inferred, stated = parse(tmp_path, data), parse(tmp_path, data, source={"ranks_asked": 5})
    expected = {2: [(1, RADIO), (3, FORMULA), (4, DASHED)], 3: [(1, EVIL), (2, RADIO)]}
    assert ranked(inferred) == ranked(stated) == expected
    assert "rang = 5 − note + 1" in inferred.notes[0] and "note la plus haute" in inferred.notes[0]
    wrong = parse(tmp_path, data, source={"ranks_asked": 4})
    assert "supérieure au nombre de rangs demandés (4)" in wrong.problems.iloc[0]["reason"]


def test_ratingallocate_unreadable_rating_is_a_problem(tmp_path):
    data = mf.ratingallocate_export(people(), CHOICES, 4).replace(b",4,\"1. choix\"", b",beaucoup,\"1. choix\"", 1)
    export = parse(tmp_path, data)
    assert export.problems.iloc[0]["value"] == "beaucoup" and "illisible" in export.problems.iloc[0]["reason"]


def test_questionnaire_parsed(tmp_path):
    labels = CHOICES[:-1] + ["Radio\r\nlibre\tdu soir"]
    records = people()
    records[0]["ranking"] = [RADIO, None, "Radio\r\nlibre\tdu soir", DASHED]
    data = mf.questionnaire_export(records, labels, checkbox={"disponibilites": ["Lundi", "Mardi"]})
    export = parse(tmp_path, data)
    assert export.format == "questionnaire"
    assert ranked(export) == {2: [(1, RADIO), (3, "Radio libre du soir"), (4, DASHED)], 3: [(1, EVIL), (2, RADIO)]}
    assert export.responses.iloc[1].submitted_at == datetime(2025, 11, 2, 9, 5)
    assert export.responses.iloc[0].full_name == "Léa N’Diaye"
    assert export.notes == ["Question de classement lue : Q01_classement."]


def test_questionnaire_question_named_in_the_mapping(tmp_path):
    data = mf.questionnaire_export(people(), CHOICES, checkbox={"disponibilites": ["Lundi", "Mardi"]})
    with pytest.raises(InputFileError, match="« voeux ».*export.csv"):
        parse(tmp_path, data, source={"question": "voeux"})
    assert parse(tmp_path, data, source={"question": "classement"}).format == "questionnaire"


def test_identity_labels_from_the_mapping(tmp_path):
    data = mf.feedback_export(people(), 4).replace("Numéro d’identification".encode(), b"Matricule", 1)
    assert parse(tmp_path, data).responses["learner_id"].isna().all()
    export = parse(tmp_path, data, fields={"learner_id": ["Matricule"]})
    assert list(export.responses["learner_id"]) == ["A1", None, "A3"]


def test_same_answers_in_every_shape(tmp_path):
    shapes = {"feedback": mf.feedback_export(people(), 4),
              "ratingallocate": mf.ratingallocate_export(people(), CHOICES, 4),
              "questionnaire": mf.questionnaire_export(people(), CHOICES)}
    got = {name: list(ranked(parse(tmp_path, data, name=f"{name}.csv")).values()) for name, data in shapes.items()}
    assert got["feedback"] == got["ratingallocate"] == got["questionnaire"]


def test_xlsx_download_is_read_too(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(mf.feedback_header(2, comment=None))
    sheet.append(["Léa N’Diaye", "", "A1", "lea@apprenants.example", "mardi 21 octobre 2025, 14:05", RADIO, DASHED])
    workbook.save(tmp_path / "export.xlsx")
    export = read_moodle_export(tmp_path / "export.xlsx")
    assert export.format == "feedback" and ranked(export) == {2: [(1, RADIO), (2, DASHED)]}


@pytest.mark.parametrize("data", [
    "\ufeffNom,Prénom,Projet\nPetit,Jean,Radio\n".encode("utf-8"),
    "\ufeffNom;Prénom;Choix préféré\r\nPetit;Jean;Radio\r\n".encode("utf-8"),
])
def test_unknown_shape_names_the_file_in_french(tmp_path, data):
    with pytest.raises(InputFileError) as info:
        parse(tmp_path, data, name="voeux_2025.csv")
    message = str(info.value)
    assert "voeux_2025.csv" in message and "non reconnu" in message and "Choix n°1" in message


def test_forced_format_that_does_not_match(tmp_path):
    with pytest.raises(InputFileError, match="Questionnaire.*ratingallocate.csv"):
        parse(tmp_path, mf.ratingallocate_export(people(), CHOICES, 4), name="ratingallocate.csv",
              source={"format": "questionnaire"})


# --- values and dates ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell, value", [
    ("'=SOMME(A1)", "=SOMME(A1)"), ("'+33 5 55 00 00 00", "+33 5 55 00 00 00"), ("'-1", "-1"), ("'@moi", "@moi"),
    ("'\tx", "\tx"), ("-", "-"), ("'-", "'-"), ("'abc", "'abc"), ("l&#039;enfant &amp; ses parents", "l'enfant & ses parents"),
    ("", ""),
])
def test_moodle_value_strips_only_the_added_guard(cell, value):
    assert moodle_value(cell) == value


@pytest.mark.parametrize("text, expected", [
    ("mardi 21 octobre 2025, 14:05", datetime(2025, 10, 21, 14, 5)),
    ("mardi 7 mai 2024, 09:32", datetime(2024, 5, 7, 9, 32)),
    ("samedi 1 février 2025, 08:00", datetime(2025, 2, 1, 8, 0)),
    ("lundi 1er décembre 2025, 18:45", datetime(2025, 12, 1, 18, 45)),
    ("21/10/2025 14:05:09", datetime(2025, 10, 21, 14, 5, 9)),
])
def test_french_long_dates(text, expected):
    assert parse_moodle_date(text) == (expected, None)


def test_unreadable_date_has_a_french_reason():
    value, reason = parse_moodle_date("mardi 32 brumaire 2025, 14:05")
    assert value is None and "n'est pas une date reconnue" in reason


def test_detection_rules():
    assert detect_format(["Prénom", "Nom de famille", "A - B", "A - B - Text", "A - B - Allocation"]) == "ratingallocate"
    assert detect_format(["Réponse", "Q03_voeux->Radio"]) == "questionnaire"
    assert detect_format(["Date", "(c1) Choix n°1"]) == "feedback"
    assert detect_format(["Date", "Choix n°1"]) == "feedback"
    assert detect_format(["Date", "A - Text"]) is None
