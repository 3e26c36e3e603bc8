"""``stagesco``: the analyst's command line (French messages, one line per failure)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from .contract.config import Edition, Params
from .contract.errors import StagescoError
from .io import fr
from .contract.paths import project_root, relative
from .contract.run import guarded, run_recorded


def _dvc(args: list[str], root: Path) -> int:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.call([sys.executable, "-m", "dvc", *args], cwd=root, env=env)


def cmd_run(args) -> int:
    from .cockpit.status import edition_status, exit_code

    root = project_root()
    _refresh_dvc_yaml(root)
    params = Params.load(root)
    editions = [args.edition] if args.edition else list(params.editions)
    first = params.stage(args.stage).number if args.stage else 0
    worst = 0
    for name in editions:
        edition = Edition.load(name, root)
        _track_new_files(edition)
        targets = []
        for stage in [s for s in edition.stages if s.number >= first]:  # the stages this edition uses
            if any(not p.exists() for p in edition.stage_inputs(stage)):
                break
            targets.append(f"{stage.name}@{name}")
        print(f"Édition {name} : {fr.count(len(targets), 'étape')} à vérifier ou exécuter.")
        if targets:
            quiet = [] if args.debug else ["--quiet"]
            # --force re-runs the listed stages only (--single-item), not everything upstream of them:
            # `--stage quality --force` re-runs quality, not the whole edition.
            force = ["--force", "--single-item"] if args.force else []
            code = _dvc(["repro", *quiet, *force, *(targets if args.force else _repro_targets(edition, targets))], root)
        else:
            code = 0
        statuses = edition_status(edition, just_reproduced=frozenset(targets) if code == 0 else frozenset())
        print_stages(edition, statuses, details_when_done=False, debug=args.debug)
        for status in statuses:
            report = edition.outputs / status.stage.folder / "report.html"
            if status.state == "done" and report.exists():
                print(f"  rapport : {relative(report, root)}")
        if code != 0 and exit_code(statuses) != 2:
            print("  DVC s'est arrêté avant d'exécuter les étapes (voir le message ci-dessus) ; relancez avec --debug "
                  "pour le détail.")
            worst = 2
        worst = max(worst, 2 if exit_code(statuses) == 2 else 0)
    return worst


def _repro_targets(edition, targets: list[str]) -> list[str]:
    """The targets no other target reads (``reads`` of the stage table, DVC's edges): ``dvc repro`` of them
    runs the others first, as it would if they were listed. DVC parses dvc.lock again for each target it is
    given: nine targets take 12 s to find nothing to do, the last one 3.5 s. Every stage of the edition is
    asked for with one pattern (``--glob '*@demo'``: a name ends with its edition, so ``demo`` does not match
    ``demo-cnam``'s stages)."""
    listed = [s for s in edition.stages if f"{s.name}@{edition.name}" in targets]
    if len(listed) == len(edition.stages):  # the whole edition: one pattern, one parse of dvc.lock
        return ["--glob", f"*@{edition.name}"]
    read = {rel.split("/", 1)[0] for s in listed for rel in s.reads}
    return [f"{s.name}@{edition.name}" for s in listed if s.folder not in read]


def attention_count(folder: Path) -> int:
    """How many points of attention a stage's last run wrote (its ``warnings.json``; 0 when it has none)."""
    try:
        return len(json.loads((folder / "warnings.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return 0


def print_stages(edition, statuses, *, details_when_done: bool, debug: bool = False) -> None:
    """Each stage's state (a failed stage's problems one per line), the next action, and the home page."""
    from .cockpit.home import write_index
    from .cockpit.status import LABELS, next_action

    for status in statuses:
        detail = f" — {status.detail}" if status.detail and (details_when_done or status.state != "done") else ""
        if status.state == "done" and (said := attention_count(edition.outputs / status.stage.folder)):
            detail += f"{' ;' if detail else ' —'} {fr.count(said, 'point')} d'attention (voir le tableau de bord)"
        print(f"  {status.stage.number:02d} {status.stage.label} : {LABELS[status.state]}{detail}")
        for problem in status.problems:
            print(f"      - {problem}")
        if debug and status.changed_files:
            print(f"      (DVC : {status.changed_files})")
    print(f"  Prochaine action : {next_action(statuses)}")
    print(f"  Tableau de bord : {relative(write_index(edition, statuses), edition.root)}")


def _refresh_dvc_yaml(root: Path) -> None:
    """dvc.yaml follows params.yaml (editions, stage table) and history/: regenerate it when they changed."""
    from .repro import dvcgen

    if dvcgen.refresh(root):
        print("dvc.yaml régénéré (nouvelle édition, étape ou agrégats d'une édition close) : committez-le avec "
              "params.yaml.")


def _track_new_files(edition) -> None:
    """A real edition's new data files go under DVC (git ignores them) before they are used."""
    from .repro import dvcdata

    if not dvcdata.is_synthetic(edition.params, edition.name) and dvcdata.untracked(edition):
        tracked = dvcdata.track(edition)
        print(f"Édition {edition.name} : données suivies par DVC ({', '.join(p.name for p in tracked)}) ; "
              f"enregistrez les fichiers .dvc dans git (git add inputs/{edition.name})")


def cmd_status(args) -> int:
    from .cockpit.status import edition_status, exit_code

    root = project_root()
    params = Params.load(root)
    worst = 0
    for name in ([args.edition] if args.edition else list(params.editions)):
        edition = Edition.load(name, root)
        statuses = edition_status(edition)
        print(f"Édition {name} ({edition.title})")
        print_stages(edition, statuses, details_when_done=True, debug=args.debug)
        worst = max(worst, exit_code(statuses))
    return worst


def cmd_run_stage(args) -> int:
    run_recorded(args.stage, args.edition)
    return 0


def cmd_new_edition(args) -> int:
    from .repro.editions import new_edition

    created, to_check = new_edition(args.name, args.source, with_data=args.with_data, year=args.annee)
    _refresh_dvc_yaml(project_root())
    print(f"Édition {args.name} créée dans {relative(created)} et ajoutée à params.yaml.")
    if args.annee is not None:
        print(f"Calendrier avancé à {args.annee}, nouveaux tirages au sort. À vérifier dans edition.yaml :")
        for line in to_check:
            print(f"  - {line}")
    print(f"Ses données sont suivies par DVC, jamais par git (clé des pseudonymes : {relative(created)}/cle_pseudonymes.txt) ; "
          f"enregistrez la configuration et les fichiers .dvc : git add {relative(created)} params.yaml && git commit")
    print("Déposez-y les exports, vérifiez edition.yaml (dates, seuils) et mapping.yaml (libellés des colonnes), "
          "puis lancez « stagesco run " + args.name + " ».")
    return 0


def cmd_track(args) -> int:
    from .repro import dvcdata

    root = project_root()
    edition = Edition.load(args.edition, root)
    if dvcdata.is_synthetic(edition.params, edition.name):
        print(f"L'édition {args.edition} est synthétique : ses fichiers restent dans git, rien à suivre par DVC.")
        return 0
    tracked = dvcdata.track(edition)
    for path in tracked:
        print(f"  suivi par DVC : {relative(path, root)}{'/' if path.is_dir() else ''}")
    print(f"{fr.count(len(tracked), 'entrée suivie', 'entrées suivies')} par DVC. Enregistrez les fichiers .dvc dans git : "
          f"git add inputs/{args.edition} && git commit -m \"Données de l'édition {args.edition}\"")
    return 0


def cmd_freeze(args) -> int:
    from .cockpit.status import not_up_to_date
    from .repro.freeze import freeze

    print(f"Édition {args.edition} : figement…")
    done = freeze(args.edition, project_root(), not_up_to_date, force=args.force)
    print(f"  Manifeste : manifests/{args.edition}.json ({done['inputs']} fichiers d'entrée, "
          f"{done['outputs']} résultats, commit {done['commit'][:12]})")
    print(f"  Agrégats : history/{args.edition}.json")
    print(f"Édition {args.edition} figée : commit {done['freeze_commit'][:12]}, étiquette {done['tag']}. "
          f"Partagez-la avec « git push --tags » ; vérifiez-la avec « stagesco verify {args.edition} ».")
    return 0


def cmd_verify(args) -> int:
    from .repro.verify import report, verify

    result = verify(args.edition, project_root(), rev=args.rev, keep=args.keep)
    return report(result)


def cmd_purge(args) -> int:
    from datetime import date

    from .repro.purge import purge

    today = None
    if args.date:
        try:
            today = date.fromisoformat(args.date)
        except ValueError:
            raise StagescoError(f"Date « {args.date} » illisible", hint="Écrivez-la au format AAAA-MM-JJ")
    record = purge(args.edition, project_root(), today=today, force=args.force)
    print(f"Édition {args.edition} : données personnelles supprimées.")
    for path in record["removed"]:
        print(f"  supprimé : {path}")
    objects = record["dvc_objects_removed"]
    print(f"  supprimé du cache DVC local : {fr.count(objects['cache'], 'objet')} ; du dépôt DVC : "
          + (fr.count(objects['remote'], 'objet') if record["remote_is_local"] else
             "rien (dépôt distant : supprimez-y les données de l'édition vous-même)"))
    print("  conservé : " + ", ".join(record["kept"]) + f" ; compte rendu : manifests/{args.edition}.purge.json")
    print(f"Enregistrez la purge dans git : git add -A params.yaml inputs/{args.edition} manifests && "
          f"git commit -m \"Purge edition {args.edition}\"")
    return 0


def cmd_send(args) -> int:
    from .io.mail import send_outbox
    from .contract.paths import state_dir

    root = project_root()
    edition = Edition.load(args.edition, root)
    outbox = Path(args.outbox)
    if not outbox.is_absolute():
        candidate = edition.outputs / args.outbox
        outbox = candidate if candidate.is_dir() else root / args.outbox
    send_outbox(outbox, state_dir(args.edition, root) / "mail", really=args.send)
    return 0


def cmd_assign(args) -> int:
    from .contract.stage import read_output
    from .stages.assignment import what_if

    edition = Edition.load(args.edition, project_root())
    lines = what_if(edition, args.set or [], read_output(edition, "commission/projets_retenus.parquet"),
                    read_output(edition, "applications/promotion.parquet"),
                    read_output(edition, "applications/candidatures.parquet"),
                    read_output(edition, "assignment/affectations.parquet"))
    print("Simulation (rien n'est écrit) :")
    print("\n".join(lines))
    return 0


def cmd_session(args) -> int:
    from .session.server import serve

    return serve(Edition.load(args.edition, project_root()), port=args.port, show_names=args.names)


def cmd_kernel(args) -> int:
    from .contract.kernel import ensure_kernel

    print(f"Noyau Jupyter du projet : {ensure_kernel()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stagesco", description="Pipeline des stages collectifs.")
    parser.add_argument("--debug", action="store_true", help="afficher les détails techniques des erreurs")
    sub = parser.add_subparsers(dest="command", required=True)
    status = sub.add_parser("status", help="où en est l'édition, et la prochaine action")
    status.add_argument("edition", nargs="?", help="une seule édition (par défaut : toutes)")
    status.set_defaults(func=cmd_status)
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
    new.add_argument("--annee", type=int, help="année de la nouvelle édition : avance le calendrier, le titre et "
                                               "tire de nouvelles graines")
    new.set_defaults(func=cmd_new_edition)
    track = sub.add_parser("track", help="suivre par DVC les données d'une édition réelle (jamais dans git)")
    track.add_argument("edition")
    track.set_defaults(func=cmd_track)
    freeze = sub.add_parser("freeze", help="figer une édition : manifeste, agrégats, envoi au dépôt DVC, étiquette git")
    freeze.add_argument("edition")
    freeze.add_argument("--force", action="store_true", help="figer de nouveau une édition déjà figée")
    freeze.set_defaults(func=cmd_freeze)
    verify = sub.add_parser("verify", help="reproduire une édition figée depuis zéro et comparer ses résultats")
    verify.add_argument("edition")
    verify.add_argument("--rev", help="révision à vérifier (étiquette ou commit ; par défaut : celle du manifeste)")
    verify.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    verify.set_defaults(func=cmd_verify)
    purge = sub.add_parser("purge", help="supprimer les données personnelles d'une édition après sa durée de conservation")
    purge.add_argument("edition")
    purge.add_argument("--date", help="date du jour à considérer (AAAA-MM-JJ ; par défaut : aujourd'hui)")
    purge.add_argument("--force", action="store_true",
                       help="purger avant la date, sans figement préalable, ou une édition synthétique")
    purge.set_defaults(func=cmd_purge)
    send = sub.add_parser("send", help="envoyer les brouillons d'un dossier outbox (simulation par défaut)")
    send.add_argument("edition")
    send.add_argument("outbox", help="dossier des brouillons, par exemple commission/outbox")
    send.add_argument("--envoyer", dest="send", action="store_true",
                      help="envoyer réellement (serveur dans STAGESCO_SMTP_HOST…) ; jamais deux fois le même")
    send.set_defaults(func=cmd_send)
    assign = sub.add_parser("assign", help="simuler l'affectation avec d'autres effectifs (n'écrit rien)")
    assign.add_argument("edition")
    assign.add_argument("--set", action="append", metavar="PROJET.max=N", help="par exemple P7KQ2.max=10 (répétable)")
    assign.set_defaults(func=cmd_assign)
    session = sub.add_parser("session", help="ouvrir la séance de la commission (page locale : essayer, adopter, annuler)")
    session.add_argument("edition")
    session.add_argument("--port", type=int, help="port local (par défaut : un port libre)")
    session.add_argument("--noms", dest="names", action="store_true",
                         help="afficher les noms des apprenants (par défaut : pseudonymes)")
    session.set_defaults(func=cmd_session)
    kernel = sub.add_parser("kernel", help="enregistrer le noyau Jupyter du projet dans son environnement")
    kernel.set_defaults(func=cmd_kernel)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(lambda: args.func(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
