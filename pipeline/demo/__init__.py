"""Seeded generators of the synthetic demo edition's input files (one module per stage's inputs).
May import every package but ``cockpit`` and ``cli``; nothing in ``pipeline`` imports it.

Nothing here is a real person: names are drawn from common first and last names, e-mail addresses use
the reserved ``.example`` domain and phone numbers the ranges ARCEP reserves for fiction.
``python -m pipeline.demo`` rewrites ``inputs/demo/``'s exports; a test checks they are up to date.
"""
