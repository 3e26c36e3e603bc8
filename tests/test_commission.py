"""Stage 30: the filled decision workbook read back, blocking errors and warnings, notifications,
the catalogue, and sending through a real local SMTP server."""

from __future__ import annotations

import email
import io
import socket
import subprocess
import sys
from email import policy

import pytest
from openpyxl import load_workbook

from pipeline.io import mail
from pipeline.contract.config import Edition
from pipeline.contract.errors import StagescoError
from pipeline.stages import commission, commission_report, eligibility, projects
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def demo():
    edition = Edition.load("demo", ROOT)
    table = eligibility.evaluate(edition, projects.ingest(edition).projects).projects
    return edition, table


def edited(tmp_path, changes: dict[tuple[int, str], object], drop_rows: int = 0):
    """A copy of the demo's filled workbook with cells changed: {(row, field): value}."""
    workbook = load_workbook(ROOT / "inputs" / "demo" / "decisions_commission.xlsx")
    sheet = workbook["Décisions"]
    header = [c.value for c in sheet[1]]
    labels = commission.header_labels()
    for (row, name), value in changes.items():
        sheet.cell(row, header.index(labels[name]) + 1).value = value
    if drop_rows:
        sheet.delete_rows(sheet.max_row - drop_rows + 1, drop_rows)
    path = tmp_path / "decisions.xlsx"
    workbook.save(path)
    return path


def find_row(status: str, decision: str | None = None):
    workbook = load_workbook(ROOT / "inputs" / "demo" / "decisions_commission.xlsx")
    sheet = workbook["Décisions"]
    header = [c.value for c in sheet[1]]
    s, d = header.index("Éligibilité"), header.index("Décision de la commission")
    for r, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if row[s] == status and (decision is None or (row[d] or "").strip().lower() == decision):
            return r, row[header.index("Code projet")]
    raise AssertionError(status)


def test_demo_workbook_gives_the_retained_list_with_warnings_only(demo):
    edition, table = demo
    result = commission.ingest(edition, table)
    m = result.metrics
    assert m["projects"] == m["retained"] + m["not_retained"] == len(table)
    assert m["places_min"] <= m["places_max"]
    text = "\n".join(result.warnings)
    assert "non éligible retenu" in text and "effectif fixé" in text and "projets (au-delà de 5)" in text
    assert result.retained["trainer"].notna().all() and result.retained["tracks_open"].map(len).min() >= 1


def test_places_short_of_the_expected_learners_are_a_warning_at_the_commission(demo):
    edition, table = demo
    retained = commission.ingest(edition, table).retained
    assert commission.capacity_warnings(retained, edition) == []  # the demo offers enough places
    config = dict(edition.config, commission=dict(edition.config["commission"], expected_learners={
        track: 300 if i == 0 else 10 for i, track in enumerate(edition.tracks)}))
    short = Edition(name=edition.name, params=edition.params, config=config)
    first = list(edition.tracks)[0]
    places = int(retained.loc[retained["tracks_open"].map(lambda t: first in list(t)), "decided_team_max"].sum())
    warnings = commission.capacity_warnings(retained, short)
    assert warnings[0].startswith(f"Filière {first} : {places} places au plus") and "300 apprenants attendus" in warnings[0]
    assert len(warnings) == 2 and "310 apprenants attendus" in warnings[1] and "élargissez des effectifs" in warnings[1]


@pytest.mark.parametrize("case, words", [
    ("pending", "décision encore « en attente »"),
    ("empty", "décision non renseignée"),
    ("unknown_value", "décision « peut-être » hors liste"),
    ("min_gt_max", "effectif minimum 12 supérieur au maximum 4"),
    ("trainer", "formateur « Jean Inconnu » absent de la liste"),
    ("non_eligible_no_motivation", "retenu sans motivation"),
    ("unknown_project", "projet inconnu"),
    ("missing_project", "absent du classeur"),
    ("not_a_number", "n'est pas un nombre entier"),
])
def test_blocking_problems_name_the_row(tmp_path, demo, case, words):
    edition, table = demo
    row, code = find_row("éligible", "retenu")
    changes, drop = {}, 0
    if case == "pending":
        changes[(row, "decision")] = "en attente"
    elif case == "empty":
        changes[(row, "decision")] = None
    elif case == "unknown_value":
        changes[(row, "decision")] = "peut-être"
    elif case == "min_gt_max":
        changes.update({(row, "decided_team_min"): 12, (row, "decided_team_max"): 4})
    elif case == "trainer":
        changes[(row, "trainer")] = "Jean Inconnu"
    elif case == "non_eligible_no_motivation":
        row, code = find_row("non éligible", "retenu")
        changes[(row, "motivation")] = None
    elif case == "unknown_project":
        changes[(row, "project_code")] = "PXXXX"
        code = "PXXXX"
    elif case == "missing_project":
        drop = 1
    elif case == "not_a_number":
        changes[(row, "decided_team_max")] = "dix"
    path = edited(tmp_path, changes, drop)
    with pytest.raises(commission.DecisionWorkbookError) as info:
        commission.read_decisions(path, edition, table)
    message = str(info.value)
    assert words in message and "decisions.xlsx" in message
    if case != "missing_project":
        assert f"ligne {row} ({code})" in message


def test_all_problems_are_listed_at_once(tmp_path, demo):
    edition, table = demo
    row, _ = find_row("éligible", "retenu")
    path = edited(tmp_path, {(row, "decision"): "en attente", (row + 1, "trainer"): "X"})
    with pytest.raises(commission.DecisionWorkbookError, match=r"contient 2 problèmes bloquants"):
        commission.read_decisions(path, edition, table)


def test_notifications_catalogue_and_outputs(tmp_path, demo):
    edition, table = demo
    result = commission.ingest(edition, table)
    sent = commission_report.write_outputs(result, edition, tmp_path)
    drafts = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(drafts) == sum(1 for s in sent if s["file"]) and len(drafts) >= len(table) - 2
    assert any("non rédigé" in s["status"] for s in sent)  # the demo project without a referent
    for path in drafts:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["Date"] is None and msg["Message-ID"].endswith("@ifsl.example>")
        body = msg.get_content()
        assert ("est retenu" in msg["Subject"]) == path.name.endswith("_retenu.eml")
        if path.name.endswith("_non-retenu.eml"):
            assert "motif suivant" in body
    again = tmp_path / "again"
    commission_report.write_outputs(result, edition, again)
    for path in drafts:
        assert (again / "outbox" / path.name).read_bytes() == path.read_bytes()
    page = (tmp_path / "catalogue.html").read_text(encoding="utf-8")
    assert page == (again / "catalogue.html").read_text(encoding="utf-8")
    for code in result.retained["project_code"]:
        assert f'id="{code}"' in page
    for phone in table["referent_phone"].dropna():
        assert phone not in page
    for mail_address in table["referent_email"].dropna():
        assert mail_address not in page
    assert "<img src=x" not in page
    if result.retained["title"].str.contains("<img", regex=False).any():
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_header_injection_is_impossible():
    to = mail.address("Nom\r\nBcc: victime@x.example", "ref@exemple.example")
    draft = mail.Draft("x.eml", to, "Objet\r\nX-Injected: 1", "Corps", mail.message_id("a", domain="ifsl.example"))
    raw = mail.render(draft, mail.address("École", "ecole@ifsl.example"))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert msg["Subject"] == "Objet X-Injected: 1"
    with pytest.raises(StagescoError, match="inutilisable"):
        mail.address("x", "a@b.example\r\nBcc: c@d.example")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_send_through_a_real_local_smtp_server_never_twice(tmp_path, demo, monkeypatch):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        edition, table = demo
        result = commission.ingest(edition, table)
        commission_report.write_outputs(result, edition, tmp_path)
        monkeypatch.setenv("STAGESCO_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("STAGESCO_SMTP_PORT", str(port))
        monkeypatch.setenv("STAGESCO_SMTP_STARTTLS", "0")
        state = tmp_path / "state"
        dry, _ = mail.send_outbox(tmp_path / "outbox", state, really=False, log=lambda *_: None)
        assert received == [] and dry > 0
        sent, skipped = mail.send_outbox(tmp_path / "outbox", state, really=True, log=lambda *_: None)
        assert sent == dry and skipped == 0 and len(received) == sent
        assert all(m["Date"] for m in received)
        sent2, skipped2 = mail.send_outbox(tmp_path / "outbox", state, really=True, log=lambda *_: None)
        assert (sent2, skipped2) == (0, sent) and len(received) == sent
    finally:
        controller.stop()


def test_send_refuses_without_server(tmp_path, monkeypatch):
    monkeypatch.delenv("STAGESCO_SMTP_HOST", raising=False)
    (tmp_path / "outbox").mkdir()
    with pytest.raises(StagescoError, match="STAGESCO_SMTP_HOST"):
        mail.send_outbox(tmp_path / "outbox", tmp_path / "state", really=True)
