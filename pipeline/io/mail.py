"""E-mail drafts (``.eml``) and their sending.

Drafts are byte-stable outputs: no ``Date`` header (added when sending), a ``Message-ID`` derived
from the edition and the recipient, a single text part (no random MIME boundary). Header values from
forms are cleaned of CR/LF and control characters so nothing can inject a header.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import smtplib
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from ..contract.errors import StagescoError
from . import fr

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def header_text(value) -> str:
    """A header-safe single line: CR, LF, TAB and other control characters become spaces."""
    return re.sub(r"\s{2,}", " ", _CONTROL.sub(" ", str(value or ""))).strip()


def message_id(*parts: str, domain: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{header_text(domain) or 'stagesco.invalid'}>"


def referent_address(name, structure: str, email) -> Address:
    """The referent of a project as a recipient: their name, else the structure's; a French
    :class:`StagescoError` when the form gave no e-mail address or an unusable one."""

    if fr.is_missing(email):
        raise StagescoError("aucune adresse de courriel du référent dans le dépôt")
    return address(fr.text(name, missing=structure), email)


def address(name: str, email: str) -> Address:
    """A validated address; a French :class:`StagescoError` when the e-mail is not usable."""
    email = header_text(email)
    if not re.fullmatch(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+", email):
        raise StagescoError(f"adresse de courriel inutilisable « {email} »")
    local, domain = email.rsplit("@", 1)
    if not local.isascii():
        raise StagescoError(f"adresse de courriel inutilisable « {email} » (caractères accentués avant @)")
    try:
        domain = domain.encode("idna").decode("ascii")  # les-genêts.example → xn--les-gents-…
    except UnicodeError:
        raise StagescoError(f"adresse de courriel inutilisable « {email} » (nom de domaine invalide)")
    return Address(display_name=header_text(name), username=local, domain=domain)


@dataclass
class Draft:
    file_name: str
    to: Address
    subject: str
    body: str
    message_id: str


def render(draft: Draft, sender: Address) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = draft.to
    msg["Subject"] = header_text(draft.subject)
    msg["Message-ID"] = draft.message_id
    msg.set_content(draft.body.replace("\r\n", "\n"), charset="utf-8", cte="quoted-printable")
    return msg.as_bytes()


# --- sending ---------------------------------------------------------------------------------------
def smtp_settings() -> dict:
    """SMTP settings from the environment (never from a file in git)."""
    return {
        "host": os.environ.get("STAGESCO_SMTP_HOST", ""),
        "port": int(os.environ.get("STAGESCO_SMTP_PORT", "587")),
        "user": os.environ.get("STAGESCO_SMTP_USER", ""),
        "password": os.environ.get("STAGESCO_SMTP_PASSWORD", ""),
        "starttls": os.environ.get("STAGESCO_SMTP_STARTTLS", "1") not in ("0", "false", "non"),
    }


def sent_log(state: Path) -> dict[str, dict]:
    path = state / "sent.jsonl"
    if not path.exists():
        return {}
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {e["message_id"]: e for e in entries}


def send_outbox(outbox: Path, state: Path, *, really: bool, log=print) -> tuple[int, int]:
    """Send every draft of ``outbox`` not yet in the sent log; dry run unless ``really``.
    Returns (sent or to send, already sent)."""
    if not outbox.is_dir():
        raise StagescoError(f"Dossier de courriels introuvable : {outbox}", hint="Exécutez d'abord l'étape qui les rédige")
    done = sent_log(state)
    drafts = sorted(outbox.glob("*.eml"))  # only drafts: the folder's index.html is for reading
    settings = smtp_settings()
    if really and not settings["host"]:
        raise StagescoError("Serveur d'envoi non configuré",
                            hint="Définissez STAGESCO_SMTP_HOST (et STAGESCO_SMTP_PORT, STAGESCO_SMTP_USER, STAGESCO_SMTP_PASSWORD)")
    todo, skipped = [], 0
    for path in drafts:
        msg = message_from_bytes(path.read_bytes(), policy=policy.SMTP)
        if msg["Message-ID"] in done:
            skipped += 1
            continue
        todo.append((path, msg))
    if not really:
        from .outbox import read_draft

        for path, msg in todo:
            draft = read_draft(path)
            log(f"  (simulation) {draft.file_name}\n    À : {draft.to}\n    Objet : {draft.subject}")
            for line in draft.first_lines():
                log(f"    | {line}")
        log(f"{fr.count(len(todo), 'courriel')} à envoyer, {fr.count(skipped, 'déjà envoyé', 'déjà envoyés')}. "
        "Ajoutez --envoyer pour les envoyer.")
        return len(todo), skipped
    state.mkdir(parents=True, exist_ok=True)
    with smtplib.SMTP(settings["host"], settings["port"], timeout=30) as server:
        if settings["starttls"]:
            server.starttls()
        if settings["user"]:
            server.login(settings["user"], settings["password"])
        with open(state / "sent.jsonl", "a", encoding="utf-8") as journal:
            for path, msg in todo:
                msg["Date"] = formatdate(localtime=True)
                server.send_message(msg)
                journal.write(json.dumps({"message_id": msg["Message-ID"], "file": path.name, "to": str(msg["To"]),
                                          "date": msg["Date"]}, ensure_ascii=False) + "\n")
                journal.flush()
                log(f"  envoyé : {path.name} → {msg['To']}")
    log(f"{fr.count(len(todo), 'courriel envoyé', 'courriels envoyés')}, "
        f"{fr.count(skipped, 'déjà envoyé', 'déjà envoyés')} auparavant.")
    return len(todo), skipped
