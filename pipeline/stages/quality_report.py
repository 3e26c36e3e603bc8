"""Outputs and report fragments of stage 90 ``quality``: what was checked, what failed, on which rows.

The report and ``qualite.xlsx`` show every expectation of every suite with its result; a failed
expectation is counted, listed and written to ``warnings.json``, never fatal. Nothing here depends on
the run (no time, no GX identifiers), so a re-run gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from schemas.fields import all_fields

from ..io import fr, html
from ..contract.config import Edition
from ..contract.stage import read_output, write_metrics
from ..io.workbook import Sheet, write_workbook
from . import quality
from .quality import Outcome, QualityResult

WORKBOOK = "qualite.xlsx"
RESULTS = {True: "satisfaite", False: "non satisfaite"}
COLOURS = {"satisfaite": "C6E7C6", "non satisfaite": "F4C7C3"}
LABELS = {"table": "Table", "id": "N°", "description": "Ce qui est vérifié", "result": "Résultat",
          "element_count": "Lignes vérifiées", "unexpected_count": "Lignes en écart", "observed": "Valeur observée",
          "keys": "Premières lignes en écart", "rule": "Règle Great Expectations", "key": "Ligne en écart (clé)",
          "label": "Table", "kind": "Nature", "built_from": "Contenu", "key_columns": "Clé d'une ligne",
          "rows": "Lignes", "expectations": "Attentes", "failed": "Non satisfaites", "file": "Suite"}


def pseudonymised(tables: dict, edition: Edition) -> dict:
    """The tables with every learner identifier replaced by the learner's pseudonym (one mapping for all
    tables, so cross-table checks are unchanged): the report names failing rows without identifying anyone."""
    from ..repro.pseudonyms import pseudonyms

    ids = sorted({str(i) for t in tables.values() if "learner_id" in t.columns for i in t["learner_id"].dropna()})
    codes = pseudonyms(edition, ids)
    return {name: t.assign(learner_id=t["learner_id"].map(lambda i: codes.get(str(i), i))) if "learner_id" in t.columns
            else t for name, t in tables.items()}


def run(edition: Edition, out: Path) -> QualityResult:
    """Read the clean tables the suites name, run the suites, write the workbook and the metrics."""
    suites = quality.load_suites()
    clean = pseudonymised({s.table: read_output(edition, s.source) for s in suites if s.source}, edition)
    result = quality.run_suites(edition, clean, suites)
    write_workbook(out / WORKBOOK, sheets(result))
    write_metrics(out, {"expectations": result.metrics["expectations"],
                        "expectations_failed": result.metrics["expectations_failed"]}, quality.messages(result))
    return result


# ------------------------------------------------------------------------------------------ texts

def rule_text(outcome: Outcome) -> str:
    """The GX type and its arguments as the run used them (settings resolved), for reviewers."""
    args = ", ".join(f"{k}={' '.join([str(v[0]), str(v[1]), *(_literal(x) for x in v[2:])])}"
                     if k == "row_condition" and isinstance(v, list) else f"{k}={_literal(v)}"
                     for k, v in outcome.kwargs.items())
    return f"{outcome.type}({args})"


def _literal(value) -> str:
    """A kwarg as written in a suite: strings quoted but not escaped, lists in brackets."""
    if isinstance(value, str):
        return f"'{value}'" if '"' in value else f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False, default=str)


def checked_text(outcome: Outcome) -> str:
    if outcome.error:
        return outcome.error
    if outcome.unexpected_count is not None:
        return f"{fr.integer(outcome.unexpected_count)} sur {fr.integer(outcome.element_count)}"
    return ""


def observed_text(outcome: Outcome) -> str:
    if outcome.observed is None:
        return ""
    return quality.display_value(outcome.observed)


def keys_text(outcome: Outcome, limit: int = quality.KEYS_SHOWN) -> str:
    if not outcome.keys:
        return ""
    shown = ", ".join(outcome.keys[:limit])
    rest = len(outcome.keys) - limit
    return shown + (f" … et {fr.count(rest, 'autre')}" if rest > 0 else "")


def where_words(suite: quality.Suite, edition: Edition | None = None) -> str:
    """Where a suite's table comes from, in words (the file itself is named in the annex)."""
    if suite.derived:
        return "table dérivée, construite à partir des tables propres"
    stage_name = suite.source.split("/", 1)[0]
    stages = (edition.params.data.get("stages") or {}) if edition is not None else {}
    if stage_name in stages:
        stage = edition.params.stage(stage_name)
        return f"table publiée par l'étape {stage.number} « {stage.label} »"
    return "table publiée par une étape précédente"


def key_label(suite: quality.Suite) -> str:
    meta = all_fields()
    return " / ".join(meta[k].label if k in meta else k for k in suite.key)


# --------------------------------------------------------------------------------------- workbook

def outcomes_frame(result: QualityResult) -> pd.DataFrame:
    rows = [{"table": o.table_label, "id": o.id, "description": o.description, "result": RESULTS[o.success],
             "unexpected_count": o.unexpected_count, "element_count": o.element_count, "observed": observed_text(o) or None,
             "keys": keys_text(o) or (o.error or None), "rule": rule_text(o)} for o in result.outcomes]
    return pd.DataFrame(rows, columns=["table", "id", "description", "result", "unexpected_count", "element_count",
                                       "observed", "keys", "rule"])


def failing_rows_frame(result: QualityResult) -> pd.DataFrame:
    rows = [{"table": o.table_label, "id": o.id, "description": o.description, "result": RESULTS[o.success], "key": key}
            for o in result.outcomes for key in o.keys]
    return pd.DataFrame(rows, columns=["table", "id", "description", "result", "key"])


def tables_frame(result: QualityResult) -> pd.DataFrame:
    rows = []
    for suite in result.suites:
        mine = [o for o in result.outcomes if o.table == suite.table]
        rows.append({"label": suite.label, "kind": "table dérivée" if suite.derived else f"outputs/…/{suite.source}",
                     "built_from": suite.description, "key_columns": key_label(suite),
                     "rows": len(result.tables[suite.table]) if suite.table in result.tables else None,
                     "expectations": len(mine),
                     "failed": sum(not o.success for o in mine), "file": suite.file})
    return pd.DataFrame(rows, columns=["label", "kind", "built_from", "key_columns", "rows", "expectations", "failed", "file"])


def sheets(result: QualityResult) -> list[Sheet]:
    fills = {"result": COLOURS}
    return [Sheet("Attentes", outcomes_frame(result), labels=LABELS, fills=fills),
            Sheet("Lignes en écart", failing_rows_frame(result), labels=LABELS, fills=fills),
            Sheet("Tables", tables_frame(result), labels={**LABELS, "kind": "Nature (fichier lu)"})]


# ----------------------------------------------------------------------------------------- report

def summary(result: QualityResult) -> str:
    m = result.metrics
    failed = m["expectations_failed"]
    text = ("Toutes les attentes sont satisfaites." if not failed else
            f"{fr.count(failed, 'attente non satisfaite', 'attentes non satisfaites')} : "
            "elles sont détaillées ci-dessous ; elles n'arrêtent pas le pipeline.")
    if result.skipped:
        text += (f" {fr.count(len(result.skipped), 'attente des suites n’a pas été générée', 'attentes des suites n’ont pas été générées')}"
                 " pour cette édition, faute de la règle ou du réglage qu'elle vérifie (liste ci-dessous, table par table).")
    return html.figures([("attentes vérifiées", m["expectations"]), ("satisfaites", m["expectations"] - failed),
                         ("non satisfaites", failed), ("tables vérifiées", m["tables"])]) + html.paragraph(text)


def skipped_block(result: QualityResult, table: str) -> str:
    """The expectations of a suite not generated for this edition, each with why (empty when none)."""
    lines = [f"Attente {s.id.rsplit('-', 1)[-1]} non générée — {s.description.rstrip('.')} : {s.reason}."
             for s in result.skipped if s.table == table]
    return html.bullets(lines, css_class="note") if lines else ""


def failures_block(result: QualityResult) -> str:
    if not result.failed:
        return html.paragraph("Aucune attente non satisfaite.")
    items = []
    for o in result.failed:
        detail = checked_text(o)
        parts = [f"<strong>{html.esc(o.table_label)}</strong> ({html.esc(o.id)}) — {html.esc(o.description)}"]
        if o.unexpected_count is not None and not o.error:
            parts.append(f"Lignes en écart : {html.esc(detail)}.")
        elif detail:
            parts.append(html.esc(detail[:1].upper() + detail[1:]) + ".")
        if o.observed is not None:
            parts.append(f"Valeur observée : {html.esc(observed_text(o))}.")
        if o.keys:
            parts.append(f"Premières lignes en écart : {html.esc(keys_text(o))}.")
        items.append("<li>" + " ".join(parts) + "</li>")
    return f'<ul class="note">{"".join(items)}</ul>'


def tables_block(result: QualityResult, edition: Edition | None = None) -> str:
    frame = tables_frame(result).drop(columns=["file"])
    frame["kind"] = [where_words(suite, edition) for suite in result.suites]
    return html.table(frame, labels=LABELS, numeric=("rows", "expectations", "failed"))


def expectations_block(result: QualityResult, edition: Edition | None = None) -> str:
    """One section per table: every expectation in a French sentence, its result, its failing rows (the
    Great Expectations rule behind each is in :func:`rules_annex`)."""
    parts = []
    for suite in result.suites:
        mine = [o for o in result.outcomes if o.table == suite.table]
        head = "".join(f"<th>{html.esc(label)}</th>" for label in
                       (LABELS["id"], LABELS["description"], LABELS["result"], "Lignes en écart / vérifiées",
                        LABELS["observed"], LABELS["keys"]))
        rows = []
        for o in mine:
            result_text = RESULTS[o.success]
            css = "pass" if o.success else "fail"
            rows.append(f"<tr><td>{html.esc(o.id.rsplit('-', 1)[-1])}</td>"
                        f"<td>{html.esc(o.description)}</td>"
                        f'<td class="status {css}">{html.esc(result_text)}</td>'
                        f'<td class="num">{html.esc(checked_text(o))}</td>'
                        f"<td>{html.esc(observed_text(o))}</td><td>{html.esc(keys_text(o))}</td></tr>")
        count = len(result.tables[suite.table]) if suite.table in result.tables else 0
        parts.append(f'<h3 id="{html.esc(suite.table)}">{html.esc(suite.label)}</h3>'
                     + html.paragraph(f"{suite.description} ({where_words(suite, edition)} ; "
                                      f"{fr.count(count, 'ligne')} ; une ligne est désignée par : {key_label(suite)}).")
                     + f'<div class="table-wrap"><table class="data"><thead><tr>{head}</tr></thead>'
                       f'<tbody>{"".join(rows)}</tbody></table></div>' + skipped_block(result, suite.table))
    return "\n".join(parts)


def rules_annex(result: QualityResult) -> str:
    """For the analyst: each expectation's Great Expectations rule with its resolved arguments, and the files."""
    rows = "".join(f"<tr><td>{html.esc(o.id)}</td><td>{html.esc(o.table_label)}</td>"
                   f'<td><code class="rule">{html.esc(rule_text(o))}</code></td></tr>' for o in result.outcomes)
    files = pd.DataFrame([{"label": s.label, "kind": "table dérivée" if s.derived else f"outputs/<édition>/{s.source}",
                           "file": s.file} for s in result.suites])
    return (f'<div class="table-wrap"><table class="data"><thead><tr><th>{html.esc(LABELS["id"])}</th><th>Table</th>'
            f'<th>{html.esc(LABELS["rule"])}</th></tr></thead><tbody>{rows}</tbody></table></div>'
            + "<h3>Fichiers</h3>" + html.table(files, labels={**LABELS, "kind": "Fichier lu", "file": "Suite d'attentes"}))
