"""The analyst's cockpit: where each stage of an edition stands and the edition's home page.
May import every package below it (``contract``, ``schemas``, ``io``, ``assign``, ``repro``, ``stages``)."""
