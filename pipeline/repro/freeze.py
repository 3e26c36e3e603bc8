"""``stagesco freeze <edition>``: close an edition so that it can be reproduced and reviewed later.

The steps, each a function (:func:`freeze` runs them in this order):

1. :func:`check_ready` — the tag ``edition-<name>`` is free (or ``force``), a real edition's data is
   tracked by DVC, every stage is up to date (``stagesco status``), git has no uncommitted change;
2. :func:`check_history` — the edition's aggregates can be computed (they need the review stage);
3. :func:`push` — the edition's inputs (real editions) and outputs go to the DVC remote;
4. :func:`write_history` — ``history/<edition>.json``, the non-personal aggregates;
5. :func:`write_manifest` — ``manifests/<edition>.json``: the commit, SHA-256 and MD5 of every input and
   output file, the edition's params, the package versions of ``uv.lock``;
6. :func:`commit_and_tag` — one commit « Freeze edition <name> » with both files, tagged ``edition-<name>``.

The manifest holds no date, host or absolute path: freezing twice the same commit writes the same file.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tomllib
from pathlib import Path
from typing import Callable

from ..contract import atomic
from ..contract.config import EDITION_FILE, MAPPING_FILE, Edition
from ..contract.errors import ConfigError, StagescoError
from ..io import fr
from . import dvcdata, history

MANIFEST_DIR = "manifests"
FORMAT = 1


def tag_name(edition: str) -> str:
    return f"edition-{edition}"


def manifest_path(root: Path, edition: str) -> Path:
    return Path(root) / MANIFEST_DIR / f"{edition}.json"


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        hint = "Vérifiez que le dossier est un dépôt git"
        if "user.name" in result.stderr or "user.email" in result.stderr or "identity" in result.stderr:
            hint = 'Indiquez à git qui vous êtes : git config user.name "Prénom Nom" et git config user.email …'
        raise StagescoError(f"La commande « git {args[0]} » a échoué : {detail[-1] if detail else 'sans message'}",
                            hint=hint)
    return result


def digests(path: Path) -> dict[str, str]:
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            md5.update(block)
            sha.update(block)
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}


def input_files(edition: Edition) -> list[Path]:
    """Every file of the edition's folder except git's own (``.dvc`` files, ``.gitignore``)."""
    if not edition.inputs.is_dir():
        return []
    return sorted((p for p in edition.inputs.rglob("*")
                   if p.is_file() and p.suffix != ".dvc" and p.name != ".gitignore"), key=lambda p: p.as_posix())


def output_files(edition: Edition) -> list[Path]:
    """Every file the edition's stages wrote (``outputs/<edition>/<stage>/``); not the home page."""
    files = []
    for stage in edition.stages:
        folder = edition.outputs / stage.folder
        if folder.is_dir():
            files += [p for p in folder.rglob("*") if p.is_file()]
    return sorted(files, key=lambda p: p.as_posix())


def packages(lock: Path) -> dict[str, str]:
    """Every package of ``uv.lock`` with its locked version (several versions joined by « | »)."""
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for package in data.get("package", []):
        found.setdefault(package["name"], set()).add(str(package.get("version", "")))
    return {name: " | ".join(sorted(versions)) for name, versions in sorted(found.items())}


def build_manifest(edition: Edition, commit: str) -> dict:
    root = edition.root
    rel = lambda p: Path(p).relative_to(root).as_posix()  # noqa: E731
    outputs = output_files(edition)
    metrics = {rel(p): json.loads(p.read_text(encoding="utf-8")) for p in outputs if p.name == "metrics.json"}
    return {
        "format": FORMAT,
        "edition": edition.name,
        "title": edition.title,
        "synthetic": dvcdata.is_synthetic(edition.params, edition.name),
        "commit": commit,
        "tag": tag_name(edition.name),
        "inputs": {rel(p): digests(p) for p in input_files(edition)},
        "outputs": {rel(p): digests(p) for p in outputs},
        "metrics": metrics,
        "params": {
            "editions": {edition.name: edition.params.editions[edition.name]},
            "files": {name: digests(root / name)["sha256"]
                      for name in ("params.yaml", f"inputs/{edition.name}/{EDITION_FILE}",
                                   f"inputs/{edition.name}/{MAPPING_FILE}", "dvc.yaml", "dvc.lock", "uv.lock")
                      if (root / name).is_file()},
        },
        "packages": packages(root / "uv.lock"),
    }


def load_manifest(root: Path, edition: str) -> dict:
    path = manifest_path(root, edition)
    where = f"{MANIFEST_DIR}/{edition}.json"
    if not path.exists():
        raise ConfigError(f"L'édition « {edition} » n'a pas été figée : {where} absent",
                          hint=f"Figez-la avec « stagesco freeze {edition} » (ou récupérez ce fichier depuis git)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Manifeste illisible : {exc}", file=where, hint=f"Restaurez-le depuis git (git checkout -- {where})")
    if not isinstance(data, dict) or not {"commit", "outputs", "inputs"} <= set(data):
        raise ConfigError("Manifeste incomplet (clés commit, inputs, outputs attendues)", file=where,
                          hint=f"Restaurez-le depuis git ou refigez l'édition (stagesco freeze {edition} --force)")
    return data


def uncommitted(root: Path, edition: str) -> list[str]:
    """Changes git does not hold yet and that the freeze needs: modified tracked files anywhere, new files
    in the edition's folder or among the pipeline's files."""
    out = git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all").stdout
    own = {f"{MANIFEST_DIR}/{edition}.json", f"{history.HISTORY_DIR}/{edition}.json"}
    found = []
    for entry in [e for e in out.split("\0") if e]:
        status, path = entry[:2], entry[3:]
        if path in own:
            continue
        if status != "??" or path.startswith((f"inputs/{edition}/", "pipeline/", "notebooks/", "schemas/")) or \
                path in ("dvc.yaml", "dvc.lock", "params.yaml", "uv.lock", ".dvc/config"):
            found.append(path)
    return sorted(set(found))


def check_ready(edition: Edition, pending: Callable[[Edition], list[str]], *, force: bool = False, log=print) -> str:
    """Refuse to freeze what could not be reproduced; return the commit to record (HEAD).

    ``pending(edition)`` describes the stages that are not up to date (the cockpit's status, passed in by
    the caller so that this package never imports the cockpit above it)."""
    root, name = edition.root, edition.name
    tag = tag_name(name)
    if git(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag}", check=False).returncode == 0 and not force:
        raise StagescoError(f"L'édition « {name} » est déjà figée (étiquette git {tag})",
                            hint=f"Pour la figer de nouveau (l'étiquette sera déplacée) : stagesco freeze {name} --force")
    tracked = dvcdata.track(edition)
    if tracked:
        log(f"  Données suivies par DVC : {', '.join(p.name for p in tracked)}")
    not_ready = pending(edition)
    if not_ready:
        what = "; ".join(not_ready)
        raise StagescoError(f"L'édition « {name} » n'est pas à jour — {what}",
                            hint=f"Lancez « stagesco run {name} » jusqu'à ce que toutes les étapes soient à jour, "
                                 "enregistrez dans git, puis relancez stagesco freeze")
    changes = uncommitted(root, name)
    if changes:
        shown = ", ".join(changes[:8]) + (f" et {fr.count(len(changes) - 8, 'autre')}" if len(changes) > 8 else "")
        raise StagescoError(f"Des modifications ne sont pas enregistrées dans git : {shown}",
                            hint="Le manifeste doit désigner un état enregistré : git add … puis git commit, "
                                 "et relancez stagesco freeze")
    return git(root, "rev-parse", "HEAD").stdout.strip()


def check_history(edition: Edition) -> dict:
    """The aggregates ``history/<edition>.json`` will hold (fails clearly without the review stage)."""
    return history.record(edition)


def push(edition: Edition, *, log=print) -> list[str]:
    """Send the edition's DVC-tracked inputs (real editions) and its stages' outputs to the default remote."""
    root = edition.root
    remote = dvcdata.default_remote(root)
    if not remote:
        raise ConfigError("Aucun dépôt DVC par défaut n'est configuré", file=".dvc/config",
                          hint="Indiquez-en un, par exemple : dvc remote add -d stagesco ~/stagesco-depot-dvc")
    targets = [p.relative_to(root).as_posix() for p in dvcdata.dvc_files(edition)]
    targets += [f"{stage.name}@{edition.name}" for stage in edition.stages]
    result = dvcdata.dvc(root, "push", *targets, check=False)
    if result.returncode != 0:
        detail = ((result.stderr or "") + (result.stdout or "")).strip().splitlines()
        raise StagescoError(f"L'envoi vers le dépôt DVC « {remote} » a échoué : {detail[-1] if detail else 'sans message'}",
                            hint="Vérifiez que le dépôt est accessible (dvc remote list ; dvc push -v pour les détails)")
    said = (result.stdout or "").strip().splitlines()
    log(f"  Dépôt DVC « {remote} » : {said[-1] if said else 'à jour'}")
    return targets


def write_history(edition: Edition) -> Path:
    return history.write(edition)


def write_manifest(edition: Edition, commit: str) -> Path:
    path = manifest_path(edition.root, edition.name)
    atomic.write_json(path, build_manifest(edition, commit))
    return path


def commit_and_tag(edition: Edition, paths: list[Path], *, force: bool = False) -> str:
    root = edition.root
    rels = [Path(p).relative_to(root).as_posix() for p in paths]
    git(root, "add", "--", *rels)
    if git(root, "diff", "--cached", "--quiet", "--", *rels, check=False).returncode != 0:
        git(root, "commit", "-q", "-m", f"Freeze edition {edition.name}", "--", *rels)
    tag = tag_name(edition.name)
    git(root, "tag", *(["-f"] if force else []), tag)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def freeze(name: str, root: Path, pending: Callable[[Edition], list[str]], *, force: bool = False, log=print) -> dict:
    """Run the steps; return what was recorded (commit, freeze commit, tag, counts)."""
    edition = Edition.load(name, root)
    commit = check_ready(edition, pending, force=force, log=log)
    check_history(edition)
    push(edition, log=log)
    written = [write_history(edition), write_manifest(edition, commit)]
    frozen = commit_and_tag(edition, written, force=force)
    manifest = json.loads(written[1].read_text(encoding="utf-8"))
    return {"commit": commit, "freeze_commit": frozen, "tag": tag_name(name),
            "inputs": len(manifest["inputs"]), "outputs": len(manifest["outputs"])}
