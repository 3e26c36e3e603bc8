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

ARTICLES: list[tuple[str, list[str]]] = [
    ("Article 1 — Objet", [
        "La présente convention de partenariat organise le stage collectif « {{ project.title }} » (projet "
        "{{ project.code }}), réalisé par une équipe d'apprenants au sein du site qualifiant, dans le cadre de "
        "la formation pratique des apprenants.",
    ]),
    ("Article 2 — Période et durée", [
        "Le stage se déroule du {{ period.start }} au {{ period.end }}. Il représente {{ hours }} heures de "
        "formation pratique pour chaque apprenant.",
        "{%p if partner_sites %}",
        "Le site qualifiant signataire de la présente convention en accueille {{ site_hours }} heures ; les autres "
        "heures se déroulent sur les sites partenaires nommés au préambule.",
        "{%p endif %}",
    ]),
    ("Article 3 — Équipe d'apprenants", [
        "L'équipe compte {{ team|length }} apprenants ({{ tracks }}) :",
    ]),
]
FOLLOWING: list[tuple[str, list[str]]] = [
    ("Article 4 — Accompagnement", [
        "Le formateur référent de l'établissement de formation est {{ trainer }}. Le référent du site "
        "qualifiant est {{ referent.name }} ; il accueille l'équipe, l'accompagne pendant toute la durée du "
        "stage et évalue en fin de stage les compétences développées par chaque apprenant.",
    ]),
    ("Article 5 — Compétences visées", ["Le projet vise les compétences suivantes du diplôme :"]),
]
CLOSING: list[tuple[str, list[str]]] = [
    ("Article 6 — Absence de livrable", [
        "Le stage ne crée au profit du site qualifiant aucun droit à la remise d'un livrable prêt à l'emploi "
        "ou prêt à la commercialisation.",
    ]),
    ("Article 7 — Signatures", [
        "La présente convention est signée dans l'ordre suivant : le site qualifiant, puis l'établissement de "
        "formation, puis chacun des apprenants. Elle doit être entièrement signée au plus tard le "
        "{{ deadline }}.",
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


def build() -> bytes:
    document = Document()
    document.styles["Normal"].font.name = "Liberation Sans"
    document.styles["Normal"].font.size = Pt(10.5)
    props = document.core_properties
    props.title = "Convention de partenariat — stage collectif"
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
    document.add_heading("Convention de partenariat — stage collectif", level=1)
    document.add_paragraph("{{ edition_title }} — projet {{ project.code }}")
    document.add_paragraph("Entre les soussignés :")
    document.add_paragraph(
        "L'établissement de formation : {{ school.name }}, {{ school.address }} (courriel : {{ school.email }}), "
        "ci-après « l'établissement de formation » ;")
    document.add_paragraph(
        "Le site qualifiant : {{ partner.name }}, {{ partner.address }}, {{ partner.postcode }} {{ partner.city }}, "
        "représenté pour ce projet par son référent {{ referent.name }}"
        "{% if referent.function %}, {{ referent.function }}{% endif %}"
        "{% if referent.email %} (courriel : {{ referent.email }}{% if referent.phone %}, téléphone : "
        "{{ referent.phone }}{% endif %}){% endif %}, ci-après « le site qualifiant » ;")
    document.add_paragraph("Et les apprenants nommés à l'article 3.")
    # A multi-site placement (« stage pluri-institutionnel »): each host signs its own convention.
    document.add_paragraph("{%p if partner_sites %}")
    document.add_paragraph(
        "Ce stage pluri-institutionnel réunit, autour de la thématique « {{ theme }} », le site qualifiant "
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
    _articles(document, CLOSING[:-1])
    # The signature block (article 7, the two signatures, the learners' table) is kept on one page.
    _articles(document, CLOSING[-1:], keep=True)
    signatures = document.add_table(rows=3, cols=2)
    signatures.style = "Table Grid"
    for i, (who, name) in enumerate([("1. Pour le site qualifiant", "{{ referent.name }}"),
                                     ("2. Pour l'établissement de formation", "{{ school.name }}")]):
        signatures.cell(0, i).text = who
        signatures.cell(1, i).text = name
        signatures.cell(2, i).text = "Date et signature :\n\n\n"
    _rows_unsplit(signatures, header=False)
    for row in signatures.rows:  # the whole table, and the heading after it, stay with the learners' table
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True
    learners_heading = document.add_paragraph("3. Les apprenants :")
    learners_heading.paragraph_format.keep_with_next = True
    _loop_table(document, ["Apprenant", "Date et signature"], ["{{ m.first_name }} {{ m.last_name }}", ""],
                "for m in team", keep_together=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return stable_zip.stabilise(buffer.getvalue())


def main() -> None:
    atomic.write_bytes(DEFAULT_TEMPLATE, build())
    print(f"modèle écrit : {DEFAULT_TEMPLATE}")


if __name__ == "__main__":
    main()
