"""An outbox a person can review before sending: every ``.eml`` draft read back (recipient, subject, body
decoded from quoted-printable) and listed in the folder's ``index.html``, and in the dry run of
``stagesco send``. The page is escaped (Jinja2 autoescape), offline and byte-stable (drafts in file order)."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import jinja2

from ..contract import atomic
from ..contract.paths import REPORT_CSS

INDEX = "index.html"

PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{{ title }} — {{ edition_title }}</title>
<style>
{{ css | safe }}
pre.mail { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit; background: var(--bg-soft);
           padding: .6rem .8rem; margin: .3rem 0 0; }
</style>
</head>
<body>
<header class="page-head"><span class="brand">stagesco</span> · {{ edition_title }} · {{ title }}</header>
<main>
<p class="home-link"><a href="{{ home }}">← Tableau de bord de l’édition</a></p>
<h1>{{ title }}</h1>
<p>{{ intro }}</p>
<div class="table-wrap" id="liste"><table class="data">
<thead><tr><th>N°</th><th>Destinataire</th><th>Objet</th><th>Brouillon</th></tr></thead>
<tbody>
{% for d in drafts %}<tr><td class="num"><a href="#m{{ loop.index }}">{{ loop.index }}</a></td><td>{{ d.to }}</td><td>{{ d.subject }}</td><td><a href="{{ d.href }}">{{ d.file_name }}</a></td></tr>
{% endfor %}</tbody></table></div>
{% for d in drafts %}
<section class="card mail" id="m{{ loop.index }}">
<h3>{{ loop.index }}. {{ d.subject }}</h3>
<dl class="facts"><dt>À</dt><dd>{{ d.to }}</dd><dt>De</dt><dd>{{ d.sender }}</dd><dt>Objet</dt><dd>{{ d.subject }}</dd><dt>Fichier</dt><dd>{{ d.file_name }}</dd></dl>
<pre class="mail">{{ d.body }}</pre>
<p class="back"><a href="#liste">Retour à la liste</a></p>
</section>
{% endfor %}
</main>
<footer class="provenance"><h2>Provenance</h2><p>Page écrite avec les brouillons de ce dossier ({{ drafts | length }} {{ "courriel" if drafts | length < 2 else "courriels" }}), dans l’ordre de leurs fichiers. Rien n’est envoyé depuis cette page : « stagesco send » envoie les brouillons (simulation sans --envoyer) et ne lit pas cette page.</p></footer>
</body>
</html>
"""


@dataclass
class DraftView:
    """A draft as a person reviews it."""

    file_name: str
    to: str
    sender: str
    subject: str
    body: str

    @property
    def href(self) -> str:
        from urllib.parse import quote

        return quote(self.file_name)

    def first_lines(self, count: int = 3) -> list[str]:
        return [line for line in self.body.splitlines() if line.strip()][:count]


def read_draft(path: Path) -> DraftView:
    """A ``.eml`` draft decoded: headers as text, the body without quoted-printable."""
    msg = message_from_bytes(Path(path).read_bytes(), policy=policy.SMTP)
    part = msg.get_body(preferencelist=("plain",)) or msg
    body = part.get_content() if part.get_content_maintype() == "text" else ""
    return DraftView(file_name=Path(path).name, to=str(msg["To"] or ""), sender=str(msg["From"] or ""),
                     subject=str(msg["Subject"] or ""), body=body.replace("\r\n", "\n").rstrip("\n"))


def drafts(outbox: Path) -> list[DraftView]:
    """Every draft of the folder, in file-name order (``index.html`` and other files are not drafts)."""
    return [read_draft(p) for p in sorted(Path(outbox).glob("*.eml"))]


def index_html(outbox: Path, *, title: str, intro: str, edition_title: str, home: str = "../../index.html") -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(PAGE).render(title=title, intro=intro, edition_title=edition_title, home=home,
                                        css=REPORT_CSS.read_text(encoding="utf-8"), drafts=drafts(outbox))


def write_index(outbox: Path, *, title: str, intro: str, edition_title: str, home: str = "../../index.html") -> Path:
    """Write ``outbox/index.html`` (the folder is created when there is no draft: the page then says so)."""
    Path(outbox).mkdir(parents=True, exist_ok=True)
    path = Path(outbox) / INDEX
    atomic.write_text(path, index_html(outbox, title=title, intro=intro, edition_title=edition_title, home=home))
    return path
