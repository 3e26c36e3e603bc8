"""The repository's own contracts: dependencies, notebooks, DVC stages, demo inputs, parameters."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
import yaml

from pipeline.contract.config import Edition, Params
from pipeline.contract.errors import StagescoError
from pipeline.contract.runner import check_parameters
from pipeline.demo.build import demo_files
from tests.conftest import ROOT


def _norm(req: str) -> str:
    return re.sub(r"\s+", "", req).lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_norm(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    listed = {_norm(d) for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python=", "pip"))}
    assert listed == wanted, f"environment.yml drifts from pyproject.toml: missing {wanted - listed}, extra {listed - wanted}"


def test_lock_file_pins_every_dependency():
    lock = (ROOT / "uv.lock").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for req in project["dependencies"]:
        name = re.split(r"[<>=\[ ]", req)[0].lower().replace("_", "-").replace(".", "-")
        assert re.search(rf'^name = "{re.escape(name)}"\nversion = "[^"]+"', lock, re.M), name


def test_notebooks_are_committed_without_outputs():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, path.name
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: one cell tagged 'parameters'"


def test_every_stage_has_a_notebook_and_a_dvc_stage_matching_the_table():
    params = Params.load(ROOT)
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for name, stage in params.stages.items():
        assert (ROOT / stage.notebook).is_file(), stage.notebook
        spec = dvc[name]["do"]
        items = dvc[name]["foreach"]
        named = isinstance(items, dict) and all("without" in item for item in items.values())  # dvcgen.per_edition
        suffix = "${item.without}" if named else ""
        assert spec["cmd"] == f"python -m pipeline.contract.run {name} ${{key}}{suffix}"
        editions = {e: Edition.load(e, ROOT) for e in params.editions}
        using = {e: ed for e, ed in editions.items() if name in {s.name for s in ed.stages}}
        uniform = len(using) == len(editions) and len({ed.stage_needs(stage) for ed in using.values()}) == 1
        if params.data["stages"][name].get("history") or not uniform:  # per-edition deps: a literal foreach
            assert sorted(dvc[name]["foreach"]) == sorted(using)
        else:
            assert dvc[name]["foreach"] == "${editions}"
        if params.data["stages"][name].get("history"):
            assert "${item.earlier0}" in dvc[name]["do"]["deps"]
        assert stage.notebook in spec["deps"]
        assert all(mode.notebook in spec["deps"] for mode in stage.modes)
        assert "uv.lock" in spec["deps"], "library versions shape the outputs: uv.lock is a dep of every stage"
        for e, ed in using.items():  # each edition's own files, through ${item.files.<key>} or ${item.need<i>}
            item = dvc[name]["foreach"][e] if isinstance(dvc[name]["foreach"], dict) else params.editions[e]
            files = params.edition_files(e)
            for key in ed.stage_needs(stage):
                assert (f"inputs/${{key}}/${{item.files.{key}}}" in spec["deps"]
                        or any(item.get(f"need{i}") == f"inputs/{e}/{files[key]}" and f"${{item.need{i}}}" in spec["deps"]
                               for i in range(len(ed.stage_needs(stage)))))
        edition_params = [p for p in spec["params"] if isinstance(p, dict)][0]["inputs/${key}/edition.yaml"]
        assert sorted(edition_params) == sorted(stage.config)
        assert f"stages.{name}" in spec["params"]
        outs = spec["outs"]
        assert f"outputs/${{key}}/{stage.folder}/report.html" in outs
        assert all(o.startswith(f"outputs/${{key}}/{stage.folder}/") for o in outs)
        metrics = [list(m)[0] for m in spec["metrics"]]
        assert metrics == [f"outputs/${{key}}/{stage.folder}/metrics.json"]


def test_demo_inputs_are_what_the_seeded_generator_writes():
    for name, data in demo_files(ROOT).items():
        assert (ROOT / "inputs" / "demo" / name).read_bytes() == data, f"run `make demo`: {name} is stale"


def test_misspelled_parameter_is_an_error():
    with pytest.raises(StagescoError, match="inconnu.*editon"):
        check_parameters(ROOT / "notebooks" / "10_projects.ipynb", {"editon": "demo"})


def test_demo_contains_no_seed_people():
    text = (ROOT / "inputs" / "demo" / "depot_projets.csv").read_bytes().decode("cp1252")
    for real in ("Bonnet", "Anselme", "Rebeix", "polaris-formation.fr"):
        assert real not in text
    assert re.findall(r"[\w.-]+@([\w.-]+)", text) and all(d.endswith(".example") for d in re.findall(r"[\w.-]+@([\w.-]+)", text))



def test_dvc_yaml_is_generated_from_the_stage_table():
    from pipeline.repro.dvcgen import generate

    assert (ROOT / "dvc.yaml").read_text(encoding="utf-8") == generate(ROOT), \
        "dvc.yaml is stale: run `python -m pipeline.repro.dvcgen` (then `make run` and commit dvc.lock)"


def test_stage_deps_include_the_modules_it_imports():
    from pipeline.repro.dvcgen import stage_code

    code = stage_code(ROOT / "notebooks" / "10_projects.ipynb", ROOT)
    for module in ("pipeline/stages/projects.py", "pipeline/io/readers.py", "pipeline/contract/runner.py",
                   "pipeline/contract/run.py", "schemas/projects.py", "pipeline/__init__.py"):
        assert module in code
    for module in ("pipeline/stages/eligibility.py", "pipeline/cli.py", "pipeline/cockpit/status.py",
                   "pipeline/repro/freeze.py"):  # a CLI or cockpit change never makes a stage stale
        assert module not in code


def test_dvc_yaml_is_regenerated_only_when_a_source_changed(tmp_path, monkeypatch):
    from pipeline.repro import dvcgen
    from tests.conftest import copy_repo

    root = copy_repo(tmp_path / "repo")
    dvcgen.refresh(root)
    assert (root / dvcgen.KEY_FILE).is_file()
    real, calls = dvcgen.generate, []
    monkeypatch.setattr(dvcgen, "generate", lambda r: calls.append(r) or real(r))
    assert dvcgen.refresh(root) is False and calls == []  # nothing changed: the key matches, nothing is read
    params = root / "params.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("label: Éligibilité\n", "label: Éligibilité des projets\n"),
                      encoding="utf-8")
    assert dvcgen.refresh(root) is False and len(calls) == 1  # looked at again; labels are not in dvc.yaml
    text = (root / "dvc.yaml").read_text(encoding="utf-8")
    (root / "dvc.yaml").write_text(text + "# edited by hand\n", encoding="utf-8")
    assert dvcgen.refresh(root) is True and (root / "dvc.yaml").read_text(encoding="utf-8") == text
    assert len(calls) == 2
