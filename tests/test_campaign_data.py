"""The campaign is data: tracks come from the edition, and a review compares an edition only with the
earlier editions of its own campaign."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from pipeline.assign.model import Instance, InvalidInstance, Learner, Project
from pipeline.assign.solver import solve
from pipeline.contract.config import Edition, Params, campaign_of
from pipeline.contract.errors import ConfigError
from pipeline.demo import history as demo_history
from pipeline.io import tracks as track_words
from pipeline.io.readers import read_table
from pipeline.demo import learners as demo
from pipeline.repro import history
from pipeline.stages import applications as app
from tests.conftest import ROOT, copy_repo

# Track codes of every campaign the sources describe (seeds 000, 001, 004), and of every edition folder.
KNOWN_CODES = {"ES", "EJE", "ASS", "LP"}
EXEMPT = ("pipeline/demo/", "pipeline/assign/instances.py")  # the seeded generators of synthetic editions


def edition_track_codes() -> set[str]:
    codes = set(KNOWN_CODES)
    for path in ROOT.glob("inputs/*/edition.yaml"):
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        codes |= set(((config.get("vocabularies") or {}).get("tracks") or {}))
    return codes


def code_strings(source: str) -> list[tuple[int, str]]:
    """Every string literal and identifier of a module, docstrings excepted (prose may cite examples)."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            found.append((node.lineno, node.attr))
    return found


def yaml_strings(data) -> list[str]:
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in [str(k), *yaml_strings(v)]]
    if isinstance(data, list):
        return [s for v in data for s in yaml_strings(v)]
    return [str(data)] if data is not None else []


def test_no_track_code_in_the_code_or_the_shared_settings():
    codes = edition_track_codes()
    word = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(sorted(codes)) + r")(?![A-Za-z0-9])")
    hits = []
    for path in sorted([*ROOT.glob("pipeline/**/*.py"), *ROOT.glob("schemas/**/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(EXEMPT):
            continue
        hits += [f"{rel}:{line}: {text!r}" for line, text in code_strings(path.read_text(encoding="utf-8"))
                 if word.search(text)]
    for path in sorted([*ROOT.glob("schemas/**/*.yaml"), *ROOT.glob("pipeline/**/*.j2"), ROOT / "params.yaml"]):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(EXEMPT):
            continue
        texts = yaml_strings(yaml.safe_load(path.read_text(encoding="utf-8"))) if path.suffix == ".yaml" \
            else path.read_text(encoding="utf-8").splitlines()
        hits += [f"{rel}: {text!r}" for text in texts if word.search(text)]
    assert not hits, "track codes written in code or shared settings:\n" + "\n".join(hits)


def test_the_search_finds_a_track_code_where_one_is_written():
    strings = [text for _, text in code_strings('"""ES in a docstring."""\nTRACKS = ("ES", "EJE")\nx = f"{y} EJE"\n')]
    assert "ES" in strings and "EJE" in strings and "ES in a docstring." not in strings


THREE = {"ES": "Éducateur spécialisé (DEES)", "EJE": "Éducateur de jeunes enfants (DEEJE)",
         "ASS": "Assistant de service social (DEASS)"}


def test_open_tracks_are_worded_and_read_back_with_the_editions_codes():
    assert track_words.choices(THREE) == ["ES", "EJE", "ASS", "ES, EJE et ASS"]
    assert track_words.parse("ES, EJE et ASS", THREE) == ["ES", "EJE", "ASS"]
    assert track_words.parse("ass + es", THREE) == ["ES", "ASS"]
    assert track_words.parse("Assistant de service social (DEASS)", THREE) == ["ASS"]
    assert track_words.parse("ES et CESF", THREE) is None
    assert track_words.parse("ES et EJE", {"LP": "Licence professionnelle"}) is None
    assert track_words.phrase(["LP"]) == "LP"


def test_a_roster_of_another_cohort_keeps_its_tracks_and_rejects_others(tmp_path):
    rows = [{"first_name": "Léa", "last_name": "Martin", "idnumber": "A1", "email": "lea@x.example", "track": "ASS",
             "employer": ""},
            {"first_name": "Hugo", "last_name": "Petit", "idnumber": "A2", "email": "hugo@x.example", "track": "ES",
             "employer": ""},
            {"first_name": "Inès", "last_name": "Benali", "idnumber": "A3", "email": "ines@x.example", "track": "CESF",
             "employer": ""}]
    path = tmp_path / "promotion.csv"
    path.write_bytes(demo.roster_export(rows))
    track = demo.ROSTER_MAPPING["fields"]["track"]
    fields = dict(demo.ROSTER_MAPPING["fields"], track=dict(track, values={**track["values"], "ASS": "ASS", "CESF": "CESF"}))
    roster, rejected = app.parse_roster(read_table(path), fields, THREE)
    assert list(roster["track"]) == ["ASS", "ES"]
    assert list(rejected["value"]) == ["CESF"]
    assert rejected["reason"].iloc[0] == ("la filière doit être ES (Éducateur spécialisé (DEES)), EJE (Éducateur de "
                                          "jeunes enfants (DEEJE)) ou ASS (Assistant de service social (DEASS))")


def test_the_solver_takes_the_editions_tracks():
    learners = (Learner("a", "ASS", ("p",)), Learner("b", "ES", ("p", "q")), Learner("c", "ASS", ("q",)))
    projects = (Project("p", 1, 2, frozenset({"ES", "ASS"})), Project("q", 1, 1, frozenset({"ASS"})))
    instance = Instance(learners=learners, projects=projects, ranks=2, tracks=("ES", "ASS"))
    solution = solve(instance, time_limit=10)
    assert solution.assignment == {"a": "p", "b": "p", "c": "q"} and solution.optimal
    with pytest.raises(InvalidInstance, match="filière inconnue « ASS »"):
        Instance(learners=learners, projects=projects[:1], ranks=2, tracks=("ES", "EJE"))


def test_an_edition_without_tracks_is_told_what_to_declare(tmp_path):
    root = copy_repo(tmp_path / "repo")
    path = root / "inputs" / "demo" / "edition.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    del config["vocabularies"]["tracks"]
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="vocabularies.tracks") as info:
        Edition.load("demo", root).tracks
    assert "edition.yaml" in str(info.value)


def test_an_editions_campaign_defaults_to_its_name_without_the_year():
    assert campaign_of("demo") == "demo" and campaign_of("demo-2024") == "demo"
    assert campaign_of("demo-askoria") == "demo-askoria" and campaign_of("polaris-2026", "polaris") == "polaris"
    assert campaign_of("x-2026", "  ") == "x"


def test_a_review_compares_only_with_its_own_campaign(tmp_path):
    root = copy_repo(tmp_path / "repo")
    params = Params.load(root)
    other = dict(demo_history.record(), edition="cnam-2024", campaign="cnam", start="2024-09-01")
    (root / "history" / "cnam-2024.json").write_text(json.dumps(other), encoding="utf-8")
    unnamed = dict(demo_history.record(), edition="askoria-2023", start="2023-09-01")
    unnamed.pop("campaign", None)
    (root / "history" / "askoria-2023.json").write_text(json.dumps(unnamed), encoding="utf-8")
    assert [p.name for p in history.earlier_files("demo", params)] == ["demo-2024.json"]
    # the same earlier record, declared as another campaign's, is no longer compared with the demo
    path = root / "inputs" / "demo" / "edition.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\ncampaign: stages-collectifs-ifsl\n", encoding="utf-8")
    assert history.earlier_files("demo", Params.load(root)) == []
    (root / "history" / "cnam-2024.json").write_text(json.dumps(dict(other, campaign="stages-collectifs-ifsl")),
                                                     encoding="utf-8")
    assert [p.name for p in history.earlier_files("demo", Params.load(root))] == ["cnam-2024.json"]
