"""Where an edition stands: per stage done / stale / waiting / failed, and the next human action.

Used by ``stagesco status`` and the edition's home page. Reads DVC's own status (``dvc status --json``)
for the stages whose files are present, and the runner's last-failure records under ``state/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..contract.config import Edition, StageSpec
from ..contract.paths import relative
from ..contract.run import failure_file, previous_dir
from . import reasons

DONE, STALE, WAITING, FAILED = "done", "stale", "waiting", "failed"
LABELS = {DONE: "à jour", STALE: "à relancer", WAITING: "en attente d'un fichier", FAILED: "en échec"}


@dataclass
class StageStatus:
    stage: StageSpec
    state: str
    detail: str = ""
    action: str = ""
    metrics: dict = field(default_factory=dict)
    missing: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # a failed stage's individual problems, one line each
    changed_files: str = ""  # DVC's own list of what changed (``--debug`` only: never on the page)
    previous: list[str] = field(default_factory=list)  # a failed stage's last good report and workbooks (« périmé »)

    @property
    def label(self) -> str:
        return LABELS[self.state]


def dvc_status(root: Path, targets: list[str]) -> dict:
    """DVC's status of ``targets`` (the changed ones only). DVC parses dvc.lock again for each target it is
    given (1.2 s each with four editions), so beyond two targets it is asked about every stage at once
    (one parse, 4 s) and the answer is cut down to the targets."""
    if not targets:
        return {}
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    asked = targets if len(targets) <= 2 else []
    result = subprocess.run([sys.executable, "-m", "dvc", "status", "--json", *asked], cwd=root, env=env,
                            capture_output=True, text=True)
    try:
        found = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        return {}
    return {target: changes for target, changes in found.items() if target in targets}


def _changes(entries: list) -> str:
    """DVC's changed deps/outs of one stage, in French."""
    parts = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for kind, changes in entry.items():
            for path, what in (changes or {}).items():
                if isinstance(what, dict):
                    keys = ", ".join(sorted(what))
                    parts.append(f"réglages {keys} de {path}")
                elif kind == "changed outs":
                    parts.append(f"résultat {path} {'absent' if what == 'deleted' else 'modifié'}")
                else:
                    parts.append(f"{path} {'nouveau' if what == 'new' else 'absent' if what == 'deleted' else 'modifié'}")
    return "; ".join(parts)


def namesake(path: Path) -> str:
    """« (un fichier X.xlsx est là : … ) » when the folder holds the expected file under another extension (an
    export saved as a workbook instead of a CSV, or the other way round): the likely slip behind a missing
    file."""
    others = sorted(p.name for p in path.parent.glob(path.stem + ".*") if p.is_file() and p.name != path.name)
    if not others:
        return ""
    return (f" (le dossier contient {', '.join(f'« {o} »' for o in others)} : enregistrez-le au format de "
            f"« {path.name} » sous ce nom, ou déclarez son nom dans params.yaml, editions.{path.parent.name}.files)")


def edition_status(edition: Edition, *, just_reproduced: frozenset[str] = frozenset()) -> list[StageStatus]:
    """Each stage's state. ``just_reproduced``: ``<stage>@<edition>`` targets a ``dvc repro`` has just
    brought up to date (exit code 0), whose DVC status need not be asked again (it is the slow part)."""
    params = edition.params
    files = params.data.get("input_files") or {}
    statuses: list[StageStatus] = []
    ready = []
    blocked = False
    for stage in edition.stages:
        missing = [p for p in edition.stage_inputs(stage) if not p.exists()]
        if blocked or missing:
            status = StageStatus(stage, WAITING, missing=missing)
            if missing:
                key = next((k for k, v in params.edition_files(edition.name).items() if edition.inputs / v == missing[0]), "")
                info = files.get(key, {})
                where = relative(missing[0], edition.root)
                source = f" (à partir de outputs/{edition.name}/{info['from']})" if info.get("from") else ""
                status.detail = f"il manque {where} — {info.get('label', key)}" + namesake(missing[0])
                status.action = f"{info.get('who', 'Quelqu’un')} {info.get('action', 'doit fournir')} " \
                                f"{missing[0].name}{source} puis l'enregistrer dans inputs/{edition.name}/."
            else:
                status.detail = "attend l'étape précédente"
            blocked = True
        else:
            status = StageStatus(stage, DONE)
            ready.append(status)
        statuses.append(status)
    dvc = dvc_status(edition.root, [target for s in ready
                                    if (target := f"{s.stage.name}@{edition.name}") not in just_reproduced])
    lock = reasons.read_lock(edition.root)
    for status in ready:
        target = f"{status.stage.name}@{edition.name}"
        fail = failure_file(edition.root, edition.name, status.stage)
        metrics_path = edition.outputs / status.stage.folder / "metrics.json"
        changed = target in dvc or not metrics_path.exists()
        if fail.exists() and not changed:  # its inputs are back as at its last good run, whose outputs are in
            fail.unlink()                   # place: that failure no longer applies
            shutil.rmtree(previous_dir(edition.root, edition.name, status.stage), ignore_errors=True)
        if fail.exists():
            record = json.loads(fail.read_text(encoding="utf-8"))
            status.state, status.detail = FAILED, record.get("message", "")
            status.problems = list(record.get("problems") or [])
            status.previous = [p for p in record.get("previous") or [] if (edition.root / p).is_file()]
            said = str(record.get("message", "")).rstrip()
            said += "" if said.endswith((".", "!", "?")) else "."
            status.action = f"Corrigez : {said} Puis relancez « stagesco run {edition.name} »."
        elif changed:
            status.state = STALE
            status.detail = (reasons.describe(edition, target, dvc.get(target, []), lock)
                             or ("un résultat manque" if target in lock else "jamais exécutée"))
            status.changed_files = _changes(dvc.get(target, []))
            status.action = f"Relancez « stagesco run {edition.name} » pour mettre à jour l'étape {status.stage.label}."
        if metrics_path.exists():
            status.metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        if status.state == DONE and (without := edition.missing_optional(status.stage)):
            status.detail = "sans " + ", ".join(files.get(key, {}).get("label", key) for key in without) + " (facultatif)"
    _behind_upstream(statuses, edition)
    return statuses


def _behind_upstream(statuses: list[StageStatus], edition: Edition) -> None:
    """A stage whose upstream (the stages whose outputs it reads, transitively) failed or must be re-run is
    never « à jour »: it waits for that stage, named with its state; one to re-run anyway says first that it
    waits for a failed stage (its own reason, new results upstream, would not be the next thing to do)."""
    by_name = {s.stage.name: s for s in statuses}
    for status in statuses:
        if status.state not in (DONE, STALE):
            continue
        upstream = {rel.split("/", 1)[0] for rel in status.stage.reads} & set(by_name)
        wait_for = (FAILED, STALE) if status.state == DONE else (FAILED,)
        behind = sorted((by_name[name] for name in upstream if by_name[name].state in wait_for),
                        key=lambda s: s.stage.number)
        if behind:
            first = behind[0]
            status.state = STALE
            status.detail = f"attend l'étape {first.stage.number:02d} ({LABELS[first.state]})"
            status.action = f"Relancez « stagesco run {edition.name} » une fois l'étape {first.stage.label} corrigée."


def not_up_to_date(edition: Edition) -> list[str]:
    """One French line per stage that is not up to date (what ``stagesco freeze`` refuses to freeze)."""
    return [f"{s.stage.number:02d} {s.stage.label} : {LABELS[s.state]}" + (f" ({s.detail})" if s.detail else "")
            for s in edition_status(edition) if s.state != DONE]


def next_action(statuses: list[StageStatus]) -> str:
    for status in statuses:
        if status.state != DONE and status.action:
            return status.action
    return "Toutes les étapes sont à jour : rien à faire."


def exit_code(statuses: list[StageStatus]) -> int:
    if any(s.state == FAILED for s in statuses):
        return 2
    return 0 if all(s.state == DONE for s in statuses) else 1
