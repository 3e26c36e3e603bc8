"""Small-count suppression in rendered pages: a count of learners below the threshold is shown as « < k ».

Only rendered pages (HTML reports, workbooks meant to be shared) are suppressed; metrics and history
records keep raw counts, so that suppression can be recomputed and checked.
"""

from __future__ import annotations

def threshold(params_data: dict) -> int:
    """``review.small_count_threshold`` of params.yaml."""
    return int(params_data["review"]["small_count_threshold"])


def suppress(count, k: int):
    """``count`` itself, or « < k » when it is a count of 1 to k − 1 learners (0 stays 0: nobody to identify)."""
    if count is None:
        return count
    return f"< {k}" if 0 < int(count) < k else int(count)


IDENTITY_COLUMNS = ("last_name", "first_name", "learner")  # shown only where the commission needs names
CONTACT_COLUMNS = ("email",)  # never in a report
OUTSIDE = "hors promotion"


class LearnerView:
    """How a report shows learners: under their stable per-edition pseudonym (never the school's
    identifier or e-mail), with their name only in the reports ``privacy.names_in_reports`` lists."""

    def __init__(self, edition, cohort_ids, stage: str):
        from .pseudonyms import pseudonyms

        self.codes = pseudonyms(edition, sorted({str(i) for i in cohort_ids}))
        self.names = stage in ((edition.params.data.get("privacy") or {}).get("names_in_reports") or [])

    def code(self, learner_id) -> str:
        return self.codes.get(str(learner_id).strip(), OUTSIDE)

    def frame(self, frame):
        """``frame`` with ``learner_id`` replaced by ``pseudonym`` (same place), contacts dropped, and names
        dropped unless this report may show them."""
        out = frame.copy()
        if "learner_id" in out.columns:
            out.insert(list(out.columns).index("learner_id"), "pseudonym", out["learner_id"].map(self.code))
            out = out.drop(columns=["learner_id"])
        drop = [c for c in CONTACT_COLUMNS if c in out.columns]
        if not self.names:
            drop += [c for c in IDENTITY_COLUMNS if c in out.columns]
        return out.drop(columns=drop)
