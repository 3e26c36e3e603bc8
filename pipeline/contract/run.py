"""``python -m pipeline.contract.run <stage> <edition>``: run one stage, as DVC does (``cmd`` of dvc.yaml).

It lives with the stage contract, not in the CLI, so that a stage depends only on the modules it really
imports: a change to ``pipeline/cli.py`` makes no stage stale. A failure leaves a record under
``state/<edition>/logs/`` (the message the cockpit shows, and the traceback); a successful run removes it.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from .config import Params, StageSpec
from .errors import StagescoError
from .paths import project_root, relative, state_dir
from .runner import run_stage

USAGE = "Usage : python -m pipeline.contract.run <étape> <édition>"


def failure_file(root: Path, edition_name: str, stage: StageSpec) -> Path:
    """Where a failed run of ``stage`` records its message (read by the cockpit)."""
    return state_dir(edition_name, root) / "logs" / f"{stage.number:02d}_{stage.name}.failed.json"


def run_recorded(stage_name: str, edition_name: str, root: Path | None = None) -> Path:
    """Run one stage; on failure write its record (message + log) and re-raise as a ``StagescoError``."""
    root = root or project_root()
    record = failure_file(root, edition_name, Params.load(root).stage(stage_name))
    record.parent.mkdir(parents=True, exist_ok=True)
    record.unlink(missing_ok=True)
    try:
        return run_stage(stage_name, edition_name, root=root)
    except Exception as exc:
        expected = isinstance(exc, StagescoError)
        message = exc.headline() if expected else f"erreur inattendue ({type(exc).__name__} : {exc})"
        log = record.with_suffix("").with_suffix(".log")
        log.write_text(traceback.format_exc(), encoding="utf-8")
        record.write_text(json.dumps({"message": message, "kind": exc.kind if expected else type(exc).__name__,
                                      "problems": exc.problems if expected else [], "log": relative(log, root)},
                                     ensure_ascii=False), encoding="utf-8")
        if not expected:
            raise StagescoError(message, hint=f"Détails techniques : {relative(log, root)}") from exc
        raise


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


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    if len(args) != 2:
        print(USAGE, file=sys.stderr)
        return 2

    def action() -> int:
        run_recorded(args[0], args[1])
        return 0

    return guarded(action, debug=debug)


if __name__ == "__main__":
    sys.exit(main())
