"""Builds the default convention template ``pipeline/stages/templates/convention.docx`` (python-docx).

The template is a docxtpl document: ``{{ … }}`` fields, ``{%p … %}`` paragraph loops and ``{%tr … %}``
table-row loops. Its fields are those of :func:`pipeline.stages.conventions.convention_context`:
``edition_title``, ``school.{name,address,email}``, ``partner.{name,address,postcode,city}``,
``referent.{name,function,email,phone}``, ``project.{code,title,planned_hours}``, ``trainer``,
``team`` (each ``last_name``, ``first_name``, ``track``, ``track_label``), ``tracks``, ``competences``
(each ``code``, ``label``), ``period.{start,end}`` and ``hours`` (the offer's own, else the edition's),
``deadline``; for a multi-site offer, ``theme``, ``site_hours`` (the signing host's share) and
``partner_sites`` (each ``name``, ``city``, ``referent``, ``hours``; empty for a single site).

An edition that needs other wording copies this file, edits it in Word or LibreOffice (keeping the
fields) and names it under ``conventions.template`` in its edition.yaml. Regenerate the default with::

    .venv/bin/python -m pipeline.demo.make_convention_template
"""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from ..contract import atomic
from ..io import stable_zip
from ..stages.conventions import DEFAULT_TEMPLATE

# The campaign's words come from the edition (``words``: conventions.wording of edition.yaml, defaults in
# pipeline.stages.conventions.DEFAULT_WORDS), so that one template fits a stage collectif (a team, a site
# qualifiant, a référent) and an individual placement (one learner, a structure d'accueil, a tutor).
TEAM = "team|length > 1"
ARTICLES: list[tuple[str, list[str]]] = [
    ("Article 1 — Objet", [
        "La présente {{ words.agreement }} organise {{ words.placement_the }} « {{ project.title }} » "
        "({{ words.offer }} {{ project.code }}), réalisé par {% if " + TEAM + " %}une équipe d'apprenants"
        "{% else %}un apprenant{% endif %} au sein {{ words.host_of }}, dans le cadre de la formation pratique "
        "{% if " + TEAM + " %}des apprenants{% else %}de l'apprenant{% endif %}.",
    ]),
    ("Article 2 — Période et durée", [
        "Le stage se déroule du {{ period.start }} au {{ period.end }}. Il représente {{ hours }} heures de "
        "formation pratique pour chaque apprenant.",
        "{%p if partner_sites %}",
        "Le site qualifiant signataire de la présente convention en accueille {{ site_hours }} heures ; les autres "
        "heures se déroulent sur les sites partenaires nommés au préambule.",
        "{%p endif %}",
    ]),
    ("Article 3 — {% if " + TEAM + " %}Équipe d'apprenants{% else %}Apprenant{% endif %}", [
        "{% if " + TEAM + " %}L'équipe compte {{ team|length }} apprenants ({{ tracks }}) :"
        "{% else %}Le stage est effectué par l'apprenant suivant ({{ tracks }}) :{% endif %}",
    ]),
]
FOLLOWING: list[tuple[str, list[str]]] = [
    ("Article 4 — Accompagnement", [
        "Le formateur référent de l'établissement de formation est {{ trainer }}. Le {{ words.referent }} "
        "{{ words.host_of }} est {{ referent.name }} ; il accueille {% if " + TEAM + " %}l'équipe{% else %}"
        "l'apprenant{% endif %}, l'accompagne pendant toute la durée du stage et évalue en fin de stage les "
        "compétences développées par chaque apprenant.",
    ]),
    ("Article 5 — Compétences visées", ["{{ words.offer_the|capitalize }} vise les compétences suivantes du diplôme :"]),
]
# The edition's own clauses (conventions.clauses) are articles 6, 7…; the signatures article follows them.
CLOSING: list[tuple[str, list[str]]] = [
    ("Article {{ signature_article }} — Signatures", [
        "La présente convention est signée dans l'ordre suivant : {{ signature_order }}. Elle doit être "
        "entièrement signée au plus tard le {{ deadline }}.{% if documents %} Elle est accompagnée des pièces "
        "suivantes : {{ documents|map(attribute='label')|join(', ') }}.{% endif %}",
    ]),
]


def _articles(document, articles: list[tuple[str, list[str]]], *, keep: bool = False) -> list:
    """Headings and paragraphs; ``keep``: each kept on the page of what follows (the signature block)."""
    added = []
    for heading, paragraphs in articles:
        added.append(document.add_heading(heading, level=2))
        for text in paragraphs:
            added.append(document.add_paragraph(text))
    if keep:
        for paragraph in added:
            paragraph.paragraph_format.keep_with_next = True
    return added


def _rows_unsplit(table, *, header: bool = True, keep_together: bool = False) -> None:
    """No row breaks across two pages; the first row repeats at the top of each page (``header``);
    ``keep_together``: every row stays on the page of the next one (a short table never splits)."""
    for index, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if header and index == 0:
            properties.append(OxmlElement("w:tblHeader"))
        if keep_together and index < len(table.rows) - 1:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def _field(paragraph, instruction: str) -> None:
    """A Word field (``PAGE``, ``NUMPAGES``) updated by the word processor when it lays out the pages."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _page_numbers(document) -> None:
    """« Page n / N » centred in the footer of every page."""
    section = document.sections[0]
    section.footer.is_linked_to_previous = False
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("Convention {{ project.code }} — page ")
    _field(paragraph, "PAGE")
    paragraph.add_run(" / ")
    _field(paragraph, "NUMPAGES")


def _loop_table(document, header: list[str], cells: list[str], loop: str, *, keep_together: bool = False):
    """A table whose body row repeats once per item (``{%tr for … %}`` … ``{%tr endfor %}``)."""
    table = document.add_table(rows=4, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, text in enumerate(header):
        table.cell(0, i).text = text
        table.cell(0, i).paragraphs[0].runs[0].bold = True
    table.cell(1, 0).text = "{%tr " + loop + " %}"
    for i, text in enumerate(cells):
        table.cell(2, i).text = text
    table.cell(3, 0).text = "{%tr endfor %}"
    _rows_unsplit(table, keep_together=keep_together)
    return table


def build(pole: bool = False) -> bytes:
    """The template's bytes; ``pole``: a pôle de stages' convention — the pupils' own school, represented by the
    person who signs for it (``school.signatory``), and a signature line for the legal representative of each
    minor pupil (``guardians``: each ``first_name``, ``last_name``, ``birth_date``)."""
    document = Document()
    document.styles["Normal"].font.name = "Liberation Sans"
    document.styles["Normal"].font.size = Pt(10.5)
    props = document.core_properties
    props.title = "{{ words.title }}"
    props.author = props.last_modified_by = "stagesco"
    props.subject = "{{ edition_title }}"
    props.revision = 1
    props.created = props.modified = datetime(2000, 1, 1)
    props.comments = props.keywords = props.category = ""

    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    _page_numbers(document)
    document.add_heading("{{ words.title }}", level=1)
    document.add_paragraph("{{ edition_title }} — {{ words.offer }} {{ project.code }}")
    document.add_paragraph("Entre les soussignés :")
    document.add_paragraph(
        "L'établissement de formation : {{ school.name }}, {{ school.address }} (courriel : {{ school.email }}), "
        + ("représenté par {{ school.signatory }}, {{ school.signatory_title }}, " if pole else "")
        + "ci-après « l'établissement de formation » ;")
    document.add_paragraph(
        "{{ words.host_the|capitalize }} : {{ partner.name }}, {{ partner.address }}, {{ partner.postcode }} "
        "{{ partner.city }}, {{ words.host_represented }} pour {{ words.offer_this }} par son {{ words.referent }} "
        "{{ referent.name }}"
        "{% if referent.function %}, {{ referent.function }}{% endif %}"
        "{% if referent.email %} (courriel : {{ referent.email }}{% if referent.phone %}, téléphone : "
        "{{ referent.phone }}{% endif %}){% endif %}, ci-après « {{ words.host_the }} » ;")
    document.add_paragraph("Et {% if " + TEAM + " %}les apprenants nommés{% else %}l'apprenant nommé{% endif %} "
                           "à l'article 3.")
    # A multi-site placement (« stage pluri-institutionnel »): each host signs its own convention.
    document.add_paragraph("{%p if partner_sites %}")
    document.add_paragraph(
        "Ce stage pluri-institutionnel réunit, autour de la thématique « {{ theme }} », {{ words.host_the }} "
        "signataire et {% for s in partner_sites %}{{ s.name }}{% if s.city %} ({{ s.city }}){% endif %}, qui "
        "accueille {{ s.hours }} heures{% if s.referent %} avec pour référent {{ s.referent }}{% endif %}"
        "{% if not loop.last %} ; {% endif %}{% endfor %}. Chaque site qualifiant signe sa propre convention "
        "pour la part du stage qu'il accueille.")
    document.add_paragraph("{%p endif %}")
    _articles(document, ARTICLES)
    _loop_table(document, ["Nom", "Prénom", "Filière"],
                ["{{ m.last_name }}", "{{ m.first_name }}", "{{ m.track_label }}"], "for m in team")
    _articles(document, FOLLOWING)
    document.add_paragraph("{%p for c in competences %}")
    document.add_paragraph("{{ c.code }} — {{ c.label }}", style="List Bullet")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p for clause in clauses %}")
    document.add_heading("Article {{ clause.number }} — {{ clause.heading }}", level=2)
    document.add_paragraph("{{ clause.text }}")
    document.add_paragraph("{%p endfor %}")
    # The signature block (article 7, the two signatures, the learners' table) is kept on one page.
    _articles(document, CLOSING[-1:], keep=True)
    signatures = document.add_table(rows=3, cols=2)
    signatures.style = "Table Grid"
    for i, (who, name) in enumerate([("1. Pour {{ words.host_the }}", "{{ referent.name }}"),
                                     ("2. Pour l'établissement de formation",
                                      "{{ school.name }}" + ("\n{{ school.signatory }}, {{ school.signatory_title }}"
                                                             if pole else ""))]):
        signatures.cell(0, i).text = who
        signatures.cell(1, i).text = name
        signatures.cell(2, i).text = "Date et signature :\n\n\n"
    _rows_unsplit(signatures, header=False)
    for row in signatures.rows:  # the whole table, and the heading after it, stay with the learners' table
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True
    learners_heading = document.add_paragraph("3. {% if " + TEAM + " %}Les apprenants{% else %}L'apprenant{% endif %} :")
    learners_heading.paragraph_format.keep_with_next = True
    _loop_table(document, ["Apprenant", "Date et signature"], ["{{ m.first_name }} {{ m.last_name }}", ""],
                "for m in team", keep_together=True)
    if pole:  # a minor pupil's legal representative signs too
        document.add_paragraph("{%p if guardians %}")
        document.add_paragraph("4. Pour chaque élève mineur, son représentant légal :").paragraph_format.keep_with_next = True
        _loop_table(document, ["Représentant légal de l'élève", "Nom, date et signature"],
                    ["{{ m.first_name }} {{ m.last_name }} (né(e) le {{ m.birth_date }})", ""], "for m in guardians",
                    keep_together=True)
        document.add_paragraph("{%p endif %}")
    buffer = io.BytesIO()
    document.save(buffer)
    return stable_zip.stabilise(buffer.getvalue())


def main() -> None:
    atomic.write_bytes(DEFAULT_TEMPLATE, build())
    print(f"modèle écrit : {DEFAULT_TEMPLATE}")


if __name__ == "__main__":
    main()
