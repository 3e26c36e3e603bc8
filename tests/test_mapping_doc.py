"""The README teaches the mapping: every ``yaml`` example of its « The mapping format » section loads through
the real mapping loader, the projects example reads the export shown beside it (« ES et EJE » → ES, EJE),
and a day–month swap proven by a column's own dates is detected and reported."""

from __future__ import annotations

import re

import pytest
import yaml

from pipeline.contract.errors import ConfigError
from pipeline.io.extras import declared
from pipeline.io.mapping import load_mapping, resolve
from pipeline.io.normalise import day_month_swap, parse_multi, swapped_format
from pipeline.io.readers import read_table
from pipeline.stages import projects
from schemas.fields import table_fields
from tests.conftest import ROOT


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### The mapping format (`mapping.yaml`)")
    return text[start:text.index("\n## ", start)]


def blocks(kind: str) -> list[str]:
    return re.findall(r"```" + kind + r"\n(.*?)```", readme_section(), re.S)


def test_every_yaml_example_of_the_readme_loads_through_the_mapping_loader():
    """Mapping examples through the mapping loader, with the extra fields the ``# edition.yaml`` example
    declares (itself checked by the extra-field loader)."""
    examples = [e for e in blocks("yaml") if not e.startswith("# edition.yaml")]
    editions = [yaml.safe_load(e) for e in blocks("yaml") if e.startswith("# edition.yaml")]
    assert len(examples) >= 7 and len(editions) == 1
    extras = {"projects": set(declared(editions[0], "projects"))}
    assert extras == {"projects": {"accessibility", "seats"}}
    sections = set()
    for example in examples:
        sections |= set(load_mapping(example, "README.md", extras))
    assert sections == {"projects", "roster", "applications", "placements", "adjustments", "actions"}
    with pytest.raises(ConfigError, match="accessibility"):  # the same examples without the declaration
        for example in examples:
            load_mapping(example, "README.md")


def test_the_demo_mapping_loads():
    assert set(load_mapping(ROOT / "inputs" / "demo" / "mapping.yaml")) == {"projects", "roster", "applications", "adjustments"}


@pytest.mark.parametrize("bad, said", [
    ("projets: {}", "Section inconnue « projets »"),
    ("projects: {fields: {titel: Titre}}", "Champ inconnu « projects.fields.titel »"),
    ("projects: {source: {separator: ';'}}", "Réglage inconnu « projects.source.separator »"),
    ("projects: {fields: {structure_type: {column: Type, values: {Les deux: [a, b]}}}}", "plusieurs codes"),
    ("applications: {source: {format: choice}}", "format » inconnu"),
    ("roster: {source: {header_rows: 0}}", "nombre entier positif"),
])
def test_the_loader_names_what_is_wrong(bad, said):
    with pytest.raises(ConfigError) as info:
        load_mapping(bad)
    assert said in info.value.message


def test_the_readme_projects_example_reads_the_export_shown_beside_it(tmp_path):
    """The ```text export of the section, read with the first ```yaml example by the stage's own code."""
    export, mapping = blocks("text")[0], load_mapping(blocks("yaml")[0])["projects"]
    path = tmp_path / "export.csv"
    path.write_bytes(export.encode("cp1252"))
    raw = read_table(path)
    metas = [m for m in table_fields("projects") if m.name in mapping["fields"] or m.name == "postcode"]
    sources = resolve(raw, mapping["fields"], [], "README.md")
    notes: list[str] = []
    frame, problems = projects.normalise(raw, sources, metas, mapping["source"], notes)
    assert not problems and not notes
    row = frame.iloc[0]
    assert row["tracks"] == ["EJE", "ES"]  # « ES et EJE » → two codes
    assert row["structure_type"] == "eaje" and row["hours"] == 105.5 and row["departement"] == "87"
    assert row["submitted_at"].strftime("%d/%m/%Y %H:%M") == "02/12/2024 14:32"


def test_one_answer_may_stand_for_several_codes():
    values = {"Éducateur spécialisé": "ES", "Éducateur de jeunes enfants": "EJE", "ES et EJE": ["ES", "EJE"]}
    assert parse_multi("ES et EJE", values, [","]) == (["EJE", "ES"], None)
    assert parse_multi("Éducateur spécialisé", values, [","]) == (["ES"], None)
    _, reason = parse_multi("ES et EJE", {"ES": "ES", "EJE": "EJE"}, [","])
    assert reason and "« et »" in reason  # without the mapping, the leftover word is reported


# --- day–month swap -------------------------------------------------------------------------------------
FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"]


def test_swapped_format():
    assert swapped_format("%d/%m/%Y %H:%M") == "%m/%d/%Y %H:%M" and swapped_format("%Y-%m-%d") == "%Y-%d-%m"


@pytest.mark.parametrize("texts, proof", [
    (["03/04/2025 10:00", "12/15/2025 14:32"], "12/15/2025 14:32"),  # the 15th month does not exist: m/d
    (["03/04/2025 10:00", "15/12/2025 14:32"], None),  # the order stated is proven right
    (["03/04/2025 10:00", "05/06/2025 09:00"], None),  # nothing decides: trust the mapping
    (["15/12/2025 14:32", "12/15/2025 14:32"], None),  # the file mixes both: nothing is swapped
    (["", "  ", "12/15/2025 14:32:05"], "12/15/2025 14:32:05"),
])
def test_a_day_month_swap_is_detected_only_when_the_file_proves_it(texts, proof):
    assert day_month_swap(texts, FORMATS) == proof


def test_a_proven_swap_is_read_in_the_proven_order_and_reported(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Date;Titre du projet\n03/04/2025 10:00;A\n12/15/2025 14:32;B\n", encoding="utf-8")
    raw = read_table(path)
    fields = {"submitted_at": "Date", "title": "Titre du projet"}
    metas = [m for m in table_fields("projects") if m.name in fields or m.name == "postcode"]
    notes: list[str] = []
    frame, problems = projects.normalise(raw, resolve(raw, fields, [], "m"), metas, {"date_formats": FORMATS}, notes)
    assert not problems
    assert [d.strftime("%d/%m/%Y") for d in frame["submitted_at"]] == ["04/03/2025", "15/12/2025"]
    assert len(notes) == 1 and "« 12/15/2025 14:32 »" in notes[0] and "mm/jj/aaaa" in notes[0] and "Date" in notes[0]
