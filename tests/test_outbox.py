"""E-mails a person can review: each outbox folder's ``index.html`` lists every draft (recipient, subject,
body decoded and escaped), ``stagesco send`` skips it and its dry run prints the same list; the partner of
a project closed at assignment gets a draft saying so and why."""

from __future__ import annotations

import re
from email.headerregistry import Address

import pandas as pd
import pytest

from pipeline.io import mail, outbox

SENDER = Address("École", "stages", "ecole.example")


def _draft(folder, name: str, to: str, subject: str, body: str) -> None:
    draft = mail.Draft(name, mail.address("Camille Martin", to), subject, body,
                       mail.message_id("t", name, domain="ecole.example"))
    (folder / name).write_bytes(mail.render(draft, SENDER))


@pytest.fixture
def box(tmp_path):
    folder = tmp_path / "outbox"
    folder.mkdir()
    _draft(folder, "B.eml", "b@ex.example", "Objet « deux »", "Bonjour,\n\nLigne à lire — é è ç œ.\n<script>x</script>\n")
    _draft(folder, "A.eml", "a@ex.example", "Objet <un>", "Première ligne\nDeuxième ligne\nTroisième\nQuatrième\n")
    return folder


def test_a_draft_reads_back_decoded(box):
    draft = outbox.read_draft(box / "B.eml")
    assert draft.to == "Camille Martin <b@ex.example>" and draft.subject == "Objet « deux »"
    assert "Ligne à lire — é è ç œ." in draft.body and "=C3" not in draft.body  # no quoted-printable
    assert draft.first_lines() == ["Bonjour,", "Ligne à lire — é è ç œ.", "<script>x</script>"]


def test_the_index_lists_every_draft_escaped_in_file_order(box):
    path = outbox.write_index(box, title="Courriels", intro="À relire.", edition_title="Test")
    page = path.read_text(encoding="utf-8")
    assert page.index("A.eml") < page.index("B.eml")
    assert "Objet &lt;un&gt;" in page and "&lt;script&gt;x&lt;/script&gt;" in page and "<script>" not in page
    assert "Ligne à lire — é è ç œ." in page and "Quatrième" in page  # the whole body, decoded
    assert "a@ex.example" in page and 'href="../../index.html"' in page and 'href="A.eml"' in page
    assert page == outbox.index_html(box, title="Courriels", intro="À relire.", edition_title="Test")  # stable
    assert [d.file_name for d in outbox.drafts(box)] == ["A.eml", "B.eml"]  # the page itself is not a draft


def test_the_dry_run_prints_recipient_subject_and_first_lines_and_skips_the_index(box, tmp_path):
    outbox.write_index(box, title="Courriels", intro="", edition_title="Test")
    lines: list[str] = []
    todo, done = mail.send_outbox(box, tmp_path / "state", really=False, log=lines.append)
    text = "\n".join(lines)
    assert (todo, done) == (2, 0)
    assert "À : Camille Martin <a@ex.example>" in text and "Objet : Objet <un>" in text
    assert "| Première ligne" in text and "| Troisième" in text and "Quatrième" not in text
    assert "index.html" not in text


# --- slow: the demo run ---------------------------------------------------------------------------------
def test_every_outbox_has_its_index_linked_from_the_home_page(demo_run):
    out = demo_run / "outputs" / "demo"
    boxes = sorted({p.parent for p in out.rglob("*.eml")})
    assert len(boxes) >= 2
    home = (out / "index.html").read_text(encoding="utf-8")
    for folder in boxes:
        page = (folder / "index.html").read_text(encoding="utf-8")
        drafts = sorted(folder.glob("*.eml"))
        assert len(re.findall(r'<section class="card mail"', page)) == len(drafts), folder
        assert all(f'href="{d.name}"' in page for d in drafts)
        assert f'href="{folder.relative_to(out).as_posix()}/index.html"' in home


def test_the_partner_of_a_project_closed_at_assignment_is_told_why(demo_run):
    out = demo_run / "outputs" / "demo"
    closed = pd.read_json(out / "assignment" / "metrics.json", typ="series")["projects_closed"]
    retained = pd.read_parquet(out / "commission" / "projets_retenus.parquet").set_index("project_code")
    opened = set(pd.read_parquet(out / "assignment" / "affectations.parquet")["project_code"])
    shut = sorted(set(retained.index) - opened)
    assert closed == len(shut) >= 1  # the demo closes a project on purpose
    for code in shut:
        draft = outbox.read_draft(out / "assignment" / "outbox" / f"{code}_ferme.eml")
        assert retained.loc[code, "referent_email"] in draft.to
        assert retained.loc[code, "title"] in draft.subject and "n'ouvrira pas" in draft.subject
        minimum = int(retained.loc[code, "decided_team_min"])
        assert f"effectif minimum de {minimum}" in draft.body and "classé" in draft.body
