"""Real editions' data under DVC, pseudonyms, `stagesco freeze`, `verify` and `purge` (real DVC and git)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import Workbook, load_workbook

from pipeline.repro import compare, dvcdata, freeze, pseudonyms, purge
from pipeline.contract.config import Edition
from pipeline.contract.errors import ConfigError
from tests.background import JOBS, Job, stagesco_job, wanted
from tests.conftest import ROOT, clone_run, copy_repo, dvc, make_edition, stagesco

MARKER = "Quatre" + "marre-Zéphyrin"  # a value only the real-style edition's data holds (never literal here)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def identify(root: Path) -> None:
    git(root, "config", "user.name", "Analyste")
    git(root, "config", "user.email", "analyste@ecole.example")


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    if subprocess.run(["git", "diff", "--cached", "--quiet"], cwd=root).returncode:
        git(root, "commit", "-q", "-m", message)


# --- pseudonyms ---------------------------------------------------------------------------------------


def test_pseudonyms_are_stable_short_and_unique_per_cohort():
    code = pseudonyms.pseudonym("demo", "A250001", root=ROOT)
    assert code == pseudonyms.pseudonym("demo", " A250001 ", root=ROOT)
    assert len(code) == 6 and code.startswith("A-") and set(code[2:]) <= set(pseudonyms.ALPHABET)
    assert code != pseudonyms.pseudonym("demo", "A250002", root=ROOT)
    ids = [f"A{n:06d}" for n in range(6000)]
    codes = pseudonyms.pseudonyms("demo", ids, root=ROOT)
    assert len(codes) == 6000 and len(set(codes.values())) == 6000
    longer = {i: c for i, c in codes.items() if len(c) > 6}
    assert longer, "6000 learners on 4 symbols collide: some codes must have been lengthened"
    for learner in [*list(longer)[:10], *ids[:20]]:  # a code is the 4-symbol one, lengthened only on a collision
        assert codes[learner].startswith(pseudonyms.pseudonym("demo", learner, root=ROOT))
    assert all(len(c) == 6 for i, c in codes.items() if i in ids[:20] and i not in longer)
    assert pseudonyms.pseudonyms("demo", list(reversed(ids)), root=ROOT) == codes


def test_pseudonyms_depend_on_the_edition_key_and_a_missing_key_is_explained(tmp_path):
    edition = make_edition(tmp_path, b"x", {}, "depot.csv")
    with pytest.raises(ConfigError) as missing:
        pseudonyms.pseudonym(edition, "A250001")
    assert "Clé des pseudonymes absente" in str(missing.value) and "dvc pull" in str(missing.value)
    dvcdata.write_key(edition.inputs, "t")
    assert pseudonyms.pseudonym(edition, "A250001") != pseudonyms.pseudonym("demo", "A250001", root=ROOT)
    with pytest.raises(Exception, match="existe déjà"):
        dvcdata.write_key(edition.inputs, "t")


# --- comparisons --------------------------------------------------------------------------------------


def _workbook(path: Path, rows: list[tuple]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Décisions"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_workbook_differences_name_sheet_cell_and_row(tmp_path):
    old = _workbook(tmp_path / "a.xlsx", [("Code projet", "Décision"), ("P1AAA", "retenu"), ("P2BBB", "retenu")])
    new = _workbook(tmp_path / "b.xlsx", [("Code projet", "Décision"), ("P1AAA", "retenu"), ("P2BBB", "non retenu")])
    assert compare.differences(old, new) == [
        "feuille « Décisions », cellule B3 (ligne « P2BBB », colonne « Décision ») : enregistré « retenu », "
        "maintenant « non retenu »"]
    assert compare.differences(old, old) == []
    gone = _workbook(tmp_path / "c.xlsx", [("Code projet", "Décision"), ("P2BBB", "non retenu")])
    assert compare.differences(old, gone) == [
        "feuille « Décisions », ligne « P1AAA » absente maintenant (ligne 2 enregistrée)",
        "feuille « Décisions », cellule B2 (ligne « P2BBB », colonne « Décision ») : enregistré « retenu », "
        "maintenant « non retenu »"]
    unkeyed = _workbook(tmp_path / "d.xlsx", [("Code projet", "Décision"), (None, "x")])
    assert compare.differences(old, unkeyed)[0] == (
        "feuille « Décisions », cellule A2 (ligne « P1AAA ») : enregistré « P1AAA », maintenant (vide)")


def test_table_and_json_differences_by_key(tmp_path):
    old = pd.DataFrame({"project_code": ["P1", "P2", "P3"], "max": [5, 6, 7]})
    new = pd.DataFrame({"project_code": ["P3", "P1", "P4"], "max": [7, 9, 8]})
    old.to_parquet(tmp_path / "a.parquet")
    new.to_parquet(tmp_path / "b.parquet")
    lines = compare.differences(tmp_path / "a.parquet", tmp_path / "b.parquet")
    assert "ligne project_code = « P2 » absente maintenant" in lines
    assert "ligne project_code = « P4 » nouvelle" in lines
    assert "ligne project_code = « P1 », colonne « max » : enregistré « 5 », maintenant « 9 »" in lines
    assert not any("P3" in line for line in lines)  # same row, another position: not a difference
    long_old = pd.DataFrame({"learner_id": ["A1", "A1", "A2"], "rank": [1, 2, 1],
                             "why": ["x" * 60 + " complet (11/11)", "b", "c"]})
    long_new = long_old.assign(why=["x" * 60 + " complet (12/12)", "b", "c"])
    lines = compare.table(long_old, long_new)
    assert lines == ["ligne learner_id = « A1 », rank = « 1 », colonne « why » : "
                     "enregistré « …xxxxxxxxx complet (11/11) », maintenant « …xxxxxxxxx complet (12/12) »"]
    assert compare.json_values({"a": {"b": 1}, "c": 2}, {"a": {"b": 2}}) == [
        "clé « a.b » : enregistré « 1 », maintenant « 2 »", "clé « c » absente maintenant (enregistré « 2 »)"]
    (tmp_path / "a.html").write_text("<p>1</p>")
    (tmp_path / "b.html").write_text("<p>2</p>")
    assert "empreinte SHA-256" in compare.differences(tmp_path / "a.html", tmp_path / "b.html")[0]


# --- manifest pieces, history step, retention ---------------------------------------------------------


def test_manifest_package_versions_come_from_the_lock_file():
    locked = freeze.packages(ROOT / "uv.lock")
    assert locked["pandas"] == version("pandas") and locked["dvc"] == version("dvc")
    assert list(locked) == sorted(locked) and len(locked) > 50


def test_history_step_refuses_clearly_without_the_review_output(tmp_path):
    edition = make_edition(tmp_path, b"x", {}, "depot.csv")
    with pytest.raises(ConfigError) as refused:
        freeze.check_history(edition)
    assert "Bilan de l'édition « t » absent (outputs/t/review/metrics.json)" in str(refused.value)
    assert "stagesco run t" in str(refused.value)


def test_retention_schedule_counts_months_from_the_end_of_the_edition():
    edition = Edition.load("demo", ROOT)
    plan = purge.schedule(edition)
    assert (plan.end, plan.archive_from, plan.delete_from) == (date(2025, 12, 19), date(2026, 12, 19), date(2029, 12, 19))
    assert purge.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    edition.config["retention"] = {"archive_months": 0}
    assert purge.schedule(edition).delete_from == date(2026, 12, 19)


# --- a real-style edition: data under DVC, never in git; purge ------------------------------------------


@pytest.fixture(scope="session")  # session: its tests run at the end (see conftest)
def frozen_demo(request, demo_run, tmp_path_factory) -> Path:
    """A copy of the shared demo run, frozen into a temp DVC remote (``stagesco freeze demo``).

    As soon as it is frozen, the reproduction the tampering test checks starts in the background:
    ``verify --rev HEAD`` of a copy whose commission decision was changed after the fact. (A fresh clone's
    ``verify`` of the committed manifest is ``committed_verify``; that the current code reproduces the
    committed outputs byte for byte from scratch is ``test_committed_dvc_lock_is_current``.)"""
    base = tmp_path_factory.mktemp("frozen")
    root = clone_run(demo_run, base / "repo")
    identify(root)
    dvc(root, "remote", "modify", "stagesco", "url", str(base / "remote"))
    commit_all(root, "Remote for the test")
    commit_all(root, "Demo run")  # dvc.lock, if this branch's committed one is stale
    result = stagesco(root, "freeze", "demo", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "étiquette edition-demo" in result.stdout and (root / "history" / "demo.json").is_file()
    if wanted(request.config, "tampered_verify"):
        JOBS["tampered_verify"] = start_tampered_verify(root, base)
    return root


def start_tampered_verify(frozen: Path, base: Path) -> tuple[str, Job]:
    """Change one retained project to « non retenu » in a copy, commit, and verify that revision."""
    root = clone_run(frozen, base / "tampered")
    path = root / "inputs" / "demo" / "decisions_commission.xlsx"
    book = load_workbook(path)
    sheet = book["Décisions"]
    header = [c.value for c in sheet[1]]
    col = {name: header.index(name) + 1 for name in header}
    row = next(r for r in range(2, sheet.max_row + 1)
               if sheet.cell(r, col["Décision de la commission"]).value == "retenu")
    code = sheet.cell(row, 1).value
    sheet.cell(row, col["Décision de la commission"]).value = "non retenu"
    for name in ("Effectif minimum retenu", "Effectif maximum retenu", "Filières ouvertes", "Formateur référent"):
        sheet.cell(row, col[name]).value = None
    sheet.cell(row, col["Motivation de la décision"]).value = "Décision modifiée après coup (test)."
    book.save(path)
    commit_all(root, "Change one decision")
    return code, stagesco_job(root, "verify", "demo", "--rev", "HEAD", log_dir=base / "tampered-log")


@pytest.fixture(scope="session")  # session: its tests run at the end (see conftest)
def tampered_verify(frozen_demo, tmp_path_factory) -> tuple[str, Job]:
    return JOBS.pop("tampered_verify", None) or start_tampered_verify(frozen_demo, tmp_path_factory.mktemp("tv"))


@pytest.mark.slow
def test_freeze_writes_a_manifest_commit_and_tag(frozen_demo):
    root = frozen_demo
    manifest = json.loads((root / "manifests" / "demo.json").read_text(encoding="utf-8"))
    assert git(root, "rev-parse", "edition-demo^{commit}").strip() == git(root, "rev-parse", "HEAD").strip()
    assert manifest["commit"] == git(root, "rev-parse", "HEAD~1").strip()
    assert git(root, "log", "-1", "--format=%s").strip() == "Freeze edition demo"
    assert "manifests/demo.json" in git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert manifest["synthetic"] is True and manifest["tag"] == "edition-demo"
    assert "inputs/demo/decisions_commission.xlsx" in manifest["inputs"]
    assert "outputs/demo/commission/projets_retenus.xlsx" in manifest["outputs"]
    assert "outputs/demo/commission/metrics.json" in manifest["metrics"]
    assert not any(rel.endswith("index.html") and rel.count("/") == 2 for rel in manifest["outputs"])
    assert manifest["packages"]["pandas"] == version("pandas")
    assert manifest["params"]["editions"]["demo"]["files"]["decisions"] == "decisions_commission.xlsx"
    text = (root / "manifests" / "demo.json").read_text(encoding="utf-8")
    assert str(root) not in text and str(Path.home()) not in text
    # The outputs were pushed: the remote holds the recorded workbook.
    md5 = manifest["outputs"]["outputs/demo/commission/projets_retenus.xlsx"]["md5"]
    assert dvcdata.object_path(root.parent / "remote", md5).is_file()
    again = stagesco(root, "freeze", "demo", check=False)
    assert again.returncode != 0 and "déjà figée (étiquette git edition-demo)" in again.stderr and "--force" in again.stderr
    readme = root / "README.md"
    kept = readme.read_bytes()
    readme.write_bytes(kept + b"\n")
    dirty = stagesco(root, "freeze", "demo", "--force", check=False)
    readme.write_bytes(kept)
    assert dirty.returncode != 0 and "pas enregistrées dans git : README.md" in dirty.stderr


@pytest.fixture(scope="module")
def real_repo(tmp_path_factory) -> Path:
    """A copy of the repository with a real-style edition 2026 created by `new-edition` (demo exports plus a
    value no committed file holds), its data tracked, everything committed, and a temp DVC remote."""
    base = tmp_path_factory.mktemp("real")
    root = copy_repo(base / "repo")
    identify(root)
    dvc(root, "remote", "modify", "stagesco", "url", str(base / "remote"))
    stagesco(root, "new-edition", "2026", "--from", "demo", "--with-data")
    roster = root / "inputs" / "2026" / "promotion.csv"
    roster.write_text(roster.read_text(encoding="utf-8-sig").replace("André;Clara", f"{MARKER};Clara", 1),
                      encoding="utf-8-sig")
    stagesco(root, "track", "2026")
    commit_all(root, "Edition 2026")
    return root


@pytest.mark.slow
def test_real_edition_data_is_tracked_by_dvc_and_never_in_git(real_repo):
    root, folder = real_repo, real_repo / "inputs" / "2026"
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    assert params["editions"]["demo"]["synthetic"] is True and "synthetic" not in params["editions"]["2026"]
    items = ["ajustements.csv", "candidatures_moodle.csv", "cle_pseudonymes.txt", "decisions_commission.xlsx",
             "depot_projets.csv", "promotion.csv", "publication", "suivi"]
    assert sorted(p.name for p in dvcdata.data_items(Edition.load("2026", root))) == items
    for name in items:
        assert (folder / f"{name}.dvc").is_file(), name
        assert subprocess.run(["git", "check-ignore", "-q", f"inputs/2026/{name}"], cwd=root).returncode == 0, name
    assert git(root, "ls-files", "inputs/2026").split() == sorted(
        ["inputs/2026/.gitignore", "inputs/2026/edition.yaml", "inputs/2026/mapping.yaml"]
        + [f"inputs/2026/{name}.dvc" for name in items])
    # The data is in the DVC cache, the marker in the working file — and in no committed version of anything.
    md5 = yaml.safe_load((folder / "promotion.csv.dvc").read_text(encoding="utf-8"))["outs"][0]["md5"]
    assert MARKER in dvcdata.object_path(dvcdata.cache_dir(root), md5).read_text(encoding="utf-8-sig")
    secret = pseudonyms.key("2026", root).decode()
    assert secret != pseudonyms.key("demo", root).decode()
    revisions = git(root, "rev-list", "--all").split()
    for needle in (MARKER, secret, MARKER.split("-")[0]):
        found = subprocess.run(["git", "grep", "-I", "-F", needle, *revisions], cwd=root, capture_output=True, text=True)
        assert found.returncode == 1 and not found.stdout, (needle, found.stdout[:300])
    # The demo, synthetic, stays plain git files, its synthetic key included.
    assert "inputs/demo/promotion.csv" in git(root, "ls-files", "inputs/demo").split()
    assert "inputs/demo/cle_pseudonymes.txt" in git(root, "ls-files", "inputs/demo").split()


@pytest.mark.slow
def test_track_puts_a_new_file_under_dvc(real_repo):
    note = real_repo / "inputs" / "2026" / "jures_supplementaires.csv"
    note.write_text(f"Nom;Prénom\n{MARKER};Paul\n", encoding="utf-8")
    assert subprocess.run(["git", "check-ignore", "-q", "inputs/2026/jures_supplementaires.csv"], cwd=real_repo).returncode == 0
    out = stagesco(real_repo, "track", "2026").stdout
    assert "suivi par DVC : inputs/2026/jures_supplementaires.csv" in out
    assert note.with_name(note.name + ".dvc").is_file()
    commit_all(real_repo, "Jurés")
    assert "jures_supplementaires.csv.dvc" in git(real_repo, "ls-files", "inputs/2026")
    assert "jures_supplementaires.csv\n" not in git(real_repo, "ls-files", "inputs/2026")


@pytest.mark.slow
def test_purge_refuses_before_its_date_then_removes_what_it_says(real_repo):
    root = real_repo
    folder = root / "inputs" / "2026"
    dvc(root, "repro", "projects@2026")  # outputs (with personal data) and their cache objects
    dvc(root, "push", *[p.relative_to(root).as_posix() for p in sorted(folder.glob("*.dvc"))], "projects@2026")
    remote = root.parent / "remote"
    hashes = purge.edition_hashes(root, "2026")
    inputs_md5 = yaml.safe_load((folder / "promotion.csv.dvc").read_text(encoding="utf-8"))["outs"][0]["md5"]
    assert dvcdata.object_path(remote, inputs_md5).is_file() and inputs_md5 in hashes

    early = stagesco(root, "purge", "2026", "--date", "2027-03-01", check=False)
    assert early.returncode != 0 and "purge possible à partir du 19/12/2029" in early.stderr
    assert "Traceback" not in early.stderr and (folder / "promotion.csv").is_file()
    unfrozen = stagesco(root, "purge", "2026", "--date", "2030-01-02", check=False)
    assert unfrozen.returncode != 0 and "n'a pas été figée" in unfrozen.stderr
    synthetic = stagesco(root, "purge", "demo", check=False)
    assert synthetic.returncode != 0 and "synthétique" in synthetic.stderr

    done = stagesco(root, "purge", "2026", "--date", "2030-01-02", "--force")
    removed = [line.split("supprimé : ", 1)[1] for line in done.stdout.splitlines() if "  supprimé : " in line]
    assert "inputs/2026/promotion.csv" in removed and "inputs/2026/suivi/" in removed
    assert "inputs/2026/cle_pseudonymes.txt" in removed and "outputs/2026/" in removed
    for rel in removed:
        assert not (root / rel).exists(), rel
    assert sorted(p.name for p in folder.iterdir()) == [".gitignore", "edition.yaml", "mapping.yaml"]
    for base in (dvcdata.cache_dir(root), remote):
        assert not dvcdata.object_path(base, inputs_md5).exists(), base
    assert "supprimé du cache DVC local :" in done.stdout
    assert "2026" not in yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))["editions"]
    record = json.loads((root / "manifests" / "2026.purge.json").read_text(encoding="utf-8"))
    assert record["removed"] == sorted(removed) and record["forced"] is True
    assert record["dvc_objects_removed"]["cache"] > 0 and record["dvc_objects_removed"]["remote"] > 0
    assert str(root) not in json.dumps(record) and MARKER not in json.dumps(record)
    # The rest of the project still works: the demo's status, DVC's view of the pipeline.
    assert stagesco(root, "status", "demo", check=False).returncode in (0, 1)
    assert dvc(root, "status", "projects@demo", check=False).returncode == 0
    leftovers = [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts and p.suffix in (".csv", ".txt")
                 and MARKER in p.read_text(encoding="utf-8", errors="replace")]
    assert leftovers == []


# --- freeze and verify the demo -------------------------------------------------------------------------


def test_git_ignores_the_data_of_any_edition_folder_but_the_demo():
    def ignored(rel: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", rel], cwd=ROOT).returncode == 0

    for rel in ("inputs/faite-a-la-main/promotion.csv", "inputs/faite-a-la-main/suivi/evaluations/P1AAA.xlsx",
                "inputs/faite-a-la-main/cle_pseudonymes.txt"):
        assert ignored(rel), rel
    for rel in ("inputs/faite-a-la-main/edition.yaml", "inputs/faite-a-la-main/mapping.yaml",
                "inputs/faite-a-la-main/promotion.csv.dvc", "inputs/demo/promotion.csv",
                "inputs/demo/suivi/suivi_conventions.xlsx", "inputs/demo/cle_pseudonymes.txt"):
        assert not ignored(rel), rel


def test_verify_reuses_the_current_environment_for_the_same_lock_and_checks_which_code_runs(tmp_path):
    from pipeline.repro import verify
    from pipeline.contract.errors import StagescoError

    assert verify.environment(ROOT, ROOT) == Path(sys.executable)
    python = Path(sys.executable)
    verify.check_code(ROOT, python, verify.checkout_env(ROOT, python))  # interpreter and Jupyter kernel
    elsewhere = tmp_path / "checkout"
    (elsewhere / "pipeline").mkdir(parents=True)  # not a package: the installed `pipeline` would win
    with pytest.raises(StagescoError, match="n'importe pas le code de la révision"):
        verify.check_code(elsewhere, python, verify.checkout_env(elsewhere, python))


@pytest.mark.slow
def test_verify_names_the_outputs_and_cells_a_tampered_decision_changes(tampered_verify):
    code, job = tampered_verify
    result = job.result()
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "outputs/demo/commission/projets_retenus.xlsx : différent" in out
    assert "outputs/demo/commission/metrics.json : différent" in out
    assert "clé « retained »" in out
    assert f"« {code} »" in out  # the project's row is named
    assert "outputs/demo/projects/projets.xlsx : identique" in out
    assert "l'édition n'est pas reproduite à l'identique" in out


@pytest.mark.slow
def test_the_committed_demo_manifest_is_reproduced_from_a_fresh_clone(committed_verify):
    """The repository ships the demo frozen: `stagesco verify demo` in a fresh clone re-runs the recorded
    revision from scratch and finds every output identical (started beside the shared run, see conftest)."""
    manifest = json.loads((ROOT / "manifests" / "demo.json").read_text(encoding="utf-8"))
    result = committed_verify.result()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for rel in manifest["outputs"]:
        assert f"  {rel} : identique" in result.stdout, rel
    assert "différent" not in result.stdout and "Ré-exécution de 9 étapes depuis zéro" in result.stdout
    clone = committed_verify.cwd
    assert git(clone, "worktree", "list").count("\n") == 1  # the temporary checkout is gone
