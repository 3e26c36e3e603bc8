"""``python -m pipeline.contract.run <stage> <edition>``: run one stage, as DVC does (``cmd`` of dvc.yaml).

It lives with the stage contract, not in the CLI, so that a stage depends only on the modules it really
imports: a change to ``pipeline/cli.py`` makes no stage stale. A failure leaves a record under
``state/<edition>/logs/`` (the message the cockpit shows, and the traceback); a successful run removes it.
"""

from __future__ import annotations

import json
import shutil
import sys
import traceback
from pathlib import Path

import yaml

from .config import Edition, Params, StageSpec
from .errors import StagescoError
from .paths import project_root, relative, state_dir
from .runner import run_stage
from .config import parse_yaml

USAGE = "Usage : python -m pipeline.contract.run <étape> <édition> [--without <fichiers optionnels absents>]"
PREVIOUS = "perime"  # state/<edition>/perime/<stage>/: the last good report and workbooks of a failed stage


def failure_file(root: Path, edition_name: str, stage: StageSpec) -> Path:
    """Where a failed run of ``stage`` records its message (read by the cockpit)."""
    return state_dir(edition_name, root) / "logs" / f"{stage.number:02d}_{stage.name}.failed.json"


def run_recorded(stage_name: str, edition_name: str, root: Path | None = None) -> Path:
    """Run one stage; on failure write its record (message + log) and re-raise as a ``StagescoError``."""
    root = root or project_root()
    record = failure_file(root, edition_name, Params.load(root).stage(stage_name))
    record.parent.mkdir(parents=True, exist_ok=True)
    record.unlink(missing_ok=True)
    stage = Params.load(root).stage(stage_name)
    shutil.rmtree(previous_dir(root, edition_name, stage), ignore_errors=True)
    try:
        return run_stage(stage_name, edition_name, root=root)
    except Exception as exc:
        expected = isinstance(exc, StagescoError)
        message = exc.headline() if expected else f"erreur inattendue ({type(exc).__name__} : {exc})"
        log = record.with_suffix("").with_suffix(".log")
        log.write_text(traceback.format_exc(), encoding="utf-8")
        record.write_text(json.dumps({"message": message, "kind": exc.kind if expected else type(exc).__name__,
                                      "problems": exc.problems if expected else [], "log": relative(log, root),
                                      "previous": keep_previous(root, edition_name, stage)},
                                     ensure_ascii=False), encoding="utf-8")
        if not expected:
            raise StagescoError(message, hint=f"Détails techniques : {relative(log, root)}") from exc
        raise


def previous_dir(root: Path, edition_name: str, stage: StageSpec) -> Path:
    return state_dir(edition_name, root) / PREVIOUS / stage.folder


def keep_previous(root: Path, edition_name: str, stage: StageSpec) -> list[str]:
    """Copy the stage's last good report and workbooks out of DVC's cache (by the hashes of ``dvc.lock``,
    which only a successful run updates: DVC removed the files themselves before this run) into
    ``state/<edition>/perime/<stage>/``, so that the home page keeps them readable, marked « périmé ».
    Returns their repository-relative paths."""
    try:
        lock = parse_yaml((root / "dvc.lock").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    entry = (lock.get("stages") or {}).get(f"{stage.name}@{edition_name}") or {}
    target = previous_dir(root, edition_name, stage)
    kept = []
    for out in entry.get("outs") or []:
        path, md5 = Path(str(out.get("path", ""))), str(out.get("md5") or "")
        cached = root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
        if path.suffix in (".html", ".xlsx") and not md5.endswith(".dir") and cached.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cached, target / path.name)
            kept.append(relative(target / path.name, root))
    return kept


def guarded(action, *, debug: bool = False) -> int:
    """Run ``action()``; an expected problem is one French line on stderr (exit 2), a bug too, with its
    traceback in ``state/logs/stagesco.log`` (``--debug`` prints it)."""
    try:
        return action()
    except StagescoError as exc:
        if debug:
            traceback.print_exc()
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one French line on screen, the traceback in a log file
        if debug:
            traceback.print_exc()
        log = Path("state") / "logs" / "stagesco.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = f" ; détails techniques dans {log}"
        except OSError:
            where = ""
        print(f"Erreur inattendue : {type(exc).__name__} : {exc}{where} (relancez avec --debug pour les voir)",
              file=sys.stderr)
        return 2


def check_without(stage_name: str, edition_name: str, without: list[str], root: Path | None = None) -> None:
    """The optional files dvc.yaml says the stage runs without (``--without``) must still be absent: one added
    since dvc.yaml was written would be read without being a dependency of the stage."""
    root = root or project_root()
    edition = Edition.load(edition_name, root)
    stage = edition.params.stage(stage_name)
    back = [key for key in without if key not in edition.stage_absent(stage)]
    if back:
        files = edition.params.edition_files(edition_name)
        raise StagescoError("dvc.yaml ne connaît pas " + ", ".join(f"« {files.get(k, k)} »" for k in back)
                            + f", ajouté depuis dans inputs/{edition_name}/",
                            hint=f"Relancez par « stagesco run {edition_name} », qui réécrit dvc.yaml "
                                 "(ou « python -m pipeline.repro.dvcgen » avant « dvc repro »)")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    without: list[str] = []
    if len(args) == 4 and args[2] == "--without":
        without, args = args[3].split(","), args[:2]
    if len(args) != 2:
        print(USAGE, file=sys.stderr)
        return 2

    def action() -> int:
        check_without(args[0], args[1], without)
        run_recorded(args[0], args[1])
        return 0

    return guarded(action, debug=debug)


if __name__ == "__main__":
    sys.exit(main())
