"""The one stage runner: papermill on the project's registered kernel, then nbconvert without code.

A stage writes into a staging folder under ``state/``; only when the notebook has run and the report
is rendered are its files moved into ``outputs/<edition>/<stage>/``. A killed stage leaves no file
there that DVC or the next stage would take as valid (DVC records nothing either).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import nbformat

from . import atomic
from .config import Edition, Params
from .errors import StagescoError
from .kernel import KERNEL_NAME, ensure_kernel
from .paths import HOME_PAGE, REPORT_CSS, TEMPLATES, project_root, relative, state_dir
from .provenance import footer_html, public_footer_html, public_pages


def notebook_parameters(path: Path) -> set[str]:
    import papermill

    return set(papermill.inspect_notebook(str(path)).keys())


def check_parameters(path: Path, parameters: dict) -> None:
    """An unknown or misspelled parameter is an error (papermill would only warn)."""
    known = notebook_parameters(path)
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise StagescoError(f"{'Paramètre inconnu' if len(unknown) == 1 else 'Paramètres inconnus'} du carnet : {', '.join(unknown)}", file=path.name,
                            hint=f"Paramètres acceptés : {', '.join(sorted(known))}")


def run_stage(stage_name: str, edition_name: str, *, root: Path | None = None, log=print) -> Path:
    """Execute one stage for one edition and publish its outputs; return the output folder."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    root = root or project_root()
    params = Params.load(root)
    stage = params.stage(stage_name)
    edition = Edition.load(edition_name, root)
    if stage.name not in {s.name for s in edition.stages}:
        raise StagescoError(f"L'édition {edition_name} n'utilise pas l'étape {stage.label}", file="edition.yaml",
                            hint=f"Étapes de l'édition (stages:) : {', '.join(s.name for s in edition.stages)}")
    stage = next(s for s in edition.stages if s.name == stage.name)  # as the edition runs it (its mode's label)
    notebook = root / edition.stage_notebook(stage)
    staging = state_dir(edition_name, root) / "staging" / stage.name
    executed = state_dir(edition_name, root) / "notebooks" / notebook.name
    target = edition.outputs / stage.folder
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    executed.parent.mkdir(parents=True, exist_ok=True)
    parameters = {"edition": edition_name, "stage_dir": relative(staging, root)}
    check_parameters(notebook, parameters)
    ensure_kernel()
    log(f"  → {stage.number:02d} {stage.label} ({edition_name}) : exécution…", flush=True)
    started = time.perf_counter()
    env_before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(root) + (os.pathsep + env_before if env_before else "")
    try:
        papermill.execute_notebook(str(notebook), str(executed), parameters=parameters, kernel_name=KERNEL_NAME,
                                   cwd=str(root), progress_bar=False, log_output=False)
    except PapermillExecutionError as exc:
        expected = StagescoError.from_traceback(exc.traceback)
        if expected is not None:  # any StagescoError subclass the stage raised, as itself
            raise expected from None
        raise StagescoError(f"erreur inattendue {exc.ename} : {exc.evalue}".strip(),
                            hint=f"Détails techniques : {relative(executed, root)}") from None
    finally:
        if env_before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = env_before
    metrics_path = staging / "metrics.json"
    if not metrics_path.exists():
        raise StagescoError(f"L'étape {stage.name} n'a pas écrit metrics.json", file=stage.notebook)
    missing = sorted(set(stage.metrics) - set(json.loads(metrics_path.read_text(encoding="utf-8"))))
    if missing:
        raise StagescoError(f"Indicateurs manquants dans metrics.json : {', '.join(missing)}", file=stage.notebook)
    atomic.write_text(staging / "report.html", export_html(executed, edition, stage))
    publish(staging, target)
    log(f"    terminé en {time.perf_counter() - started:.1f} s".replace(".", ","), flush=True)
    for line in warning_lines(target, relative(target / "report.html", root)):
        log(line, flush=True)
    return target


SHOWN_WARNINGS = 5  # the points of attention a run prints (all are in the report and on the home page)


def warning_lines(folder: Path, report: str) -> list[str]:
    """What a stage's ``warnings.json`` says, for the terminal: how many points of attention, the first few, and
    where to read the rest."""
    try:
        warnings = json.loads((folder / "warnings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not warnings:
        return []
    count = len(warnings)
    lines = [f"    {count} point{'s' if count >= 2 else ''} d'attention :"]
    lines += [f"    - {w if len(w) <= 300 else w[:299] + '…'}" for w in warnings[:SHOWN_WARNINGS]]
    rest = count - SHOWN_WARNINGS
    if rest > 0:
        lines.append(f"    - et {rest} autre{'s' if rest >= 2 else ''} : voir {report}")
    return lines


def publish(staging: Path, target: Path) -> None:
    """Replace the stage's output folder by the staged files (each move is an atomic rename)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in sorted(staging.rglob("*")):
        if path.is_file():
            destination = target / path.relative_to(staging)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, destination)
    shutil.rmtree(staging, ignore_errors=True)


def export_html(executed: Path, edition: Edition, stage) -> str:
    """nbconvert without code cells, prompts, the parameters cells or stderr; offline template."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

    class DropStderr(Preprocessor):
        def preprocess_cell(self, cell, resources, index):
            if cell.get("cell_type") == "code":
                cell.outputs = [o for o in cell.get("outputs", [])
                                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            return cell, resources

    exporter = HTMLExporter(template_name="stagesco", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                            anchor_link_text="")
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"injected-parameters", "parameters"},
                                                         enabled=True), enabled=True)
    exporter.register_preprocessor(DropStderr(enabled=True), enabled=True)
    notebook = nbformat.read(executed, as_version=4)
    resources = {
        "metadata": {"name": f"{stage.label} — {edition.title}"},
        "stagesco": {
            "css": REPORT_CSS.read_text(encoding="utf-8"),
            "edition_title": edition.title,
            "stage_label": f"{stage.number:02d} {stage.label}",
            "footer": (public_footer_html(edition, stage, page) if (page := f"{stage.folder}/report.html")
                       in public_pages(edition) else footer_html(edition, stage)),
            "home": f"../{HOME_PAGE}",
        },
    }
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body
