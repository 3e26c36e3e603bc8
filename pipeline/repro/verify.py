"""``stagesco verify <edition> [--rev …]``: reproduce a frozen edition from scratch and compare.

In a temporary clean checkout of the revision (by default the commit recorded in the edition's manifest),
with the environment of *that* revision's ``uv.lock`` (the current ``.venv`` when the lock is the same
byte for byte, else one built once under ``~/.cache/stagesco/venvs/<sha256 of the lock>``) and importing
*that* revision's ``pipeline/`` (checked, in the interpreter and in the Jupyter kernel the stages run on):
pull the edition's inputs from the DVC remote, fetch the recorded outputs, re-run every stage of the
edition (``dvc repro --force --no-run-cache``), and compare each output with the manifest's hashes. A
differing output is explained (workbook cells, table rows, JSON keys) against the recorded version found
in the DVC caches or the remote. The checkout is removed afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


from . import compare, dvcdata
from ..contract.errors import ConfigError, StagescoError
from ..io import fr
from .freeze import digests, git, load_manifest
from ..contract.config import parse_yaml

VENV_CACHE = Path(os.environ.get("STAGESCO_VENV_CACHE", "~/.cache/stagesco/venvs")).expanduser()
KERNEL_CHECK = """\
import sys
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="stagesco", cwd=sys.argv[1])
out = []
def hook(msg):
    if msg["msg_type"] == "stream":
        out.append(msg["content"]["text"])
try:
    kc.execute_interactive("import pipeline; print(pipeline.__file__)", output_hook=hook, timeout=120)
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print("".join(out).strip())
"""


@dataclass
class Result:
    rev: str
    identical: list[str] = field(default_factory=list)
    different: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.different


def resolve(root: Path, rev: str) -> str:
    result = git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if result.returncode != 0:
        raise ConfigError(f"Révision « {rev} » introuvable dans ce dépôt git",
                          hint="Donnez une étiquette (edition-<nom>), un commit, ou récupérez-la : git fetch --tags")
    return result.stdout.strip()


def environment(checkout: Path, root: Path, log=print) -> Path:
    """The Python of the environment locked by the checkout's ``uv.lock``."""
    lock = (checkout / "uv.lock").read_bytes()
    current = root / "uv.lock"
    if current.is_file() and current.read_bytes() == lock:
        return Path(sys.executable)
    digest = hashlib.sha256(lock).hexdigest()
    venv = VENV_CACHE / digest[:16]
    python = venv / "bin" / "python"
    stamp = venv / ".stagesco-complete"
    if not stamp.exists():
        log(f"  Environnement de cette révision (uv.lock différent) : construction dans {venv}…")
        uv = Path(sys.executable).parent / "uv"
        if not uv.exists():
            raise StagescoError("uv est introuvable dans l'environnement courant",
                                hint="Lancez « make setup » pour l'installer (il construit l'environnement d'une autre révision)")
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
        result = subprocess.run([str(uv), "sync", "--frozen", "--no-install-project", "--compile-bytecode",
                                 "--python", sys.executable],
                                cwd=checkout, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise StagescoError("L'environnement de cette révision n'a pas pu être installé depuis son uv.lock : "
                                + ((result.stderr or "").strip().splitlines() or ["sans message"])[-1],
                                hint="Vérifiez l'accès à l'index des paquets, ou donnez une révision au même uv.lock")
        stamp.write_text(digest + "\n", encoding="utf-8")
    return python


def checkout_env(checkout: Path, python: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("STAGESCO_ROOT", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = str(python.parent) + os.pathsep + os.environ.get("PATH", "")
    env["PYTHONPATH"] = str(checkout)
    return env


def check_code(checkout: Path, python: Path, env: dict) -> None:
    """The interpreter and the Jupyter kernel import the checkout's ``pipeline/``, not another copy."""
    subprocess.run([str(python), "-m", "pipeline.cli", "kernel"], cwd=checkout, env=env, capture_output=True, check=False)
    expected = (checkout / "pipeline" / "__init__.py").resolve()
    for what, args in (("l'interpréteur", ["-c", "import pipeline; print(pipeline.__file__)"]),
                       ("le noyau Jupyter des étapes", ["-c", KERNEL_CHECK, str(checkout)])):
        result = subprocess.run([str(python), *args], cwd=checkout, env=env, capture_output=True, text=True)
        lines = (result.stdout or "").strip().splitlines()
        found = Path(lines[-1]).resolve() if result.returncode == 0 and lines else None
        if found != expected:
            raise StagescoError(f"Vérification impossible : {what} n'importe pas le code de la révision "
                                f"(pipeline importé : {found or 'aucun'})",
                                hint="Réinstallez l'environnement (make setup) et relancez")


def recorded_copy(md5: str, bases: list[Path]) -> Path | None:
    for base in bases:
        path = dvcdata.object_path(base, md5)
        if path.is_file():
            return path
    return None


def compare_outputs(manifest: dict, checkout: Path, bases: list[Path], edition: str) -> Result:
    result = Result(rev="")
    produced = {}
    outputs = checkout / "outputs" / edition
    recorded_stages = {Path(rel).parts[2] for rel in manifest["outputs"]}
    for folder in sorted(p for p in outputs.iterdir() if p.is_dir()) if outputs.is_dir() else []:
        if folder.name in recorded_stages:
            produced.update({p.relative_to(checkout).as_posix(): p for p in folder.rglob("*") if p.is_file()})
    missing_stages = {stage for stage in recorded_stages if not (outputs / stage).is_dir()}
    for stage in sorted(missing_stages):
        count = sum(1 for rel in manifest["outputs"] if Path(rel).parts[2] == stage)
        result.different[f"outputs/{edition}/{stage}/"] = [
            f"étape non reproduite : aucun de ses {count} résultats n'a été produit (voir l'échec ci-dessus)"]
    for rel, recorded in sorted(manifest["outputs"].items()):
        if Path(rel).parts[2] in missing_stages:
            continue
        now = produced.pop(rel, None)
        if now is None:
            result.different[rel] = ["absent après la ré-exécution"]
            continue
        if digests(now)["sha256"] == recorded["sha256"]:
            result.identical.append(rel)
            continue
        if rel in manifest.get("metrics", {}):
            lines = compare.json_values(manifest["metrics"][rel], json.loads(now.read_text(encoding="utf-8")))
        else:
            copy = recorded_copy(recorded.get("md5", ""), bases)
            if copy is None:
                lines = ["contenu différent ; la version enregistrée est indisponible (ni dans le dépôt DVC ni "
                         "dans le cache local) : seule l'empreinte SHA-256 peut être comparée"]
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    named = Path(tmp) / f"enregistre{now.suffix}"
                    shutil.copyfile(copy, named)
                    lines = compare.differences(named, now)
        result.different[rel] = lines or ["contenu différent"]
    for rel in sorted(produced):
        result.different[rel] = ["nouveau fichier, absent du manifeste"]
    return result


def verify(edition: str, root: Path, *, rev: str | None = None, log=print, keep: bool = False) -> Result:
    manifest = load_manifest(root, edition)
    sha = resolve(root, rev or manifest["commit"])
    tmp = Path(tempfile.mkdtemp(prefix="stagesco-verify-"))
    checkout = tmp / "depot"
    log(f"Vérification de l'édition {edition} à la révision {sha[:12]} (copie propre temporaire)")
    try:
        git(root, "worktree", "add", "--detach", "-q", str(checkout), sha)
        local_config = root / ".dvc" / "config.local"
        if local_config.is_file():
            shutil.copy2(local_config, checkout / ".dvc" / "config.local")
        python = environment(checkout, root, log=log)
        env = checkout_env(checkout, python)
        check_code(checkout, python, env)
        run = lambda *args, **kw: subprocess.run([str(python), "-m", "dvc", *args], cwd=checkout, env=env,  # noqa: E731
                                                 text=True, **kw)
        inputs = sorted((checkout / "inputs" / edition).glob("*.dvc"))
        if inputs:
            pulled = run("pull", "-q", *[p.relative_to(checkout).as_posix() for p in inputs], capture_output=True)
            if pulled.returncode != 0:
                raise StagescoError(f"Les données de l'édition « {edition} » n'ont pas pu être récupérées du dépôt DVC : "
                                    + ((pulled.stderr or "").strip().splitlines() or ["sans message"])[-1],
                                    hint="Vérifiez le dépôt DVC (dvc remote list) et qu'il a bien reçu l'édition "
                                         "(stagesco freeze l'y envoie)")
            log(f"  Données récupérées du dépôt DVC : {fr.count(len(inputs), 'entrée')}")
        if not (checkout / "params.yaml").is_file() or edition not in (checkout / "params.yaml").read_text(encoding="utf-8"):
            raise ConfigError(f"L'édition « {edition} » n'existe pas à la révision {sha[:12]}", file="params.yaml")
        stages = _stages(checkout, edition)
        run("fetch", "-q", *stages, capture_output=True)  # the recorded outputs, to explain differences
        log(f"  Ré-exécution de {fr.count(len(stages), 'étape')} depuis zéro…")
        done = run("repro", "--force", "--no-run-cache", *stages, capture_output=True)
        if done.returncode != 0:
            log(f"  La ré-exécution a échoué : {_failure(done.stderr or '', done.stdout or '')}")
        bases = [dvcdata.cache_dir(checkout), dvcdata.cache_dir(root)]
        remote = dvcdata.remote_path(root)
        if remote:
            bases.append(remote)
        result = compare_outputs(manifest, checkout, bases, edition)
        result.rev = sha
        return result
    finally:
        if not keep:
            git(root, "worktree", "remove", "--force", str(checkout), check=False)
            shutil.rmtree(tmp, ignore_errors=True)
            git(root, "worktree", "prune", check=False)


def _failure(stderr: str, stdout: str) -> str:
    """The stage's own French message if there is one, else DVC's last error line."""
    lines = [line.strip() for line in (stderr + "\n" + stdout).splitlines() if line.strip()]
    for prefix in ("Erreur", "ERROR"):
        found = [line for line in lines if line.startswith(prefix)]
        if found:
            return found[0]
    return lines[-1] if lines else "sans message"


def _stages(checkout: Path, edition: str) -> list[str]:
    """``<stage>@<edition>`` for every stage of the checkout's stage table the edition uses (``stages:`` of its
    edition.yaml, default all), read from its ``params.yaml``
    (never by importing the checkout's code, whose modules may be laid out differently at that revision)."""
    params = parse_yaml((checkout / "params.yaml").read_text(encoding="utf-8")) or {}
    config_file = checkout / "inputs" / edition / "edition.yaml"
    config = (parse_yaml(config_file.read_text(encoding="utf-8")) or {}) if config_file.is_file() else {}
    chosen = config.get("stages") if isinstance(config, dict) else None  # the edition's own stage list, if any
    return [f"{stage}@{edition}" for stage in (params.get("stages") or {}) if chosen is None or stage in chosen]


def report(result: Result, log=print) -> int:
    for rel in sorted(set(result.identical) | set(result.different)):
        if rel in result.different:
            log(f"  {rel} : différent")
            for line in result.different[rel]:
                log(f"      {line}")
        else:
            log(f"  {rel} : identique")
    if result.ok:
        log(f"Les {len(result.identical)} résultats sont identiques à ceux enregistrés : l'édition est reproduite.")
        return 0
    log(f"{fr.count(len(result.different), 'résultat différent', 'résultats différents')} sur "
        f"{fr.integer(len(result.identical) + len(result.different))} : "
        "l'édition n'est pas reproduite à l'identique.")
    return 1
