"""Stage 20 ``eligibility`` — Éligibilité: every rule of the call evaluated for every accepted project.

Rules are data (``eligibility.rules`` of edition.yaml): each names a *check* implemented here, its
parameters and its kind — ``hard`` (conforme / non conforme, « à examiner » when the data to judge it
is missing), ``indicator`` (a figure for the commission) or ``judgement`` (a question for the
commission). Only hard rules set a project's status. Another campaign (560 h individual placement,
a two-site placement) is a change of parameters, not of code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import pandas as pd

from schemas.fields import all_fields, field_meta

from ..contract.config import Edition
from ..contract.errors import ConfigError
from ..io import fr
from ..io.html import display
from . import sites

PASS, FAIL, REVIEW, INDICATOR, QUESTION = "pass", "fail", "review", "indicator", "question"
KINDS = ("hard", "indicator", "judgement")


@dataclass(frozen=True)
class Rule:
    """One rule of the call, as configured for the edition."""

    id: str
    kind: str
    check: str
    label: str
    source: str
    params: dict


@dataclass
class Verdict:
    outcome: str  # PASS, FAIL, REVIEW, INDICATOR or QUESTION
    reason: str


@dataclass
class EligibilityResult:
    projects: pd.DataFrame  # one row per project: its fields, status, status reasons
    results: pd.DataFrame  # one row per project and rule: outcome, French result word, reason
    rules: list[Rule]

    @property
    def metrics(self) -> dict:
        counts = self.projects["status_code"].value_counts()
        return {
            "projects": len(self.projects),
            "eligible": int(counts.get("eligible", 0)),
            "not_eligible": int(counts.get("not_eligible", 0)),
            "to_review": int(counts.get("review", 0)),
        }


def load_rules(edition: Edition) -> list[Rule]:
    """The edition's rules, checked against the known checks and kinds (French message on a typo)."""
    rules = []
    section = edition.section("eligibility")
    for rule_id, spec in (section.get("rules") or {}).items():
        spec = dict(spec or {})
        kind, check = spec.pop("kind", None), spec.pop("check", None)
        where = f"inputs/{edition.name}/edition.yaml"
        if kind not in KINDS:
            raise ConfigError(f"Règle « {rule_id} » : nature « {kind} » inconnue", file=where,
                              hint=f"Natures possibles : {', '.join(KINDS)}")
        if check not in CHECKS:
            raise ConfigError(f"Règle « {rule_id} » : contrôle « {check} » inconnu", file=where,
                              hint=f"Contrôles disponibles : {', '.join(sorted(CHECKS))}")
        rules.append(Rule(id=rule_id, kind=kind, check=check, label=spec.pop("label", rule_id),
                          source=spec.pop("source", ""), params=spec))
    return rules


# Checks reading one field named by the rule's ``field:`` (any field of the projects table).
FIELD_CHECKS = ("allowed_values", "min_count", "max_value", "min_value", "range", "exact_value", "date_window")
PARAMETERS = {"min_value": ("min",), "range": ("min", "max"), "exact_value": ("value",),
              "date_window": ("from_key", "to_key"), "max_value": ("max",)}


def check_fields(edition: Edition, rules: list[Rule], projects: pd.DataFrame) -> None:
    """Every rule on a field names a field of the projects table that this edition maps, with its parameters."""
    where = f"inputs/{edition.name}/edition.yaml"
    known = all_fields()
    for rule in rules:
        missing = [p for p in PARAMETERS.get(rule.check, ()) if rule.params.get(p) in (None, "")]
        if missing:
            raise ConfigError(f"Règle « {rule.id} » : {fr.agree(len(missing), 'paramètre')} {', '.join(missing)} "
                              f"{fr.agree(len(missing), 'absent')} pour le contrôle "
                              f"« {rule.check} »", file=where)
        if rule.check not in FIELD_CHECKS:
            continue
        field = rule.params.get("field")
        if field not in known:
            raise ConfigError(f"Règle « {rule.id} » : champ « {field} » inconnu", file=where,
                              hint="Les champs sont décrits dans schemas/fields.yaml (clé field: de la règle)")
        if field not in projects.columns:
            raise ConfigError(f"Règle « {rule.id} » : le champ « {field} » ({known[field].label}) n'est pas dans la "
                              "correspondance de l'édition", file=where,
                              hint=f"Ajoutez-le sous projects.fields de inputs/{edition.name}/mapping.yaml ou retirez la règle")


# --- the checks -----------------------------------------------------------------------------------
def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, tuple)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_list(value) -> list:
    """A list field as a Python list (parquet gives numpy arrays; a missing value is empty)."""
    if value is None or isinstance(value, str):
        return []
    try:
        return [str(v) for v in value]
    except TypeError:
        return []


def _num(value: float, unit: str = "") -> str:
    text = display(float(value))
    return f"{text} {unit}".strip()


def check_allowed_values(row, rule: Rule, ctx: "Context") -> Verdict:
    field = rule.params["field"]
    value = row[field]
    labels = ctx.edition.labels(rule.params.get("vocabulary", "")) if rule.params.get("vocabulary") else {}
    allowed = [str(a) for a in rule.params["allowed"]]
    name = field_meta(field).label.lower()
    if _missing(value):
        return Verdict(REVIEW, f"{name} non renseigné(e)")
    shown = labels.get(str(value), str(value))
    if field == "departement":
        shown = f"département {value} (code postal {row['postcode']})"
    if str(value) in allowed:
        return Verdict(PASS, shown)
    allowed_text = ", ".join(labels.get(a, a) for a in allowed)
    return Verdict(FAIL, f"{shown} : hors de la liste de l'appel ({allowed_text})")


def check_min_count(row, rule: Rule, ctx: "Context") -> Verdict:
    values = as_list(row[rule.params["field"]])
    known = ctx.edition.labels(rule.params.get("vocabulary", "")) if rule.params.get("vocabulary") else {}
    valid = [v for v in values if not known or v in known]
    unknown = [v for v in values if known and v not in known]
    minimum = int(rule.params.get("min", 1))
    extra = f" ; codes inconnus ignorés : {', '.join(unknown)}" if unknown else ""
    if len(valid) >= minimum:
        return Verdict(PASS, f"{', '.join(valid)} ({fr.count(len(valid), 'visée')}){extra}")
    if not valid:
        return Verdict(FAIL, f"aucune compétence visée (minimum {minimum}){extra}")
    return Verdict(FAIL, f"{fr.count(len(valid), 'visée')}, minimum {minimum}{extra}")


def check_team_size(row, rule: Rule, ctx: "Context") -> Verdict:
    low, high = row["team_min"], row["team_max"]
    if _missing(low) or _missing(high):
        return Verdict(REVIEW, "effectif minimum ou maximum non renseigné")
    low, high = int(low), int(high)
    lo_ok, hi_ok = int(rule.params.get("min_allowed", 1)), int(rule.params.get("max_allowed", 10**6))
    if low > high:
        return Verdict(FAIL, f"effectif minimum {low} supérieur au maximum {high}")
    if low < lo_ok:
        return Verdict(FAIL, f"effectif minimum {low} : une équipe compte au moins {lo_ok} apprenants")
    if high > hi_ok:
        return Verdict(FAIL, f"effectif maximum {high} au-delà de {hi_ok} apprenants")
    return Verdict(PASS, ("" if low == high else "de ") + fr.span(low, high, "apprenant"))


def check_max_value(row, rule: Rule, ctx: "Context") -> Verdict:
    field, unit, maximum = rule.params["field"], rule.params.get("unit", ""), float(rule.params["max"])
    value = row[field]
    if _missing(value):
        return Verdict(REVIEW, f"{field_meta(field).label.lower()} non renseigné")
    if float(value) > maximum:
        return Verdict(FAIL, f"{_num(value, unit)} prévues, maximum {_num(maximum, unit)}")
    return Verdict(PASS, f"{_num(value, unit)} prévues (maximum {_num(maximum, unit)})")


def _value_text(value, field: str, unit: str) -> str:
    """A value as the reason shows it: a date in French, a number with its unit."""
    if field_meta(field).type == "datetime":
        return fr.day(value)
    return _num(value, unit) if unit or isinstance(value, (int, float)) else str(value)


def _bound(rule: Rule, key: str, field: str, ctx: "Context"):
    """A bound of a rule: a number, or for a date field an ISO date (``2026-03-01``) or a calendar key."""
    raw = rule.params[key]
    if field_meta(field).type != "datetime":
        return float(raw)
    try:
        return pd.Timestamp(datetime.fromisoformat(str(raw)))
    except ValueError:
        return pd.Timestamp(ctx.edition.when(str(raw)))


def _compare(value, field: str):
    return pd.Timestamp(value) if field_meta(field).type == "datetime" else float(value)


def _measured(row, rule: Rule):
    """``(field, unit, value)`` of a rule on one field, ``value`` None when missing."""
    field, unit = rule.params["field"], rule.params.get("unit", "")
    value = row[field]
    return field, unit, None if _missing(value) else value


def _absent(field: str) -> Verdict:
    return Verdict(REVIEW, f"{field_meta(field).label.lower()} non renseigné(e)")


def check_min_value(row, rule: Rule, ctx: "Context") -> Verdict:
    field, unit, value = _measured(row, rule)
    if value is None:
        return _absent(field)
    low = _bound(rule, "min", field, ctx)
    shown, low_text = _value_text(value, field, unit), _value_text(low, field, unit)
    if _compare(value, field) < _compare(low, field):
        return Verdict(FAIL, f"{field_meta(field).label} : {shown}, minimum {low_text}")
    return Verdict(PASS, f"{field_meta(field).label} : {shown} (minimum {low_text})")


def check_range(row, rule: Rule, ctx: "Context") -> Verdict:
    field, unit, value = _measured(row, rule)
    if value is None:
        return _absent(field)
    low, high = _bound(rule, "min", field, ctx), _bound(rule, "max", field, ctx)
    shown = _value_text(value, field, unit)
    span = f"de {_value_text(low, field, unit)} à {_value_text(high, field, unit)}"
    if not _compare(low, field) <= _compare(value, field) <= _compare(high, field):
        return Verdict(FAIL, f"{field_meta(field).label} : {shown}, hors de l'intervalle de l'appel ({span})")
    return Verdict(PASS, f"{field_meta(field).label} : {shown} ({span})")


def check_exact_value(row, rule: Rule, ctx: "Context") -> Verdict:
    field, unit, value = _measured(row, rule)
    if value is None:
        return _absent(field)
    expected = rule.params["value"]
    if field_meta(field).type in ("number", "integer"):
        same = abs(float(value) - float(expected)) <= float(rule.params.get("tolerance", 0))
    else:
        same = str(value) == str(expected)
    shown, wanted = _value_text(value, field, unit), _value_text(expected, field, unit)
    if same:
        return Verdict(PASS, f"{field_meta(field).label} : {shown}, comme attendu")
    return Verdict(FAIL, f"{field_meta(field).label} : {shown} ; l'appel demande exactement {wanted}")


def check_date_window(row, rule: Rule, ctx: "Context") -> Verdict:
    """A date field between two calendar keys of the edition (both days included)."""
    field = rule.params["field"]
    value = row[field]
    if _missing(value):
        return _absent(field)
    first, last = ctx.edition.when(rule.params["from_key"]), ctx.edition.when(rule.params["to_key"])
    day = pd.Timestamp(value).normalize()
    span = f"du {fr.day(first)} au {fr.day(last)}"
    name = field_meta(field).label
    if pd.Timestamp(first).normalize() <= day <= pd.Timestamp(last).normalize():
        return Verdict(PASS, f"{name} : {fr.day(value)}, dans la période de l'édition ({span})")
    return Verdict(FAIL, f"{name} : {fr.day(value)}, hors de la période de l'édition ({span})")


def check_site_shares(row, rule: Rule, ctx: "Context") -> Verdict:
    """The sites of a multi-site offer make a whole: each named, their shares of hours adding up."""
    listed = sites.sites(row)
    if len(listed) == 1:
        return Verdict(PASS, "un seul site qualifiant")
    problems = sites.share_problems(row)
    shares = " ; ".join(f"{s.structure_name or '?'} {_num(s.hours, 'h') if s.hours is not None else '?'}"
                        for s in listed)
    if problems:
        return Verdict(FAIL, f"{len(listed)} sites ({shares}) : " + " ; ".join(problems))
    return Verdict(PASS, f"{len(listed)} sites qualifiants ({shares})")


def check_referent(row, rule: Rule, ctx: "Context") -> Verdict:
    name, available = row["referent_name"], row["referent_available"]
    if _missing(name):
        return Verdict(FAIL, "aucun référent indiqué")
    who = name if _missing(row["referent_function"]) else f"{name} ({row['referent_function']})"
    if _missing(available):
        return Verdict(REVIEW, f"{who} : disponibilité pendant toute la durée du projet non renseignée")
    if not bool(available):
        return Verdict(FAIL, f"{who} : non disponible pendant toute la durée du projet")
    if _missing(row["referent_email"]) and _missing(row["referent_phone"]):
        return Verdict(REVIEW, f"{who} : ni courriel ni téléphone pour le joindre")
    return Verdict(PASS, f"{who}, disponible")


def check_deadline(row, rule: Rule, ctx: "Context") -> Verdict:
    """Submitted at or before the deadline's minute (a deadline of 23:59 admits 23:59:59)."""
    deadline = ctx.edition.when(rule.params["calendar_key"])
    value = row[rule.params.get("field", "submitted_at")]
    if _missing(value):
        return Verdict(REVIEW, "date de dépôt inconnue")
    when = f"{fr.moment(value, with_time=True)}"
    if value < deadline + timedelta(minutes=1):
        return Verdict(PASS, f"déposé le {when} (date limite : {fr.moment(deadline, with_time=True)})")
    return Verdict(FAIL, f"déposé le {when}, après la date limite du {fr.moment(deadline, with_time=True)}")


def check_hours_per_learner(row, rule: Rule, ctx: "Context") -> Verdict:
    value = ctx.hours_per_learner.get(row["project_code"])
    if value is None:
        return Verdict(INDICATOR, "non calculable (heures ou effectifs manquants)")
    series = pd.Series(list(ctx.hours_per_learner.values()), dtype="float64")
    low, high = series.quantile(float(rule.params.get("low_quantile", 0.1))), series.quantile(
        float(rule.params.get("high_quantile", 0.9)))
    median = series.median()
    text = f"{_num(round(value, 1), 'h')} de projet par apprenant (effectif moyen proposé ; médiane de l'édition : {_num(round(median, 1), 'h')})"
    if value < low:
        return Verdict(INDICATOR, f"{text} — parmi les plus bas : beaucoup d'apprenants pour le volume prévu ?")
    if value > high:
        return Verdict(INDICATOR, f"{text} — parmi les plus hauts : volume important pour l'équipe proposée ?")
    return Verdict(INDICATOR, f"{text} — dans la norme de l'édition")


def check_question(row, rule: Rule, ctx: "Context") -> Verdict:
    return Verdict(QUESTION, rule.params.get("question", rule.label))


CHECKS: dict[str, Callable] = {
    "allowed_values": check_allowed_values,
    "min_count": check_min_count,
    "team_size": check_team_size,
    "max_value": check_max_value,
    "min_value": check_min_value,
    "range": check_range,
    "exact_value": check_exact_value,
    "date_window": check_date_window,
    "site_shares": check_site_shares,
    "referent": check_referent,
    "deadline": check_deadline,
    "hours_per_learner": check_hours_per_learner,
    "question": check_question,
}


@dataclass
class Context:
    edition: Edition
    hours_per_learner: dict[str, float]


def hours_per_learner(projects: pd.DataFrame) -> dict[str, float]:
    """Planned hours divided by the mean proposed team size, for projects where both are known."""
    out = {}
    for row in projects.itertuples():
        if _missing(row.hours) or _missing(row.team_min) or _missing(row.team_max):
            continue
        size = (int(row.team_min) + int(row.team_max)) / 2
        if size > 0:
            out[row.project_code] = float(row.hours) / size
    return out


def evaluate(edition: Edition, projects: pd.DataFrame) -> EligibilityResult:
    """Every rule for every project; status from the hard rules only."""
    rules = load_rules(edition)
    check_fields(edition, rules, projects)
    words = edition.vocabulary["rule_results"]
    statuses = edition.vocabulary["eligibility_status"]
    ctx = Context(edition=edition, hours_per_learner=hours_per_learner(projects))
    records, status_code, status_reasons = [], [], []
    for _, row in projects.iterrows():
        failed, missing = [], []
        for rule in rules:
            verdict = CHECKS[rule.check](row, rule, ctx)
            if rule.kind != "hard" and verdict.outcome in (PASS, FAIL, REVIEW):
                verdict = Verdict(INDICATOR if rule.kind == "indicator" else QUESTION, verdict.reason)
            records.append({"project_code": row["project_code"], "rule_id": rule.id, "rule_label": rule.label,
                            "kind": rule.kind, "outcome": verdict.outcome, "result": words[verdict.outcome],
                            "reason": verdict.reason})
            if rule.kind == "hard" and verdict.outcome == FAIL:
                failed.append(f"{rule.label} : {verdict.reason}")
            elif rule.kind == "hard" and verdict.outcome == REVIEW:
                missing.append(f"{rule.label} : {verdict.reason}")
        code = "not_eligible" if failed else "review" if missing else "eligible"
        status_code.append(code)
        status_reasons.append(" ; ".join(failed or missing))
    table = projects.copy()
    table["status_code"] = status_code
    table["eligibility_status"] = [statuses[c] for c in status_code]
    table["status_reasons"] = status_reasons
    results = pd.DataFrame(records, columns=["project_code", "rule_id", "rule_label", "kind", "outcome", "result",
                                             "reason"])
    return EligibilityResult(projects=table, results=results, rules=rules)
