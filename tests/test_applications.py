"""Stage ``applications`` without Jupyter: roster, identity matching, every validation rule with its
reason, latest submission wins, non-respondents, demand, the demo cohort and its determinism."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.contract.config import Edition
from pipeline.contract.errors import ConfigError
from pipeline.io.moodle import read_moodle_export
from pipeline.io.normalise import fold
from pipeline.io.readers import read_table
from pipeline.demo import learners as demo
from pipeline.demo import moodle_formats as mf
from pipeline.stages import applications as app
from pipeline.stages.projects import ingest as ingest_projects
from tests.conftest import ROOT

RADIO, SLAM, CRECHE, FRESQUE, OLD = "P7KQ2", "PB4RT", "PC9XZ", "PD2MN", "PE5WW"
CATALOGUE = pd.DataFrame({
    "project_code": [RADIO, SLAM, CRECHE, FRESQUE],
    "title": ["Atelier radio avec des adolescents", "Atelier d'écriture et slam", "Éveil musical en crèche",
              "Création d'une fresque murale"],
    "tracks": [["EJE", "ES"], ["ES"], ["EJE"], ["EJE", "ES"]],
    "team_min": [3, 4, 3, 5],
    "team_max": [8, 8, 6, 9],
    "structure_name": ["CHRS Les Tilleuls", "IME Les Genêts", "Multi-accueil Les Lucioles", "MECS Le Moulin"],
})
KNOWN = pd.DataFrame({"project_code": [RADIO, SLAM, CRECHE, FRESQUE, OLD],
                      "title": list(CATALOGUE["title"]) + ["Jardin partagé et land art"]})
LABEL = {row.project_code: f"{row.project_code} – {row.title}" for row in CATALOGUE.itertuples()}
# The demo edition's tracks (inputs/demo/edition.yaml, vocabularies.tracks).
TRACKS = {"ES": "Éducateur spécialisé (DEES)", "EJE": "Éducateur de jeunes enfants (DEEJE)"}

LEARNERS = [
    # first, last, id, email, track, employer
    ("Léa", "Martin", "A001", "lea.martin@apprenants.example", "ES", ""),
    ("Hugo", "Petit", "A002", "hugo.petit@apprenants.example", "EJE", ""),
    ("Camille", "Durand", "A003", "camille.durand@apprenants.example", "ES", ""),
    ("Camille", "Durand", "A004", "camille.durand2@apprenants.example", "EJE", ""),
    ("Marie-Claire", "Le Gall", "A005", "mc.legall@apprenants.example", "ES", "CHRS Les Tilleuls"),
    ("Inès", "Benali", "A006", "ines.benali@apprenants.example", "EJE", ""),
]


def roster_bytes(rows=LEARNERS) -> bytes:
    records = [{"first_name": f, "last_name": l, "idnumber": i, "email": e, "track": t, "employer": w}
               for f, l, i, e, t, w in rows]
    return demo.roster_export(records)


def roster_of(tmp_path, data: bytes | None = None):
    path = tmp_path / "promotion.csv"
    path.write_bytes(data or roster_bytes())
    return app.parse_roster(read_table(path), demo.ROSTER_MAPPING["fields"], TRACKS)


def response(learner: int | None = None, ranking=(), when=datetime(2025, 10, 20, 10, 0), **identity) -> dict:
    base = {}
    if learner is not None:
        f, l, i, e, _, _ = LEARNERS[learner]
        base = {"first_name": f, "last_name": l, "idnumber": i, "email": e}
    base.update(identity)
    base.setdefault("username", "")
    return dict(base, ranking=list(ranking), submitted_at=when)


def run(tmp_path, responses, *, writer=None, known=KNOWN, catalogue=CATALOGUE, roster_data=None):
    roster, rejected = roster_of(tmp_path, roster_data)
    data = (writer or (lambda rs: mf.feedback_export(rs, 5)))(responses)
    (tmp_path / "moodle.csv").write_bytes(data)
    export = read_moodle_export(tmp_path / "moodle.csv")
    return app.validate(export, roster, catalogue, tracks=tuple(TRACKS), policy="any_project", known_projects=known,
                        roster_rejected=rejected)


def prefs(result, learner_id: str) -> list[str]:
    rows = result.preferences[result.preferences["learner_id"] == learner_id]
    assert list(rows["rank"]) == list(range(1, len(rows) + 1))
    return list(rows["project_code"])


def reasons(result, learner_id=None) -> list[str]:
    rows = result.rejected if learner_id is None else result.rejected[result.rejected["learner_id"] == learner_id]
    return list(rows["reason"])


# --- the roster -----------------------------------------------------------------------------------------
def test_roster_mapped_and_validated(tmp_path):
    rows = LEARNERS + [("Paul", "Roux", "A001", "paul.roux@apprenants.example", "ES", ""),   # identifier taken
                       ("Nina", "Faure", "A008", "nina.faure@apprenants.example", "ASS", ""),  # unknown track
                       ("", "Blanc", "A009", "pas-une-adresse", "EJE", "")]
    roster, rejected = roster_of(tmp_path, roster_bytes(rows))
    assert list(roster.columns) == ["learner_id", "last_name", "first_name", "email", "track", "employer", "source_row"]
    assert list(roster["learner_id"]) == ["A001", "A002", "A003", "A004", "A005", "A006"]
    assert list(roster["track"]) == ["ES", "EJE", "ES", "EJE", "ES", "EJE"]  # « Éducateur spécialisé » → ES
    by_row = rejected.groupby("source_row")["reason"].apply(list).to_dict()
    assert by_row[8] == ["identifiant déjà attribué à l'apprenant de la ligne 2"]
    assert by_row[9] == ["la filière doit être ES (Éducateur spécialisé (DEES)) ou EJE (Éducateur de jeunes enfants (DEEJE))"]
    assert sorted(by_row[10]) == ["adresse de courriel invalide", "valeur obligatoire manquante"]
    assert set(rejected["consequence"]) == {app.ROSTER_ROW_IGNORED}
    assert rejected.loc[rejected["source_row"] == 9, "column"].iloc[0] == "Filière"
    assert rejected.loc[rejected["source_row"] == 9, "value"].iloc[0] == "ASS"


def test_roster_rejections_reach_the_result_and_metrics(tmp_path):
    rows = LEARNERS + [("Paul", "Roux", "A001", "paul.roux@apprenants.example", "ES", "")]
    result = run(tmp_path, [response(0, [LABEL[RADIO]])], roster_data=roster_bytes(rows))
    assert result.metrics["roster_rows_rejected"] == 1 and result.metrics["learners"] == 6
    assert result.rejected.iloc[0]["file"] == "promotion.csv"


# --- identity ---------------------------------------------------------------------------------------------
def test_identity_priority_identifier_then_email_then_name(tmp_path):
    result = run(tmp_path, [
        # identifier of A001 but the e-mail of A002: the identifier wins
        response(0, [LABEL[RADIO]], email="hugo.petit@apprenants.example"),
        # no identifier: the e-mail (any case) says A002
        response(1, [LABEL[RADIO]], idnumber="", email="HUGO.Petit@apprenants.example"),
        # no identifier, another e-mail, name written « Nom Prénom » without accent or hyphen: A005
        response(None, [LABEL[RADIO]], first_name="Le Gall", last_name="Marie Claire", idnumber="",
                 email="mc@perso.example"),
        # no identifier, e-mail unknown, accents dropped: A006
        response(None, [LABEL[RADIO]], first_name="Ines", last_name="BENALI", idnumber="", email="x@perso.example"),
    ])
    subs = result.submissions.set_index("source_row")
    assert list(subs["learner_id"]) == ["A001", "A002", "A005", "A006"]
    assert list(subs["matched_by"]) == ["identifiant", "courriel", "nom", "nom"]


def test_ambiguous_name_is_an_error_not_a_guess(tmp_path):
    result = run(tmp_path, [response(None, [LABEL[RADIO]], first_name="Camille", last_name="Durand", idnumber="",
                                     email="camille@perso.example"),
                            response(2, [LABEL[RADIO]])])  # the same name with its identifier is fine
    rejected = result.rejected[result.rejected["consequence"] == app.SUBMISSION_REJECTED]
    assert len(rejected) == 1 and rejected.iloc[0]["source_row"] == 2
    assert "« Camille Durand » partagé par plusieurs apprenants de la liste (A003, A004)" in rejected.iloc[0]["reason"]
    assert prefs(result, "A003") == [RADIO] and "A004" in set(result.non_respondents["learner_id"])


def test_someone_not_in_the_roster_is_rejected(tmp_path):
    result = run(tmp_path, [response(None, [LABEL[RADIO]], first_name="Ambre", last_name="Vasseur", idnumber="Z999",
                                     email="ambre@apprenants.example")])
    row = result.rejected.iloc[0]
    assert row["consequence"] == app.SUBMISSION_REJECTED and pd.isna(row["learner_id"])
    assert row["reason"].startswith("apprenant absent de la liste de la promotion (identifiant « Z999 »")
    assert row["learner"] == "Ambre Vasseur" and "Z999" in row["value"]
    assert result.preferences.empty and result.metrics["submissions_rejected"] == 1


# --- choices ----------------------------------------------------------------------------------------------
def test_repeated_project_dropped_and_ranks_close_up(tmp_path):
    result = run(tmp_path, [response(0, [LABEL[RADIO], LABEL[SLAM], LABEL[RADIO], LABEL[FRESQUE]])])
    assert prefs(result, "A001") == [RADIO, SLAM, FRESQUE]
    row = result.rejected.iloc[0]
    assert (row["column"], row["reason"], row["consequence"]) == (
        "(choix3) Choix n°3", f"projet {RADIO} déjà classé au rang 1", app.CHOICE_DROPPED)
    assert row["value"] == LABEL[RADIO].replace("'", "&#039;")  # the value as in the file


def test_project_not_open_to_the_learners_track(tmp_path):
    result = run(tmp_path, [response(1, [LABEL[SLAM], LABEL[CRECHE]]), response(0, [LABEL[SLAM], LABEL[CRECHE]])])
    assert prefs(result, "A002") == [CRECHE] and prefs(result, "A001") == [SLAM]
    assert reasons(result, "A002") == [f"projet {SLAM} non ouvert à la filière EJE (filières ouvertes : ES)"]
    assert reasons(result, "A001") == [f"projet {CRECHE} non ouvert à la filière ES (filières ouvertes : EJE)"]


def test_unknown_and_non_retained_projects(tmp_path):
    result = run(tmp_path, [response(0, ["Atelier cirque", LABEL[RADIO], f"{OLD} – Jardin partagé et land art",
                                         "jardin  PARTAGE et land-art", "Jardin partagé et land art", LABEL[SLAM]])],
                 writer=lambda rs: mf.feedback_export(rs, 6))
    assert prefs(result, "A001") == [RADIO, SLAM]
    assert reasons(result) == ["projet inconnu : ni code ni titre d'un projet retenu",
                               f"projet {OLD} non retenu par la commission",
                               "projet inconnu : ni code ni titre d'un projet retenu",  # hyphen ≠ space
                               f"projet {OLD} non retenu par la commission"]
    # without the list of every project received, a non-retained one is simply unknown
    again = run(tmp_path, [response(0, [f"{OLD} – Jardin partagé et land art"])], known=None)
    assert reasons(again)[0].startswith("projet inconnu")


def test_titles_match_without_accents_case_or_spacing_and_never_by_position(tmp_path):
    feedback = run(tmp_path, [response(0, ["  creation D’UNE fresque   murale ", "atelier d'ecriture et SLAM"])],
                   writer=lambda rs: mf.feedback_export(rs, 2))
    assert prefs(feedback, "A001") == [FRESQUE, SLAM]
    # ratingallocate columns in another order than the catalogue, titles only: same preferences
    titles = list(reversed(CATALOGUE["title"]))
    ranking = ["Création d'une fresque murale", "Atelier d'écriture et slam"]
    shuffled = run(tmp_path, [response(0, ranking)], writer=lambda rs: mf.ratingallocate_export(rs, titles, 4))
    assert prefs(shuffled, "A001") == [FRESQUE, SLAM]


def test_code_wins_and_shared_titles_need_the_code(tmp_path):
    twin = pd.concat([CATALOGUE, pd.DataFrame({"project_code": ["PF7TT"], "title": ["Atelier radio avec des adolescents"],
                                               "tracks": [["ES"]], "team_min": [3], "team_max": [6],
                                               "structure_name": ["ESAT"]})], ignore_index=True)
    result = run(tmp_path, [response(0, ["Atelier radio avec des adolescents", "PF7TT – Atelier radio avec des adolescents",
                                         f"Atelier radio ({RADIO})"])], catalogue=twin)
    assert prefs(result, "A001") == ["PF7TT", RADIO]
    assert reasons(result) == [f"titre commun à plusieurs projets retenus ({RADIO}, PF7TT) : ajoutez le code du "
                               "projet aux libellés des choix dans Moodle"]


def test_rank_gap_closes_up_with_its_reason(tmp_path):
    result = run(tmp_path, [response(0, [LABEL[RADIO], None, None, LABEL[SLAM], None])])
    assert prefs(result, "A001") == [RADIO, SLAM]
    assert list(result.rejected["column"]) == ["(choix2) Choix n°2", "(choix3) Choix n°3"]
    assert set(result.rejected["consequence"]) == {app.RANK_CLOSED}
    assert result.metrics["rank_gaps_closed"] == 2 and result.metrics["choices_dropped"] == 0


def test_tied_ranks_are_dropped_not_guessed(tmp_path):
    def questionnaire(rs):
        data = mf.questionnaire_export(rs, list(LABEL.values()))
        return data.replace(b",1,2,'-1,'-1\n", b",1,2,2,'-1\n", 1)  # two projects both ranked 2nd
    result = run(tmp_path, [response(0, [LABEL[RADIO], LABEL[SLAM]])], writer=questionnaire)
    assert prefs(result, "A001") == [RADIO]
    assert reasons(result) == ["plusieurs projets classés au rang 2 : ordre de préférence indéterminé"] * 2


def test_a_submission_without_any_valid_choice_is_rejected(tmp_path):
    result = run(tmp_path, [response(1, [LABEL[SLAM], "Atelier cirque"])])
    assert reasons(result) == [f"projet {SLAM} non ouvert à la filière EJE (filières ouvertes : ES)",
                               "projet inconnu : ni code ni titre d'un projet retenu",
                               "aucun choix valable dans cette candidature"]
    assert result.rejected.iloc[-1]["consequence"] == app.SUBMISSION_REJECTED
    row = result.non_respondents.set_index("learner_id").loc["A002"]
    assert row["reason"] == "candidature rejetée : ligne 2 (motifs dans les rejets)"


def test_a_broken_line_is_rejected_whole(tmp_path):
    def truncated(rs):
        data = mf.feedback_export(rs, 5)
        lines = data.split(b"\n")
        lines[2] = lines[2].rsplit(b",", 3)[0]  # Hugo's line loses its last fields
        return b"\n".join(lines)
    result = run(tmp_path, [response(0, [LABEL[RADIO]]), response(1, [LABEL[CRECHE]])], writer=truncated)
    row = result.rejected.iloc[0]
    assert (row["source_row"], row["learner_id"], row["column"], row["consequence"]) == (
        3, "A002", "(ligne entière)", app.SUBMISSION_REJECTED)
    assert row["reason"].startswith("ligne illisible : la ligne compte 8 champs")
    assert prefs(result, "A001") == [RADIO] and "A002" in set(result.non_respondents["learner_id"])


# --- several submissions -----------------------------------------------------------------------------------
def test_latest_submission_wins_by_date_not_file_order(tmp_path):
    result = run(tmp_path, [
        response(0, [LABEL[FRESQUE]], when=datetime(2025, 10, 25, 9, 0)),         # row 2: latest
        response(0, [LABEL[RADIO], LABEL[RADIO]], when=datetime(2025, 10, 20, 9, 0)),  # row 3: earlier
        response(0, ["Atelier cirque"], when=datetime(2025, 10, 28, 9, 0)),          # row 4: later but invalid
    ])
    assert prefs(result, "A001") == [FRESQUE]
    sup = result.superseded.iloc[0]
    assert (sup["source_row"], sup["replaced_by_row"]) == (3, 2)
    assert sup["reason"] == "remplacée par la candidature plus récente de la ligne 2 du 25/10/2025 09:00"
    assert 3 not in set(result.rejected["source_row"])  # a superseded candidature's choices are not reported
    assert result.notes == ["La candidature rejetée de la ligne 4 (Léa Martin) n'a pas remplacé la candidature "
                            "valable de la ligne 2."]
    m = result.metrics
    assert (m["submissions_read"], m["submissions_valid"], m["submissions_superseded"], m["submissions_rejected"]) == (3, 1, 1, 1)


def test_without_dates_the_file_order_decides_and_says_so(tmp_path):
    titles = list(CATALOGUE["title"])
    result = run(tmp_path, [response(0, [titles[0]]), response(0, [titles[3]])],
                 writer=lambda rs: mf.ratingallocate_export(rs, titles, 4))
    assert prefs(result, "A001") == [FRESQUE]
    assert result.superseded.iloc[0]["reason"].endswith("(sans date dans l'export : ordre du fichier)")


# --- outputs -------------------------------------------------------------------------------------------------
def test_demand_conflicts_and_solver_input(tmp_path):
    result = run(tmp_path, [response(0, [LABEL[RADIO], LABEL[SLAM]]), response(4, [LABEL[SLAM], LABEL[RADIO]]),
                            response(1, [LABEL[RADIO], LABEL[CRECHE]])])
    demand = result.demand.set_index("project_code")
    assert demand.loc[RADIO, ["first_choices", "first_choices_ES", "first_choices_EJE", "top3", "applicants"]].tolist() == [2, 1, 1, 3, 3]
    assert demand.loc[SLAM, ["first_choices", "top3_ES", "top3_EJE"]].tolist() == [1, 2, 0]
    assert list(demand["under_minimum"]) == [False, True, True, True]
    conflict = result.conflicts.iloc[0]
    assert (conflict["learner_id"], conflict["project_code"], conflict["rank"]) == ("A005", RADIO, 2)
    ranking, tracks = app.solver_input(result.preferences)
    assert ranking == {"A001": [RADIO, SLAM], "A002": [RADIO, CRECHE], "A005": [SLAM, RADIO]}
    assert tracks == {"A001": "ES", "A002": "EJE", "A005": "ES"}


def test_commission_retained_projects_are_a_catalogue(tmp_path):
    retained = CATALOGUE.drop(columns=["tracks", "team_max"]).assign(
        tracks_open=[("ES",), ("ES",), ("EJE",), ("ES", "EJE")], decided_team_min=[2, 2, 2, 2],
        decided_team_max=[5, 5, 5, 5], decision_code="retained", trainer="X")
    catalogue = app.as_catalogue(retained)
    assert list(catalogue.columns) == app.CATALOGUE_COLUMNS + ["structure_name"]
    assert catalogue.loc[0, "tracks"] == ["ES"] and catalogue.loc[3, "tracks"] == ["EJE", "ES"]
    assert list(catalogue["team_min"]) == [2, 2, 2, 2]  # the decided sizes win over the proposed ones
    result = run(tmp_path, [response(1, [LABEL[RADIO], LABEL[FRESQUE]])], catalogue=retained)
    assert prefs(result, "A002") == [FRESQUE]  # RADIO is ES-only once decided
    with pytest.raises(ValueError, match="team_max"):
        app.as_catalogue(CATALOGUE.drop(columns="team_max"))


def test_metrics_identities(tmp_path):
    result = run(tmp_path, [response(0, [LABEL[RADIO]]), response(0, [LABEL[SLAM]], when=datetime(2025, 10, 21)),
                            response(None, [LABEL[RADIO]], first_name="X", last_name="Y", idnumber="Z1", email="z@x.example"),
                            response(1, [])])  # a row without any choice is not a candidature
    m = result.metrics
    assert m["learners"] == m["respondents"] + m["non_respondents"] == 6 and m["respondents"] == 1
    assert m["submissions_read"] == m["submissions_valid"] + m["submissions_rejected"] + m["submissions_superseded"] == 3
    assert m["rows_read"] == m["submissions_read"] + m["rows_without_choice"] == 4
    assert "A002" in set(result.non_respondents["learner_id"])


# --- the edition: mapping, config, files -------------------------------------------------------------------
def make_edition(tmp_path: Path, files: dict[str, bytes], config: dict, mapping: dict | None = None) -> Edition:
    root = tmp_path / "repo"
    (root / "inputs" / "t").mkdir(parents=True)
    shutil.copy(ROOT / "dvc.yaml", root / "dvc.yaml")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["editions"] = {"t": {"files": {"roster": "promotion.csv", "applications": "candidatures.csv"}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    (root / "inputs" / "t" / "edition.yaml").write_text(yaml.safe_dump({"title": "T", "vocabularies": {"tracks": TRACKS}, **config}, allow_unicode=True),
                                                         encoding="utf-8")
    mapping = mapping if mapping is not None else {"roster": demo.ROSTER_MAPPING, "applications": demo.APPLICATIONS_MAPPING}
    (root / "inputs" / "t" / "mapping.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    for name, data in files.items():
        (root / "inputs" / "t" / name).write_bytes(data)
    return Edition.load("t", root)


def edition_files():
    return {"promotion.csv": roster_bytes(),
            "candidatures.csv": mf.feedback_export([response(0, [LABEL[RADIO]]), response(1, [LABEL[CRECHE]])], 5)}


def test_ingest_reads_the_edition(tmp_path):
    edition = make_edition(tmp_path, edition_files(), {"applications": {"non_respondents": "manual"}})
    result = app.ingest(edition, CATALOGUE, KNOWN)
    assert result.policy == "manual" and result.policy_label == app.POLICIES["manual"]
    assert result.roster_raw.file == "promotion.csv" and result.export.format == "feedback"
    assert app.solver_input(result.preferences)[0] == {"A001": [RADIO], "A002": [CRECHE]}
    assert len(result.non_respondents) == 4


@pytest.mark.parametrize("config, words", [
    ({}, "applications.non_respondents"),
    ({"applications": {"non_respondents": "au hasard"}}, "inconnue « au hasard »"),
])
def test_non_respondent_policy_must_be_stated(tmp_path, config, words):
    with pytest.raises(ConfigError) as info:
        app.ingest(make_edition(tmp_path, edition_files(), config), CATALOGUE)
    assert words in str(info.value) and "edition.yaml" in str(info.value) and "any_project" in str(info.value)


def test_missing_roster_mapping_or_column_is_a_clear_error(tmp_path):
    config = {"applications": {"non_respondents": "any_project"}}
    with pytest.raises(ConfigError, match="Section « roster » absente"):
        app.ingest(make_edition(tmp_path / "a", edition_files(), config, {"applications": {}}), CATALOGUE)
    mapping = {"roster": {"fields": dict(demo.ROSTER_MAPPING["fields"], learner_id="Matricule")}}
    with pytest.raises(ConfigError, match="« learner_id ».*« Matricule ».*« Identifiant »"):
        app.ingest(make_edition(tmp_path / "b", edition_files(), config, mapping), CATALOGUE)


# --- the demo cohort ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    projects = ingest_projects(Edition.load("demo", ROOT)).projects
    catalogue = demo.demo_catalogue(projects)
    others = projects[~projects["project_code"].isin(catalogue["project_code"])]
    non_retained = [demo.choice_label(next(others.itertuples()))]
    files = demo.demo_files(catalogue, non_retained=non_retained)
    folder = tmp_path_factory.mktemp("demo")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    roster, rejected = app.parse_roster(read_table(folder / demo.ROSTER_FILE), demo.ROSTER_MAPPING["fields"], TRACKS)
    export = read_moodle_export(folder / demo.PREFERENCES_FILE)
    result = app.validate(export, roster, catalogue, tracks=tuple(TRACKS), policy="any_project", known_projects=projects,
                          roster_rejected=rejected)
    _, _, cases = demo.demo_cohort(catalogue, non_retained=non_retained)
    return {"catalogue": catalogue, "files": files, "result": result, "cases": cases, "non_retained": non_retained}


def test_demo_catalogue_stand_in(demo_run):
    catalogue = demo_run["catalogue"]
    assert len(catalogue) == 25 and catalogue["project_code"].is_unique
    assert all(code in demo.choice_label(p) for code, p in zip(catalogue["project_code"], catalogue.itertuples()))
    assert (catalogue["team_min"] <= catalogue["team_max"]).all()
    assert catalogue["team_max"].sum() >= 1.1 * 250
    assert {"ES", "EJE"} == {t for ts in catalogue["tracks"] for t in ts}


def test_demo_metrics_identity_and_shape(demo_run):
    m = demo_run["result"].metrics
    assert m["learners"] == m["respondents"] + m["non_respondents"] == 250
    assert m["submissions_read"] == m["submissions_valid"] + m["submissions_rejected"] + m["submissions_superseded"]
    assert m["rows_read"] == m["submissions_read"] + m["rows_without_choice"]
    assert 0.01 <= m["non_respondents"] / m["learners"] <= 0.10  # ~2 %: few enough that a deserted project must close
    assert (m["submissions_rejected"], m["submissions_superseded"], m["roster_rows_rejected"]) == (2, 3, 0)
    roster = demo_run["result"].roster
    assert 0.62 <= (roster["track"] == "ES").mean() <= 0.70


def test_demo_messy_cases_have_their_reasons(demo_run):
    result, cases = demo_run["result"], demo_run["cases"]

    def reasons_of(case):
        (learner_id,) = cases[case]
        return " | ".join(reasons(result, learner_id))

    assert "déjà classé au rang 1" in reasons_of("repeated")
    assert "non ouvert à la filière EJE" in reasons_of("wrong_track")
    assert "projet inconnu" in reasons_of("unknown")
    assert "non retenu par la commission" in reasons_of("non_retained")
    assert "rang 2 laissé vide" in reasons_of("gap")
    outsiders = result.rejected[result.rejected["consequence"] == app.SUBMISSION_REJECTED]
    assert sorted(re.findall(r"identifiant « (\w+) »", " ".join(outsiders["reason"]))) == sorted(cases["outsiders"])
    assert sorted(result.superseded["learner_id"]) == sorted(cases["twice"])
    assert sorted(result.non_respondents["learner_id"]) == sorted(cases["non_respondents"])
    subs = result.submissions.set_index("learner_id")
    assert subs.loc[cases["by_email"][0], "matched_by"] == "courriel"
    assert subs.loc[cases["by_name"][0], "matched_by"] == "nom"
    assert cases["conflict"][0] in set(result.conflicts["learner_id"])
    demand = result.demand.set_index("project_code")
    assert demand.loc[cases["deserted"][0], "under_minimum"] and demand["first_choices"].max() > demand["team_max"].min()


def test_demo_bytes_are_messy_like_moodle(demo_run):
    moodle = demo_run["files"][demo.PREFERENCES_FILE]
    roster = demo_run["files"][demo.ROSTER_FILE]
    assert moodle.startswith(b"\xef\xbb\xbf\"Nom complet de l\xe2\x80\x99utilisateur\"") and b"\r\n" not in moodle
    assert b"&#039;" in moodle and b"&amp;" in moodle and b",\"'- disponible" in moodle and b",'=)" in moodle
    assert roster.startswith("\ufeffNom;Prénom;Identifiant;Courriel;Filière;Structure employeuse\r\n".encode("utf-8"))


def test_demo_is_deterministic(demo_run):
    catalogue, non_retained = demo_run["catalogue"], demo_run["non_retained"]
    again = demo.demo_files(catalogue, non_retained=non_retained)
    assert again == demo_run["files"]
    other = demo.demo_files(catalogue, seed=7, non_retained=non_retained)
    assert other[demo.ROSTER_FILE] != again[demo.ROSTER_FILE]


def test_demo_people_are_synthetic(demo_run):
    seeds = " ".join(fold(p.read_text(encoding="utf-8")) for p in Path("/work/shared/seeds").glob("*.txt")) \
        if Path("/work/shared/seeds").is_dir() else ""
    learners, responses, _ = demo.demo_cohort(demo_run["catalogue"])
    for person in learners + responses:
        assert person["email"].endswith(".example")
        if seeds:
            assert fold(f"{person['first_name']} {person['last_name']}") not in seeds
            assert fold(person["last_name"]) not in {"bonnet", "anselme", "rebeix"}
