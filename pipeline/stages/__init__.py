"""One module per stage (logic) and one per stage report (outputs and report fragments)."""
