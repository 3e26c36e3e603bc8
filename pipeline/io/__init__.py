"""File formats: reading exports (CSV, XLSX, Moodle), mapping and validating columns, writing workbooks,
HTML fragments, charts and e-mail drafts. May import ``pipeline.contract`` and ``schemas``."""
