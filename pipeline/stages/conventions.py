"""Stage 60 ``conventions`` — one convention de partenariat per opened project (its signatures are followed in
:mod:`pipeline.stages.signatures`).

* :func:`render_convention` fills a DOCX template (docxtpl) with the partner (site qualifiant), its
  référent, the school (établissement de formation), the trainer, the team (names, tracks), the period
  and the hours of the edition; the bytes are stable (:func:`pipeline.io.stable_zip.stabilise`). The
  default template is ``pipeline/stages/templates/convention.docx`` (built by
  ``pipeline/demo/make_convention_template.py``); an edition may name its own under ``conventions.template``
  (a path relative to its ``inputs/<edition>/`` folder).
* :func:`settings` reads the ``conventions`` section of edition.yaml (hours, lead days, template, wording,
  clauses, the documents tracked per convention); :func:`deadlines` gives each convention's own deadline.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping

import jinja2
import pandas as pd
from docxtpl import DocxTemplate

from ..io import fr, stable_zip
from . import STAGE_TEMPLATES
from ..contract.config import Edition
from ..contract.errors import ConfigError, StagescoError
from ..io.normalise import fold
from . import pole, sites as offer_sites
from .eligibility import as_list
from .terms import offer_terms

DEFAULT_TEMPLATE = STAGE_TEMPLATES / "convention.docx"

# The documents tracked per convention, in their required order (default: the signature circuit of a
# stage collectif): column name → (column label, who or what, in French). An edition lists its own under
# conventions.documents (e.g. an accord pédagogique before the convention, an insurance certificate).
SIGNATORIES: dict[str, tuple[str, str]] = {
    "site_signed": ("Signature du site qualifiant", "le site qualifiant"),
    "school_signed": ("Signature de l'établissement de formation", "l'établissement de formation"),
    "learners_signed": ("Signature des apprenants (dernier signataire)", "les apprenants"),
}
TRACKING_LABELS = {"convention": "Convention", "learners": "Apprenants", "notes": "Observations",
                   "deadline": "Date limite des signatures"}
TRACKING_FACTS = ["project_code", "title", "structure_name", "referent_name", "trainer", "learners"]
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- settings -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConventionSettings:
    hours: float
    min_lead_days: int = 1
    template: Path = DEFAULT_TEMPLATE
    documents: tuple[tuple[str, str, str, str], ...] = tuple((k, label, who, "signature")
                                                            for k, (label, who) in SIGNATORIES.items())
    words: tuple[tuple[str, str], ...] = ()  # conventions.wording: the campaign's words in the template
    clauses: tuple = ()  # conventions.clauses: the edition's own articles ({heading, text}), before the signatures

    @property
    def signatories(self) -> dict[str, tuple[str, str]]:
        """Column name → (label, who) of every tracked document, in order."""
        return {key: (label, who) for key, label, who, _ in self.documents}

    @property
    def kinds(self) -> dict[str, str]:
        return {key: kind for key, _, _, kind in self.documents}


def settings(edition: Edition) -> ConventionSettings:
    """The ``conventions`` section of edition.yaml (``hours`` required; ``min_lead_days`` 1 = signed the
    day before the start at the latest; ``template`` optional)."""
    where = f"inputs/{edition.name}/edition.yaml"
    section = edition.config.get("conventions") or {}
    if section.get("hours") in (None, ""):
        raise ConfigError("Volume horaire des conventions absent (conventions.hours)", file=where,
                          hint="Ajoutez par exemple « conventions: {hours: 105} »")
    try:
        hours, lead = float(section["hours"]), int(section.get("min_lead_days", 1))
    except (TypeError, ValueError):
        raise ConfigError("conventions.hours et conventions.min_lead_days doivent être des nombres", file=where)
    if lead < 0:
        raise ConfigError("conventions.min_lead_days ne peut pas être négatif", file=where)
    template = DEFAULT_TEMPLATE
    if section.get("template"):
        template = edition.inputs / str(section["template"])
        if not template.is_file():
            raise ConfigError(f"Modèle de convention « {section['template']} » introuvable", file=where,
                              hint=f"Déposez-le dans inputs/{edition.name}/ ou retirez conventions.template "
                                   "pour utiliser le modèle par défaut")
    return ConventionSettings(hours=hours, min_lead_days=lead, template=template,
                              documents=_documents(section.get("documents"), where) or ConventionSettings.documents,
                              words=tuple(sorted({**DEFAULT_WORDS, **_words(section.get("wording"), where)}.items())),
                              clauses=_clauses(section.get("clauses"), where))


def _clauses(value, where: str) -> tuple:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(c, dict) and isinstance(c.get("heading"), str)
                                              and isinstance(c.get("text"), str) for c in value):
        raise ConfigError("conventions.clauses : une liste d'articles {heading, text}", file=where,
                          hint="Par exemple « clauses: [{heading: Absence de livrable, text: …}] »")
    return tuple({"heading": c["heading"], "text": c["text"]} for c in value)


# The campaign's words in the default template (conventions.wording of edition.yaml overrides each).
DEFAULT_WORDS = {
    "title": "Convention de stage",             # the document's heading
    "agreement": "convention de stage",         # « La présente … organise … »
    "placement_the": "le stage",                # « … organise le stage « titre » »
    "offer": "offre",                           # « (offre P1234) »
    "offer_the": "l'offre",                     # « L'offre vise les compétences… »
    "offer_this": "cette offre",                # « représentée pour cette offre »
    "host_the": "la structure d'accueil",       # the host, as a party to the convention
    "host_of": "de la structure d'accueil",     # « au sein de la structure d'accueil »
    "host_represented": "représentée",          # agrees with host_the
    "referent": "tuteur",                       # the host's professional in charge of the learner(s)
    "signature_order": "",                      # the order of signatures in words (default: from documents)
}


def _words(value, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - set(DEFAULT_WORDS) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError("conventions.wording : des textes pour " + ", ".join(DEFAULT_WORDS), file=where,
                          hint="Par exemple « wording: {placement: stage collectif, host: site qualifiant} »")
    return dict(value)


def _documents(value, where: str) -> tuple[tuple[str, str, str, str], ...]:
    """``conventions.documents``: ``[{key, label, who, kind: signature | document}]`` in their required order."""
    if value is None:
        return ()
    hint = ("Chaque pièce : key (lettres minuscules, chiffres, _), label (l'en-tête de sa colonne), who (qui signe "
            "ou ce qu'elle est) et kind (signature ou document), dans l'ordre où elles doivent être obtenues")
    if not isinstance(value, list) or not value:
        raise ConfigError("conventions.documents doit être une liste de pièces", file=where, hint=hint)
    out, seen = [], set()
    for i, item in enumerate(value, start=1):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item.get(k) for k in ("key", "label", "who")) \
                or not _KEY.match(item["key"]) or item.get("kind", "signature") not in ("signature", "document"):
            raise ConfigError(f"conventions.documents, pièce n°{i} mal décrite", file=where, hint=hint)
        if item["key"] in seen or item["key"] in {*TRACKING_FACTS, *TRACKING_LABELS}:
            raise ConfigError(f"conventions.documents : clé « {item['key']} » en double ou réservée", file=where, hint=hint)
        seen.add(item["key"])
        out.append((item["key"], item["label"], item["who"], item.get("kind", "signature")))
    return tuple(out)


def deadline(edition: Edition, config: ConventionSettings) -> date:
    """The last day a signature is on time: ``min_lead_days`` days before the first day."""
    return edition.when("start").date() - timedelta(days=config.min_lead_days)


def learner_starts(edition: Edition, outcomes: pd.DataFrame | None) -> dict[str, date]:
    """Each placed learner's own first day (stage 40 in placements mode); the others start on calendar.start."""
    if outcomes is None or not len(outcomes):
        return {}
    placed = outcomes[outcomes["start_date"].notna()]
    return {str(r.learner_id): pd.Timestamp(r.start_date).date() for r in placed.itertuples()}


def periods(edition: Edition, projects: pd.DataFrame, assignment: pd.DataFrame,
            outcomes: pd.DataFrame | None) -> dict[str, tuple[date, date]]:
    """Per opened project: the first day (its earliest learner's start) and the last day (its latest learner's
    end), each defaulting to the offer's own period (:func:`pipeline.stages.terms.offer_terms`: decided by the
    commission, else the form's, else the edition's calendar)."""
    starts = learner_starts(edition, outcomes)
    ends = {} if outcomes is None or not len(outcomes) else {
        str(r.learner_id): pd.Timestamp(r.end_date).date() for r in outcomes[outcomes["end_date"].notna()].itertuples()}
    terms = {str(row["project_code"]): offer_terms(row, edition) for row in opened(projects, assignment).to_dict("records")}
    out = {}
    for code, group in assignment.groupby("project_code", sort=True):
        ids, own = [str(i) for i in group["learner_id"]], terms[str(code)]
        out[str(code)] = (min(starts.get(i, own.start) for i in ids), max(ends.get(i, own.end) for i in ids))
    return out


def deadlines(edition: Edition, config: ConventionSettings, projects: pd.DataFrame, assignment: pd.DataFrame,
              outcomes: pd.DataFrame | None) -> dict[str, date]:
    """Per opened project, the last day its convention may be signed: ``min_lead_days`` before the first day
    of ITS placement (each learner's own start date when the edition reads placements, else the offer's)."""
    return {code: first - timedelta(days=config.min_lead_days)
            for code, (first, _) in periods(edition, projects, assignment, outcomes).items()}


# --- teams ----------------------------------------------------------------------------------------------
def team_table(assignment: pd.DataFrame, roster: pd.DataFrame) -> pd.DataFrame:
    """One row per assigned learner with their name and track, by project then name (accents ignored)."""
    unknown = sorted(set(assignment["learner_id"]) - set(roster["learner_id"]))
    if unknown:
        raise StagescoError(f"Affectation : {fr.agree(len(unknown), 'apprenant absent', 'apprenants absents')} de la promotion : "
                            f"{', '.join(unknown[:10])}",
                            hint="Relancez l'étape Affectation avec la liste de la promotion à jour")
    own = [c for c in ("school", "birth_date") if c in roster.columns]  # a pôle's pupils: their school, birth date
    team = assignment[["learner_id", "project_code"]].merge(
        roster[["learner_id", "last_name", "first_name", "track", *own]], on="learner_id", how="left")
    key = team["last_name"].fillna("").map(fold) + "\x00" + team["first_name"].fillna("").map(fold)
    return (team.assign(_key=key).sort_values(["project_code", "_key", "learner_id"])
            .drop(columns="_key").reset_index(drop=True))


def opened(projects: pd.DataFrame, assignment: pd.DataFrame) -> pd.DataFrame:
    """The retained projects that have learners (those the assignment opened), by code."""
    codes = set(assignment["project_code"])
    unknown = sorted(codes - set(projects["project_code"]))
    if unknown:
        raise StagescoError(f"Affectation : {fr.agree(len(unknown), 'projet absent', 'projets absents')} des projets retenus : "
                            f"{', '.join(unknown)}",
                            hint="Relancez l'étape Affectation après l'étape Commission")
    return projects[projects["project_code"].isin(codes)].sort_values("project_code").reset_index(drop=True)


# --- the convention (DOCX) -----------------------------------------------------------------------------
def ordered_competences(targeted, vocabulary: Mapping[str, str]) -> list[str]:
    """The codes a project targets, in the vocabulary's order (unknown codes last, sorted)."""
    codes = {str(c) for c in as_list(targeted)}
    return [c for c in vocabulary if c in codes] + sorted(codes - set(vocabulary))


def _number(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return fr.number(value)


def _text(value) -> str:
    """A value as plain text for the document (NA empty, XML-illegal control characters removed)."""
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return ""
    return _CONTROL.sub("", str(value)).strip()


def convention_context(project: Mapping, team: pd.DataFrame, edition: Edition,
                       config: ConventionSettings | None = None, period: tuple[date, date] | None = None,
                       schools: dict | None = None) -> dict:
    """Everything a convention template may use (see ``pipeline/demo/make_convention_template.py``).
    ``period``: the convention's own first and last days (default: the edition's calendar); ``schools``: a
    pôle's schools (:func:`pipeline.stages.pole.directory`), the convention's own school signing it."""
    config = config or settings(edition)
    terms = offer_terms(project, edition)
    listed = offer_sites.sites(project, terms.hours)
    host = next((s for s in listed if s.number == int(project.get("site_number") or 1)), listed[0])
    first, last = period or (terms.start, terms.end)
    signatories = [who for key, _, who, kind in config.documents if kind == "signature"]
    school = pole.signing_school(dict(project), schools or {}, edition.section("school"))
    tracks = edition.labels("tracks")
    competences = edition.labels("competences")
    majority = pole.age_of_majority(edition) if "birth_date" in team.columns else 0
    members = [{"last_name": _text(r.last_name), "first_name": _text(r.first_name), "track": _text(r.track),
                "track_label": tracks.get(r.track, _text(r.track)),
                "minor": bool(majority) and pole.is_minor(r.birth_date, first, majority),
                "birth_date": fr.long_day(r.birth_date) if majority and not pd.isna(r.birth_date) else ""}
               for r in team.itertuples()]
    return {
        "edition_title": _text(edition.title),
        "school": {key: _text(value) for key, value in school.items()},
        "guardians": [m for m in members if m["minor"]],
        "partner": {"name": _text(host.structure_name), "address": _text(host.address),
                    "postcode": _text(host.postcode), "city": _text(host.city)},
        "referent": {"name": _text(host.referent_name),
                     "function": _text(project.get("referent_function")) if host.number == 1 else "",
                     "email": _text(host.referent_email),
                     "phone": _text(project.get("referent_phone")) if host.number == 1 else ""},
        # a multi-site placement (« stage pluri-institutionnel »): the theme, this host's share of the hours,
        # the partner sites (empty for a single site)
        "theme": _text(project.get("theme")) or _text(project.get("title")),
        "site_hours": _number(host.hours),
        "partner_sites": [{"name": _text(s.structure_name), "city": _text(s.city), "referent": _text(s.referent_name),
                           "hours": _number(s.hours)} for s in listed if s.number != host.number],
        "project": {"code": _text(project.get("project_code")), "title": _text(project.get("title")),
                    "planned_hours": _number(project.get("hours"))},
        "trainer": _text(project.get("trainer")),
        "team": members,
        "tracks": " et ".join(t for t in [*tracks, *sorted({m["track"] for m in members} - set(tracks))]
                              if t and any(m["track"] == t for m in members)),
        "competences": [{"code": c, "label": _text(competences.get(c, ""))}
                        for c in ordered_competences(project.get("competences"), competences)],
        "period": {"start": fr.long_day(first), "end": fr.long_day(last)},
        "hours": _number(terms.hours),
        "deadline": fr.long_day(first - timedelta(days=config.min_lead_days)),
        "words": dict(config.words),
        "signature_order": dict(config.words).get("signature_order") or ", puis ".join(signatories),
        "clauses": [{"number": 6 + i, "heading": _text(c["heading"]), "text": _text(c["text"])}
                    for i, c in enumerate(config.clauses)],
        "signature_article": 6 + len(config.clauses),
        "documents": [{"label": label, "who": who} for _, label, who, kind in config.documents if kind == "document"],
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)


def render_convention(project: Mapping, team: pd.DataFrame, edition: Edition,
                      config: ConventionSettings | None = None, period: tuple[date, date] | None = None,
                      schools: dict | None = None) -> bytes:
    """The convention of one project as DOCX bytes (same inputs, same bytes)."""
    config = config or settings(edition)
    context = convention_context(project, team, edition, config, period, schools)
    pole.guardians_needed(_template_text(config.template), len(context["guardians"]), config.template.name)
    document = DocxTemplate(io.BytesIO(config.template.read_bytes()))
    try:
        document.render(context, jinja_env=_environment(), autoescape=True)
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"Modèle de convention : champ inconnu ({exc.message})", file=config.template.name,
                          hint="Champs possibles : " + ", ".join(sorted(context))) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"Modèle de convention mal formé : {exc.message}", file=config.template.name,
                          hint="Vérifiez les balises {{ … }} et {% … %} du modèle") from None
    buffer = io.BytesIO()
    document.save(buffer)
    return stable_zip.stabilise(buffer.getvalue())


def convention_file_name(convention_id: str) -> str:
    return f"convention_{convention_id}.docx"


def conventions_to_sign(projects: pd.DataFrame, assignment: pd.DataFrame) -> pd.DataFrame:
    """One row per convention: each opened project's, or for a multi-site offer one per host structure
    (its share of the hours, the others named as partner sites), keyed by ``convention_id``."""
    return pole.per_school(offer_sites.per_site(opened(projects, assignment)), assignment)


def render_all(projects: pd.DataFrame, assignment: pd.DataFrame, roster: pd.DataFrame,
               edition: Edition, outcomes: pd.DataFrame | None = None) -> dict[str, bytes]:
    """``{file name: DOCX bytes}``, one convention per opened project and host site (its period from its
    learners' own dates when the edition reads placements, else the offer's own)."""
    config = settings(edition)
    team = team_table(assignment, roster)
    spans = periods(edition, projects, assignment, outcomes)
    schools = pole.directory(edition)
    return {convention_file_name(row["convention_id"]): render_convention(row, _members(team, row), edition, config,
                                                                           spans[row["project_code"]], schools)
            for row in conventions_to_sign(projects, assignment).to_dict("records")}


def _members(team: pd.DataFrame, convention: Mapping) -> pd.DataFrame:
    """The learners a convention names: its project's team, of its school only in a pôle."""
    mine = team["project_code"] == convention["project_code"]
    return team[mine & (team["school"] == convention["school"])] if "school" in convention else team[mine]


def _template_text(path: Path) -> str:
    """The text of a DOCX template's main part (to check which fields it uses)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read("word/document.xml").decode("utf-8")
