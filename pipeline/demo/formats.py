"""Writers of the partner-form export shapes of FORMATS.md, byte for byte, from canonical records.

Each ``*_export`` returns the file's bytes; each ``*_MAPPING`` is the matching ``projects`` section of a
mapping file. Tests build their fixtures with these; the demo edition uses the Excel-FR re-save of a
LimeSurvey export (what staff do when they open the export in Excel and save it).
"""

from __future__ import annotations

import csv
import io

COMPETENCE_LABELS = {
    "BC1": "BC1 - Organiser le cadre adapté à la rencontre",
    "BC2": "BC2 - Identifier et analyser les besoins, les attentes et les ressources de la personne ou du groupe",
    "BC3": "BC3 - Créer les conditions de la participation de la personne",
    "BC4": "BC4 - Concevoir un projet socio-éducatif",
    "BC5": "BC5 - Appréhender et mobiliser l'environnement numérique",
    "BC6": "BC6 - S'inscrire dans un travail d'équipe et dans une dynamique institutionnelle",
    "BC7": "BC7 - S'informer et se former pour faire évoluer ses pratiques",
    "BC8": "BC8 - Mobiliser les acteurs nécessaires à la mise en œuvre du projet socio-éducatif",
}

QUESTIONS = [
    ("structure_name", "Nom de la structure"),
    ("structure_type", "Type de structure"),
    ("structure_siret", "N° SIRET (si vous en avez un)"),
    ("address", "Adresse du site d'accueil"),
    ("postcode", "Code postal"),
    ("city", "Commune"),
    ("referent_name", "Nom et prénom du référent projet"),
    ("referent_function", "Fonction du référent"),
    ("referent_email", "Courriel du référent"),
    ("referent_phone", "Téléphone du référent"),
    ("referent_available", "Le référent sera-t-il disponible pendant toute la durée du projet ?"),
    ("title", "Titre du projet"),
    ("description", "Description du projet"),
    ("issue", "Problématique socio-éducative"),
    ("mediation", "Médiation artistique, culturelle… envisagée"),
    ("public", "Personnes accompagnées (public)"),
    ("challenges", "Défis sur lesquels les apprenants travailleront"),
    ("resources", "Moyens mis à disposition des apprenants"),
    ("competences", "Compétences visées"),
    ("tracks", "Filières visées"),
    ("team_min", "Nombre d'apprenants souhaité - minimum"),
    ("team_max", "Nombre d'apprenants souhaité - maximum"),
    ("hours", "Volume horaire prévu (heures)"),
    ("period", "Période envisagée"),
    ("consent", "J'accepte que les données de ce formulaire soient traitées par l'établissement de formation (RGPD)"),
]
LABEL = dict(QUESTIONS)


def _mapping_fields(date_label: str, competences: dict, tracks) -> dict:
    fields = {"submitted_at": date_label}
    for name, label in QUESTIONS:
        fields[name] = label
    fields["competences"] = competences
    fields["tracks"] = tracks
    fields["structure_type"] = {"column": LABEL["structure_type"], "values": {
        "Établissement ou service social ou médico-social (public ou privé)": "essms",
        "Établissement d'accueil de jeunes enfants": "eaje",
        "Collectivité territoriale": "collectivite",
        "Entreprise sociale": "entreprise_sociale",
        "Organisation solidaire": "organisation_solidaire",
    }}
    return fields


TRACK_VALUES = {"ES": "ES", "EJE": "EJE", "Éducateur spécialisé": "ES", "Éducateur de jeunes enfants": "EJE"}


# --- LimeSurvey: UTF-8 with BOM, ';', every field quoted, CRLF, one extra CRLF at the end ----------------
def limesurvey_table(records: list[dict], *, iso_dates: bool = True) -> tuple[list[str], list[list[str]]]:
    header = ["ID de la réponse", "Date de soumission", "Dernière page", "Langue de départ", "Tête de série"]
    for name, label in QUESTIONS:
        if name == "competences":
            header += [f"{label} [{COMPETENCE_LABELS[c]}]" for c in COMPETENCE_LABELS]
        else:
            header.append(label)
    rows = []
    for i, r in enumerate(records, start=1):
        when = r["submitted_at"].strftime("%Y-%m-%d %H:%M:%S" if iso_dates else "%d/%m/%Y %H:%M")
        row = [str(i), when, "4", "fr", str(1_000_000 + i * 7919 % 999_983)]
        for name, _ in QUESTIONS:
            if name == "competences":
                row += ["Y" if c in r["competences"] else "" for c in COMPETENCE_LABELS]
            else:
                row.append(str(r[name]))
        rows.append(row)
    return header, rows


def _csv_bytes(header, rows, *, delimiter, quoting, line_end, encoding, bom=False, trailer="") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, quotechar='"', quoting=quoting, lineterminator=line_end)
    for line in ([header] if header and not isinstance(header[0], list) else header):
        writer.writerow(line)
    writer.writerows(rows)
    text = buffer.getvalue() + trailer
    data = text.encode(encoding, errors="strict")
    return (b"\xef\xbb\xbf" + data) if bom else data


def limesurvey_export(records: list[dict]) -> bytes:
    header, rows = limesurvey_table(records)
    rows = [[v.replace("\n", "\r\n") for v in row] for row in rows]
    return _csv_bytes(header, rows, delimiter=";", quoting=csv.QUOTE_ALL, line_end="\r\n", encoding="utf-8",
                      bom=True, trailer="\r\n")


LIMESURVEY_MAPPING = {
    "source": {"header_rows": 1, "date_formats": ["%Y-%m-%d %H:%M:%S"]},
    "fields": _mapping_fields("Date de soumission",
                              {"options": {c: f"{LABEL['competences']} [{l}]" for c, l in COMPETENCE_LABELS.items()}},
                              {"column": LABEL["tracks"], "values": TRACK_VALUES}),
}


# --- Excel (French) re-save: ';', Windows-1252, CRLF, decimal comma, dates 15/07/2025 14:32 -------------
def excel_fr(header: list[str], rows: list[list[str]]) -> bytes:
    """A table as Excel (French) re-saves it: ``;``, Windows-1252, CRLF."""
    return _csv_bytes(header, rows, delimiter=";", quoting=csv.QUOTE_MINIMAL, line_end="\r\n", encoding="cp1252")


def excel_fr_export(records: list[dict]) -> bytes:
    header, rows = limesurvey_table(records, iso_dates=False)
    rows = [[v.replace("\n", "\r\n") for v in row] for row in rows]
    return _csv_bytes(header, rows, delimiter=";", quoting=csv.QUOTE_MINIMAL, line_end="\r\n", encoding="cp1252")


EXCEL_FR_MAPPING = {
    "source": {"header_rows": 1, "date_formats": ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"]},
    "fields": LIMESURVEY_MAPPING["fields"],
}


# --- Drupal Webform (Framaforms): TAB, every value quoted, three header rows, options marked X ----------
WEBFORM_META = ["Serial", "SID", "Submitted Time", "Completed Time", "Modified Time", "Draft", "IP Address", "UID",
                "Username"]


def webform_export(records: list[dict], form_title: str = "Dépôt de projet - stages collectifs") -> bytes:
    questions = []
    for name, label in QUESTIONS:
        if name in ("competences", "tracks"):
            options = COMPETENCE_LABELS if name == "competences" else {"ES": "ES", "EJE": "EJE"}
            questions += [(name, code, f"{label}: {text}") for code, text in options.items()]
        else:
            questions.append((name, None, label))
    row1 = [form_title] + [""] * (len(WEBFORM_META) + len(questions) - 1)
    row2 = ["Submission Details"] + [""] * (len(WEBFORM_META) - 1) + ["Projet"] * len(questions)
    row3 = WEBFORM_META + [q[2] for q in questions]
    rows = []
    for i, r in enumerate(records, start=1):
        when = r["submitted_at"].strftime("%d/%m/%Y - %H:%M")
        row = [str(i), str(100 + i), when, when, when, "0", "(inconnue)", "0", "Anonyme"]
        for name, code, _ in questions:
            if name == "competences":
                row.append("X" if code in r["competences"] else "")
            elif name == "tracks":
                row.append("X" if code in [t.strip() for t in r["tracks"].split(",")] else "")
            else:
                row.append(str(r[name]).replace("<script>", "[script]"))
        rows.append(row)
    return _csv_bytes([row1, row2, row3], rows, delimiter="\t", quoting=csv.QUOTE_ALL, line_end="\n",
                      encoding="utf-8")


WEBFORM_MAPPING = {
    "source": {"header_rows": 3, "date_formats": ["%d/%m/%Y - %H:%M"]},
    "fields": _mapping_fields("Submitted Time",
                              {"options": {c: f"{LABEL['competences']}: {l}" for c, l in COMPETENCE_LABELS.items()}},
                              {"options": {"ES": f"{LABEL['tracks']}: ES", "EJE": f"{LABEL['tracks']}: EJE"}}),
}


# --- Google Forms: ',' , 'Horodateur', checkbox answers joined with ', ' ---------------------------------
def google_forms_export(records: list[dict]) -> bytes:
    header = ["Horodateur", "Adresse e-mail"] + [label for _, label in QUESTIONS]
    rows = []
    for r in records:
        row = [r["submitted_at"].strftime("%d/%m/%Y %H:%M:%S"), r["referent_email"]]
        for name, _ in QUESTIONS:
            if name == "competences":
                row.append(", ".join(COMPETENCE_LABELS[c] for c in r["competences"]))
            else:
                row.append(str(r[name]))
        rows.append(row)
    return _csv_bytes(header, rows, delimiter=",", quoting=csv.QUOTE_MINIMAL, line_end="\r\n", encoding="utf-8")


GOOGLE_FORMS_MAPPING = {
    "source": {"header_rows": 1, "date_formats": ["%d/%m/%Y %H:%M:%S"]},
    "fields": _mapping_fields("Horodateur",
                              {"column": LABEL["competences"], "values": {l: c for c, l in COMPETENCE_LABELS.items()}},
                              {"column": LABEL["tracks"], "values": TRACK_VALUES}),
}


def xlsx_export(records: list[dict]) -> bytes:
    """The LimeSurvey table saved as an XLSX workbook (typed cells, as an office suite writes them)."""
    from datetime import datetime

    from openpyxl import Workbook

    header, rows = limesurvey_table(records)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        typed = []
        for label, value in zip(header, row):
            if label == "Date de soumission":
                typed.append(datetime.strptime(value, "%Y-%m-%d %H:%M:%S"))
            elif label in (LABEL["team_min"], LABEL["team_max"]) and value.isdigit():
                typed.append(int(value))
            else:
                typed.append(value)
        sheet.append(typed)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_MAPPING = {
    "source": {"header_rows": 1, "date_formats": ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y"]},
    "fields": LIMESURVEY_MAPPING["fields"],
}
