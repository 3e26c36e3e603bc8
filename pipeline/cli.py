"""``stagesco``: the analyst's command line (French messages, one line per failure)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import traceback
from pathlib import Path

from .core.config import Edition, Params
from .core.errors import StagescoError
from .core.paths import project_root, relative


def _dvc(args: list[str], root: Path) -> int:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.call([sys.executable, "-m", "dvc", *args], cwd=root, env=env)


def cmd_run(args) -> int:
    root = project_root()
    params = Params.load(root)
    editions = [args.edition] if args.edition else list(params.editions)
    stages = list(params.stages.values())
    if args.stage:
        first = params.stage(args.stage).number
        stages = [s for s in stages if s.number >= first]
    failed = False
    for name in editions:
        edition = Edition.load(name, root)
        targets, waiting = [], []
        for stage in stages:
            missing = [p for p in edition.stage_inputs(stage) if not p.exists()]
            if missing or waiting:
                waiting.append((stage, missing))
            else:
                targets.append(f"{stage.name}@{name}")
        print(f"Édition {name} : {len(targets)} étape(s) à jour ou à exécuter, {len(waiting)} en attente.")
        if targets:
            code = _dvc(["repro", *(["--force"] if args.force else []), *targets], root)
            if code != 0:
                print(f"Erreur : l'exécution du pipeline de l'édition {name} a échoué (voir le message ci-dessus).",
                      file=sys.stderr)
                failed = True
                continue
        for stage, missing in waiting:
            what = ", ".join(relative(p, root) for p in missing) or "l'étape précédente"
            print(f"  en attente : {stage.number:02d} {stage.label} — il manque {what}")
        for target in targets:
            stage = params.stage(target.split("@")[0])
            print(f"  rapport : {relative(edition.outputs / stage.folder / 'report.html', root)}")
    return 2 if failed else 0


def cmd_run_stage(args) -> int:
    from .core.runner import run_stage

    run_stage(args.stage, args.edition)
    return 0


def cmd_new_edition(args) -> int:
    from .core.editions import new_edition

    created = new_edition(args.name, args.source, with_data=args.with_data)
    print(f"Édition {args.name} créée dans {relative(created)} et ajoutée à params.yaml.")
    print("Déposez-y les exports, vérifiez edition.yaml (dates, seuils) et mapping.yaml (libellés des colonnes), "
          "puis lancez « stagesco run " + args.name + " ».")
    return 0


def cmd_send(args) -> int:
    from .core.mail import send_outbox
    from .core.paths import state_dir

    root = project_root()
    edition = Edition.load(args.edition, root)
    outbox = Path(args.outbox)
    if not outbox.is_absolute():
        candidate = edition.outputs / args.outbox
        outbox = candidate if candidate.is_dir() else root / args.outbox
    send_outbox(outbox, state_dir(args.edition, root) / "mail", really=args.send)
    return 0


def cmd_kernel(args) -> int:
    from .core.kernel import ensure_kernel

    print(f"Noyau Jupyter du projet : {ensure_kernel()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stagesco", description="Pipeline des stages collectifs.")
    parser.add_argument("--debug", action="store_true", help="afficher les détails techniques des erreurs")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="exécuter le pipeline (étapes dont les fichiers sont présents)")
    run.add_argument("edition", nargs="?", help="une seule édition (par défaut : toutes)")
    run.add_argument("--stage", help="à partir de cette étape (et les suivantes)")
    run.add_argument("--force", action="store_true", help="ré-exécuter même si rien n'a changé")
    run.set_defaults(func=cmd_run)
    stage = sub.add_parser("run-stage", help="exécuter une étape (appelé par DVC)")
    stage.add_argument("stage")
    stage.add_argument("edition")
    stage.set_defaults(func=cmd_run_stage)
    new = sub.add_parser("new-edition", help="créer une édition à partir d'une autre")
    new.add_argument("name")
    new.add_argument("--from", dest="source", required=True, help="édition dont reprendre la configuration")
    new.add_argument("--with-data", action="store_true", help="copier aussi ses exports (tests, répétitions)")
    new.set_defaults(func=cmd_new_edition)
    send = sub.add_parser("send", help="envoyer les brouillons d'un dossier outbox (simulation par défaut)")
    send.add_argument("edition")
    send.add_argument("outbox", help="dossier des brouillons, par exemple commission/outbox")
    send.add_argument("--envoyer", dest="send", action="store_true",
                      help="envoyer réellement (serveur dans STAGESCO_SMTP_HOST…) ; jamais deux fois le même")
    send.set_defaults(func=cmd_send)
    kernel = sub.add_parser("kernel", help="enregistrer le noyau Jupyter du projet dans son environnement")
    kernel.set_defaults(func=cmd_kernel)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StagescoError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
