"""The provenance footer of every report: edition, input hashes, parameters, package versions.

No commit, date, host name or absolute path: those would break byte-identical re-runs (the commit is
recorded where an edition is frozen).
"""

from __future__ import annotations

import hashlib
import platform
from html import escape
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

from .config import Edition, StageSpec
from .paths import relative


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions(names: list[str]) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def stage_files_read(edition: Edition, stage: StageSpec) -> list[Path]:
    """Every file the stage reads (folders expanded), in a stable order."""
    inputs = []
    for path in edition.stage_inputs(stage) + edition.stage_reads(stage):
        if path.is_dir():
            inputs += sorted((f for f in path.rglob("*") if f.is_file()), key=lambda f: f.as_posix())
        elif path.exists():
            inputs.append(path)
    return inputs


def public_pages(edition: Edition) -> dict[str, str]:
    """``params.yaml`` → ``report.public_pages``: page (relative to the edition's outputs) → the calendar key
    whose date is the date of the data it shows."""
    return dict((edition.params.data.get("report") or {}).get("public_pages") or {})


def data_fingerprint(edition: Edition, stage: StageSpec) -> str:
    """A short hash of every file the stage read (names and contents): the same data gives the same hash."""
    digest = hashlib.sha256()
    for path in stage_files_read(edition, stage):
        digest.update(f"{relative(path, edition.root)}\0{sha256(path)}\n".encode("utf-8"))
    return digest.hexdigest()[:16]


def public_footer_html(edition: Edition, stage: StageSpec, page: str) -> str:
    """The footer of a page published outside the commission: the edition, the date of the data and a hash of
    the files read — no settings, no names, no file paths (the commission's pages keep the full provenance)."""
    key = public_pages(edition)[page]
    when = edition.when(key)
    return (
        "<h2>Provenance</h2>"
        f"<p>Édition {escape(edition.title)} — données arrêtées au {when:%d/%m/%Y} — empreinte des données "
        f"<code>{data_fingerprint(edition, stage)}</code>. Page reproduite à l'identique à partir des mêmes données.</p>"
    )


def footer_html(edition: Edition, stage: StageSpec) -> str:
    inputs = stage_files_read(edition, stage)
    rows = "".join(f"<tr><td><code>{escape(relative(p, edition.root))}</code></td><td><code>{sha256(p)}</code></td></tr>"
                   for p in inputs)
    used = {key: edition.config[key] for key in stage.config if key in edition.config}
    params_text = yaml.safe_dump(used, allow_unicode=True, sort_keys=True, default_flow_style=False)
    shared = {k: edition.params.data[k] for k in ("limits",) if k in edition.params.data}
    if shared:
        params_text += "\n# params.yaml\n" + yaml.safe_dump(shared, allow_unicode=True, sort_keys=True)
    versions = package_versions(list(edition.params.data.get("report", {}).get("packages", [])))
    version_text = ", ".join(f"{escape(k)} {escape(v)}" for k, v in versions.items())
    return (
        "<h2>Provenance</h2>"
        f"<p>Édition <strong>{escape(edition.name)}</strong> — {escape(edition.title)} — étape "
        f"{stage.number:02d} « {escape(stage.label)} ». Cette page est reproduite à l'identique par "
        "<code>stagesco run</code> à partir des mêmes fichiers et réglages.</p>"
        "<table><thead><tr><th>Fichier lu</th><th>SHA-256</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<details><summary>Réglages utilisés</summary><pre>{escape(params_text)}</pre></details>"
        f"<p>Logiciels : {version_text}.</p>"
    )
