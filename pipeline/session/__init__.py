"""The commission's live session (``stagesco session <edition>``): a local page to try, adopt and undo changes.
May import every package below it (``contract``, ``schemas``, ``io``, ``assign``, ``repro``, ``stages``, ``cockpit``)."""
