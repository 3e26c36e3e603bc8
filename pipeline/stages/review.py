"""Stage 80 ``review`` — le bilan de l'édition, compared with the earlier editions.

Every figure comes from an earlier stage: a metric (``stage.metric``) or a count over a table an earlier
stage published; ``params.yaml`` → ``review.indicators`` names each figure's source. The earlier editions
are read from their non-personal aggregates ``history/<edition>.json`` (:mod:`pipeline.repro.history`),
never re-run. Counts of learners below the threshold are suppressed (« < 5 ») only when rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..repro import history
from ..contract.config import Edition
from ..io import fr
from ..io.normalise import fold
from ..repro.privacy import suppress, threshold
from . import evaluation, pole, sites, terms

UNRANKED = "hors choix"
POLE = "pole"  # the pôle's figures in the metrics and the history records (pipeline.stages.review_pole)


@dataclass
class Review:
    edition: Edition
    indicators: dict  # key → number (raw)
    breakdowns: dict  # key → {category: number} (raw)
    earlier: list[dict] = field(default_factory=list)  # history records, oldest first
    pole: dict | None = None  # the pôle's figures (:mod:`.review_pole`), for an edition that has them
    register: object = None  # the pôle's register of actions read (:class:`.actions.ActionsRegister`), if any

    @property
    def metrics(self) -> dict:
        out = {"indicators": self.indicators, "breakdowns": self.breakdowns,
               "earlier_editions": [r["edition"] for r in self.earlier]}
        if self.pole is not None:
            out[POLE] = self.pole
        return out

    @cached_property
    def names(self) -> dict[str, dict[str, str]]:
        """A pôle's school and basin names (:func:`pole.territory_names`), read once."""
        return pole.territory_names(self.edition)

    @property
    def spec(self) -> dict:
        return self.edition.params.data.get("review") or {}

    @property
    def threshold(self) -> int:
        return threshold(self.edition.params.data)

    @property
    def records(self) -> list[dict]:
        """Earlier editions then this one, as history-like records."""
        current = {"edition": self.edition.name, "title": str(self.edition.config.get("title") or self.edition.name),
                   "start": history.start_of(self.edition), "indicators": self.indicators,
                   "breakdowns": self.breakdowns}
        if self.pole is not None:
            current[POLE] = self.pole
        return [*self.earlier, current]

    def part(self, part: str | None) -> tuple[dict, list[dict]]:
        """The spec (``review`` of params.yaml, or its ``pole`` section) and the records (this edition last) of
        the main bilan (``part`` None) or of the pôle's (``"pole"``: only the editions that have its figures)."""
        if part is None:
            return self.spec, self.records
        return self.spec.get(part) or {}, [{**r, **r[part]} for r in self.records if r.get(part)]


def _distinct(frame: pd.DataFrame, by: str | None = None):
    keys = frame["structure_name"].fillna("").map(fold)
    if by is None:
        return int(keys[keys != ""].nunique())
    out = frame.assign(_key=keys)[keys != ""].groupby(by, sort=True)["_key"].nunique()
    return {str(k): int(v) for k, v in out.items()}


def compute(edition: Edition, metrics: dict[str, dict], projects: pd.DataFrame, retained: pd.DataFrame,
            roster: pd.DataFrame, assignment: pd.DataFrame, results: pd.DataFrame) -> Review:
    """The edition's indicators and breakdowns from the earlier stages' metrics and tables."""
    m = metrics
    retained = retained[retained["decision_code"] == "retained"] if "decision_code" in retained else retained
    # a project's own hours, else the hours its convention states (conventions.hours of edition.yaml)
    # (terms.offer_terms: the commission's decided hours, else the form's, else the edition's)
    default_hours = terms.default_hours(edition) or 0.0
    hours = {row["project_code"]: terms.offer_terms(row, edition).hours or 0.0 for row in retained.to_dict("records")}
    learners = int(m["applications"]["learners"])
    top_level = evaluation.settings(edition).levels[-1]
    targeted = len(results)
    acquired = int((results["level"] == top_level).sum())
    profile = list(m["assignment"]["rank_profile"])
    indicators = {
        "projects_received": int(m["projects"]["projects_accepted"]),
        "projects_eligible": int(m["eligibility"]["eligible"]),
        "projects_retained": int(m["commission"]["retained"]),
        "projects_opened": int(m["assignment"]["projects_opened"]),
        "projects_closed": int(m["assignment"]["projects_closed"]),
        "partners": _distinct(sites.partner_structures(projects)),  # every site's structure is a partner
        "partners_retained": _distinct(sites.partner_structures(retained)),
        "departements": int(retained["departement"].nunique()),
        "learners": learners,
        "training_hours": int(round(sum(hours.get(code, default_hours) for code in assignment["project_code"]))),
        "places_offered": int(m["commission"]["places_max"]),
        "places_per_learner": round(int(m["commission"]["places_max"]) / max(1, learners), 2),
        "first_choice": int(profile[0]),
        "first_choice_share": float(m["assignment"]["first_choice_share"]),
        "conventions": int(m["conventions"]["conventions"]),
        "conventions_on_time": int(m["conventions"].get("signed_on_time", 0)),
        "competences_targeted": int(m["evaluation"]["grades_expected"]),
        "competences_acquired": acquired,
        "acquired_share": round(acquired / targeted, 4) if targeted else 0.0,
    }
    types = edition.labels("structure_types")
    by_type = _distinct(projects.assign(type_label=projects["structure_type"].map(lambda t: types.get(t, t))), "type_label")
    places = retained.groupby("departement", sort=True)["decided_team_max"].sum()
    breakdowns = {
        "partners_by_type": by_type,
        "partners_by_departement": _distinct(projects, "departement"),
        "learners_by_track": {str(k): int(v) for k, v in roster["track"].value_counts().sort_index().items()},
        "places_per_learner_by_departement": {str(k): round(float(v) / max(1, learners), 2) for k, v in places.items()},
        "rank_profile": {**{str(r + 1): int(n) for r, n in enumerate(profile[:-1])}, UNRANKED: int(profile[-1])},
        "targeted_by_competence": {str(k): int(v) for k, v in results.groupby("competence", sort=True).size().items()},
        "acquired_by_competence": {str(k): int(v) for k, v in results[results["level"] == top_level]
                                   .groupby("competence", sort=True).size().items()},
    }
    if pole.denominator(edition) == "basin":  # a pôle: places of a basin ÷ pupils of that basin
        breakdowns.update({f"offers_per_pupil_{key}": value for key, value in pole.offers_per_pupil(retained, roster).items()
                           if key != "overall"})
    return Review(edition, indicators, breakdowns, history.earlier(edition))


# --- comparison tables ---------------------------------------------------------------------------------------
def _shown(value, kind: str, k: int, *, rendered: bool):
    if value is None or value == "":
        return "–"
    if kind == "learners" and rendered:
        return suppress(value, k)
    if kind == "share":
        return fr.percent(value) if rendered else float(value)
    return value


def _change(before, now, kind: str) -> str:
    if before in (None, "") or now in (None, ""):
        return "–"
    if kind == "share":
        points = round(100 * (float(now) - float(before)))
        return f"{fr.signed(points)} point{'s' if abs(points) > 1 else ''}"
    delta = float(now) - float(before)
    text = fr.signed(delta)
    if float(before):
        text += f" ({fr.signed(round(100 * delta / float(before)))}{fr.SPACE}%)"
    return text


def source_words(review: Review, source: str) -> str:
    """Where a figure comes from, in words: « Affectation (étape 50) : choix obtenu » for ``assignment.rank_profile[0]``,
    « Commission d'attribution (étape 30) : table des projets retenus » for ``commission/projets_retenus.parquet …``."""
    params = review.edition.params
    labels = params.data.get("metric_labels") or {}
    tables = (review.spec.get("table_labels") or {})
    parts = []
    for token in re.findall(r"[a-z_]+(?:\.[a-z_]+|/[\w.]+)", source):
        stage_name, sep, rest = token.partition("." if "." in token and "/" not in token else "/")
        if stage_name not in params.data.get("stages", {}):
            continue
        stage = params.stage(stage_name)
        what = labels.get(rest, rest.replace("_", " ")) if sep == "." else tables.get(Path(rest).stem, f"table {Path(rest).stem}")
        text = f"{stage.label} (étape {stage.number}) : {what}"
        if text not in parts:
            parts.append(text)
    return " ; ".join(parts) or source


def comparison(review: Review, *, rendered: bool = True, part: str | None = None) -> pd.DataFrame:
    """One row per indicator; one column per edition (oldest first), then the change since the previous one
    (``part="pole"``: the pôle's indicators, for the editions that have them)."""
    section, records = review.part(part)
    k = review.threshold
    rows = []
    for key, spec in (section.get("indicators") or {}).items():
        kind = spec.get("kind", "count")
        values = [r["indicators"].get(key) for r in records]
        row = {"Indicateur": spec["label"]}
        for record, value in zip(records, values):
            row[record["edition"]] = _shown(value, kind, k, rendered=rendered)
        if len(records) > 1:
            before, now = values[-2], values[-1]
            # a change between suppressed counts would reveal them
            hidden = rendered and kind == "learners" and any(isinstance(_shown(v, kind, k, rendered=True), str)
                                                             for v in (before, now))
            row["Évolution"] = "–" if hidden else _change(before, now, kind)
        row["Source"] = source_words(review, spec.get("source", ""))
        if not rendered:
            row["Source technique"] = spec.get("source", "")
        rows.append(row)
    return pd.DataFrame(rows)


def breakdown_specs(review: Review) -> dict[str, dict]:
    """The breakdowns of params.yaml's ``review.breakdowns`` this edition or an earlier one has (a pôle's offers
    per pupil by basin exist only where the edition divides by the pupils of each basin)."""
    return {key: spec for key, spec in (review.spec.get("breakdowns") or {}).items()
            if not spec.get("campaign") or any(key in (r.get("breakdowns") or {}) for r in review.records)}


def breakdown(review: Review, key: str, *, rendered: bool = True, part: str | None = None) -> pd.DataFrame:
    """One row per category (e.g. département, filière), one column per edition; categories sorted, or in the
    edition's own order (this edition's first) when the spec says ``order: edition`` (kinds of actions)."""
    section, records = review.part(part)
    spec = (section.get("breakdowns") or {}).get(key, {})
    kind = spec.get("kind", "count")
    categories: list[str] = []
    for record in (records[::-1] if spec.get("order") == "edition" else records):
        for category in (record.get("breakdowns") or {}).get(key, {}):
            if category not in categories:
                categories.append(category)
    if key == "rank_profile":
        categories.sort(key=lambda c: (c == UNRANKED, int(c) if c.isdigit() else 0))
    elif spec.get("order") != "edition":
        categories.sort()
    territory = next((v for k, v in review.names.items() if key.endswith(f"_by_{k}")), {})
    rows = []
    for category in categories:
        ranked = key == "rank_profile" and category.isdigit()
        row = {"Catégorie": f"{fr.ordinal(int(category))} choix" if ranked else territory.get(category, category)}
        for record in records:
            value = (record.get("breakdowns") or {}).get(key, {}).get(category)
            row[record["edition"]] = _shown(value, kind, review.threshold, rendered=rendered) if value is not None else "–"
        rows.append(row)
    return pd.DataFrame(rows)


def _pct(value) -> str:
    return fr.percent(value)


def summary_sentences(review: Review) -> list[str]:
    """A short written summary generated from the figures (French)."""
    now = review.indicators
    before = review.earlier[-1] if review.earlier else None
    prev = (before or {}).get("indicators", {})
    k = review.threshold

    def versus(key: str, fmt=fr.number) -> str:
        if before is None or prev.get(key) in (None, ""):
            return ""
        return f" (contre {fmt(prev[key])} en {before['edition']})"

    c = fr.count
    # learner counts are suppressed below the threshold (« < 5 »), so a shown one is plural
    learners = fr.measure(suppress(now["learners"], k), "learners")
    first = fr.measure(suppress(now["first_choice"], k), "learners")
    lines = [
        f"{c(now['projects_received'], 'projet déposé', 'projets déposés')} par {c(now['partners'], 'partenaire')}"
        f"{versus('projects_received')} ; {c(now['projects_eligible'], 'éligible')}, "
        f"{c(now['projects_retained'], 'retenu')}{versus('projects_retained')}, {c(now['projects_opened'], 'ouvert')} "
        f"et {c(now['projects_closed'], 'fermé')} faute de candidats.",
        f"{learners} apprenants ; {c(now['places_offered'], 'place offerte', 'places offertes')}, soit "
        f"{fr.number(now['places_per_learner'])} {fr.agree(now['places_per_learner'], 'place')} "
        f"par apprenant{versus('places_per_learner')}.",
        f"{first} apprenants ({_pct(now['first_choice_share'])}) affectés à leur premier choix"
        f"{versus('first_choice_share', _pct)}.",
        f"{c(now['conventions_on_time'], 'convention signée', 'conventions signées')} à temps sur "
        f"{fr.integer(now['conventions'])}{versus('conventions_on_time')}.",
        f"{_pct(now['acquired_share'])} des compétences visées évaluées au niveau le plus haut"
        f"{versus('acquired_share', _pct)} ; {fr.integer(now['training_hours'])} {fr.agree(now['training_hours'], 'heure')} de formation "
        "pratique au total.",
    ]
    return lines
