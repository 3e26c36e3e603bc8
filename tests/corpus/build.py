"""Write the corpus files of nasty-but-small exports, byte for byte (run once; the files are committed).

    PYTHONPATH=. .venv/bin/python tests/corpus/build.py

Each file's expected outcome is in ``expected.yaml``; ``tests/test_hostile_inputs.py`` runs them all
through ``read_table``. Big or explosive files (1 000 000-row CSV, zip bombs, billion laughs) are not
here: the tests generate them into ``tmp_path``.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

from pipeline.io.stable_zip import stabilise

HERE = Path(__file__).resolve().parent
BOM = b"\xef\xbb\xbf"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def xlsx_bytes() -> bytes:
    """An XLSX as a partner's spreadsheet would hold it: text, numbers, a date cell, a formula-looking text."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Réponses"
    ws.append(["Horodateur", "Titre du projet", "Volume horaire", "Téléphone", "Consentement"])
    ws.append([datetime(2025, 7, 15, 14, 32), "Fresque « murale »", 52.5, "+33 5 55 00 00 00", True])
    ws.append([datetime(2025, 7, 16, 9, 0), "=1+1 (texte)", 105, "05 55 11 22 33", False])
    for cell in ("B3", "D2"):
        ws[cell].data_type = "s"  # typed as text: a value, not a formula
    ws.append([None, None, None, None, None])  # a trailing empty row
    buffer = io.BytesIO()
    wb.save(buffer)
    return stabilise(buffer.getvalue())  # fixed zip times and document dates: rebuilding gives the same bytes


def ods_bytes() -> bytes:
    """The first bytes of an OpenDocument spreadsheet (what LibreOffice saves by default)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype", (1980, 1, 1, 0, 0, 0)), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(zipfile.ZipInfo("content.xml", (1980, 1, 1, 0, 0, 0)), "<office:document-content/>")
    return out.getvalue()


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

FILES: dict[str, bytes] = {
    # Excel (French) re-save: Windows-1252, ';', CRLF, decimal comma, 15/07/2025 14:32, typographic apostrophe
    "excel_fr_cp1252.csv": crlf(
        "Date de soumission;Nom de la structure;Titre du projet;Volume horaire prévu (heures);Coût (€)\n"
        "15/07/2025 14:32;Maison d’enfants Les Œillets;Atelier « théâtre »;52,5;1 200,50\n"
        "16/07/2025 09:05;Crèche L'Îlot;Fresque;105;0\n").encode("cp1252"),
    # LimeSurvey: UTF-8 BOM, ';', every field quoted, CRLF, one extra CRLF at the end, "" inside, multi-line
    "limesurvey_bom_multiline.csv": BOM + crlf(
        '"ID de la réponse";"Titre du projet";"Description du projet"\n'
        '"1";"Théâtre ""forum""";"Ligne 1 ; avec point-virgule\nLigne 2 avec ""guillemets"""\n'
        '"2";"Radio";"Une ligne"\n\n').encode("utf-8"),
    # Google Forms: ',', Horodateur, check boxes joined with ', ' inside quotes, LF, no BOM
    "google_forms_comma.csv": (
        'Horodateur,Adresse e-mail,Filières visées,Titre du projet\n'
        '15/07/2025 14:32:05,a@ex.example,"ES, EJE","Atelier, conte et marionnettes"\n'
        '15/07/2025 15:00:00,b@ex.example,EJE,Radio\n').encode("utf-8"),
    # Drupal Webform / Framaforms: TAB, every value quoted, three header rows, X per option
    "drupal_webform.tsv": (
        '"Dépôt de projet - stages collectifs"\t""\t""\t""\n'
        '"Submission Details"\t""\t"Compétences visées"\t""\n'
        '"Serial"\t"Titre du projet"\t"BC1"\t"BC2"\n'
        '"1"\t"Fresque"\t"X"\t""\n'
        '"2"\t"Radio"\t""\t"X"\n').encode("utf-8"),
    # Moodle feedback: UTF-8 BOM, ',', LF, entities kept as exported (&#039; &amp;), new lines as three spaces,
    # values with a leading ' added by Moodle before = + - @
    "moodle_feedback_entities.csv": BOM + (
        'Nom complet de l’utilisateur,Groupes,Date,(Q1) Pourquoi ce projet ?\n'
        'Élodie Aubert,ES1,"mardi 7 mai 2024, 09:32",l&#039;enfant &amp; sa famille   deuxième ligne\n'
        'Hugo Berthon,EJE1,"mardi 7 mai 2024, 09:40",\'=1+1\n').encode("utf-8"),
    # Moodle legacy French export: ';' unquoted, a ';' inside a value written &#59
    "moodle_legacy_semicolon.csv": (
        "Nom;Prénom;Proposition\n"
        "Aubert;Élodie;Théâtre&#59 forum\n").encode("utf-8"),
    # Trailing empty lines (blank and separator-only), CRLF
    "trailing_empty_lines.csv": crlf("Titre;Heures\nFresque;52,5\nRadio;105\n\n;\n;;\n\n").encode("utf-8"),
    # Old Mac line ends (CR only)
    "mac_cr_only.csv": "Titre;Heures\rFresque;52,5\rRadio;105\r".encode("cp1252"),
    # A quote inside an unquoted field (inches), a ';' inside a quoted one, no final line end
    "lone_quote_no_final_eol.csv": 'Titre;Matériel\nRadio;écran 24" et micro\nFresque;"pinceaux; rouleaux"'.encode("utf-8"),
    # Hostile values kept as exact text by the reader (formulas, HTML); the writers make them inert
    "hostile_values.csv": BOM + crlf(
        'Titre;Téléphone;Structure\n'
        '"=HYPERLINK(""http://x.example"";""clic"")";+33 5 36 49 12 34;@sso Les Liens\n'
        '"-2+3";"\t=1+1";＝SUM(A1)\n'
        '"{=A1:A2}";"\r=1+1";<img src=x onerror=alert(1)>\n').encode("utf-8"),
    # A row with a missing field: kept, flagged (row error), never dropped
    "short_row.csv": "Titre;Heures;Public\nFresque;52\nRadio;105;Adultes\n".encode("utf-8"),
    # XLSX from a spreadsheet: dates, numbers, booleans, formula-looking text typed as text
    "partner_sheet.xlsx": xlsx_bytes(),
    # --- refused, each with a French message naming the file
    "empty.csv": b"",
    "bom_and_blank_lines.csv": BOM + b"\r\n\r\n;;\r\n",
    "headers_only_limesurvey.csv": BOM + crlf('"ID de la réponse";"Titre du projet";"Description"\n\n').encode("utf-8"),
    "png_renamed.csv": PNG,
    "utf16_excel_unicode.csv": b"\xff\xfe" + "Titre\tHeures\r\nFresque\t52,5\r\n".encode("utf-16-le"),
    "ods_renamed.csv": ods_bytes(),
    "xlsx_renamed.csv": xlsx_bytes(),
    "csv_renamed.xlsx": "Titre;Heures\nFresque;52\n".encode("utf-8"),
    "old_excel.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
    "single_column.csv": "Titre\nFresque\nRadio\n".encode("utf-8"),
    "neither_utf8_nor_cp1252.csv": b"Titre;Heures\nFresque \x81\x8d;52\n",
    "unclosed_quote.csv": 'Titre;Description\nFresque;"une description\nRadio;105\nConte;12\n'.encode("utf-8"),
    "nul_byte_late.csv": b"Titre;Heures\n" + b"Fresque;52\n" * 7000 + b"Radio\x00;105\n",
}


def main() -> None:
    for name, data in FILES.items():
        (HERE / name).write_bytes(data)
    print(f"{len(FILES)} fichiers écrits dans {HERE}")


if __name__ == "__main__":
    main()
