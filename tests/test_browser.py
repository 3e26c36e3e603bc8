"""Every generated HTML page, opened in a real browser (Debian's chromium via playwright).

Generic: every ``*.html`` under the demo run's ``outputs/`` is opened, so a new stage's report is
covered without new code. A page fails when it asks for anything but itself (``data:`` URLs are
fine), logs a console error or warning, raises a page error, is not French, lacks its ``<h1>`` or its
provenance footer, or spills sideways out of a laptop-sized window. A full-page screenshot of each
page is saved in the test's ``tmp_path`` (pytest prints where with ``-rA``/on failure).
"""

from __future__ import annotations

import re

import pytest

from tests.person import browser, output_id, outputs_of

pytestmark = pytest.mark.slow

VIEWPORT = {"width": 1280, "height": 900}


def _allowed(url: str, own: str) -> bool:
    return url == own or url.startswith("data:") or url == "about:blank"


def open_page(chromium, path):
    """Open ``path`` offline, recording every request, console message and page error."""
    context = chromium.new_context(viewport=VIEWPORT, locale="fr-FR", offline=True,
                                   service_workers="block", java_script_enabled=True)
    own = path.as_uri()
    seen = {"requests": [], "console": [], "errors": []}

    def route(route):  # nothing leaves the machine, but every attempt is recorded (page.on("request"))
        if _allowed(route.request.url, own):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    response = page.goto(own, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page, response, seen


def check_page(page, seen, own: str) -> list[str]:
    """What a reader of this page would be let down by (empty list: nothing)."""
    problems = []
    outside = [u for u in seen["requests"] if not _allowed(u, own)]
    if outside:
        problems.append(f"requêtes hors du fichier : {outside}")
    noisy = [m for m in seen["console"] if m.split(":")[0] in ("error", "warning", "assert")]
    if noisy:
        problems.append(f"messages de console : {noisy}")
    if seen["errors"]:
        problems.append(f"erreurs de page : {seen['errors']}")
    facts = page.evaluate("""() => ({
        lang: document.documentElement.getAttribute('lang'),
        title: document.title,
        h1: Array.from(document.querySelectorAll('h1')).map(h => h.innerText.trim()),
        footer: Array.from(document.querySelectorAll('footer')).map(f => f.innerText),
        scripts: document.scripts.length,
        width: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        brokenImages: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 60)),
        charset: document.characterSet,
        font: getComputedStyle(document.body).fontFamily,
        escapedCss: Array.from(document.querySelectorAll('style')).some(s => /&(#\\d+|#x[0-9a-f]+|quot|gt|lt|amp);/i.test(s.textContent)),
    })""")
    if facts["lang"] != "fr":
        problems.append(f'<html lang="fr"> absent (lang={facts["lang"]!r})')
    if not facts["h1"] or not all(facts["h1"]):
        problems.append("aucun titre <h1> visible")
    if len(facts["h1"]) > 1:
        problems.append(f"plusieurs <h1> : {facts['h1']}")
    if not facts["title"].strip():
        problems.append("<title> vide (l'onglet du navigateur n'a pas de nom)")
    if not any("Provenance" in f for f in facts["footer"]):
        problems.append("pied de page « Provenance » absent")
    if facts["scripts"]:
        problems.append(f"{facts['scripts']} script(s) dans la page")
    if facts["width"] > facts["viewport"]:
        problems.append(f"la page déborde horizontalement ({facts['width']} px pour une fenêtre de {facts['viewport']} px)")
    if facts["brokenImages"]:
        problems.append(f"images non affichées : {facts['brokenImages']}")
    if facts["charset"].lower() != "utf-8":
        problems.append(f"encodage de la page : {facts['charset']}")
    if facts["escapedCss"]:
        problems.append("feuille de style échappée comme du HTML (&#34; …) : ses règles sont ignorées")
    if re.match(r'^\W*(times|serif\b)', facts["font"], re.I):
        problems.append(f"police par défaut du navigateur ({facts['font']}) : la feuille de style ne s'applique pas")
    return problems


def test_every_report_in_a_real_browser(demo_run, tmp_path):
    pages = outputs_of(demo_run, "html")
    assert pages, "aucune page HTML sous outputs/ : le pipeline n'a rien publié"
    failures = {}
    with browser() as chromium:
        for path in pages:
            name = output_id(demo_run, path)
            context, page, response, seen = open_page(chromium, path)
            try:
                problems = check_page(page, seen, path.as_uri())
                if response is None or not response.ok:
                    problems.append("la page ne s'est pas ouverte")
                shot = tmp_path / (name.replace("/", "__") + ".png")
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000, f"capture d'écran vide pour {name}"
                print(f"capture : {shot}")
            finally:
                context.close()
            if problems:
                failures[name] = problems
    assert not failures, failures


def test_the_checker_sees_a_page_that_calls_out_and_logs_errors(tmp_path):
    """The browser check is not blind: a page with a CDN script, an error and no provenance fails it."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title>'
                   '<style>body { font-family: &#34;DejaVu Sans&#34;, sans-serif; }</style>'
                   '<link rel="stylesheet" href="https://cdn.example.org/x.css"></head><body>'
                   '<img src="http://tracker.example.org/p.gif"><div style="width:3000px">large</div>'
                   "<script>console.warn('attention'); undefined_function();</script></body></html>",
                   encoding="utf-8")
    with browser() as chromium:
        context, page, _, seen = open_page(chromium, bad)
        try:
            problems = " | ".join(check_page(page, seen, bad.as_uri()))
        finally:
            context.close()
    for expected in ("cdn.example.org", "tracker.example.org", "console", "erreurs de page", 'lang="fr"', "<h1>",
                     "Provenance", "script", "déborde", "échappée", "police par défaut"):
        assert expected in problems, (expected, problems)
