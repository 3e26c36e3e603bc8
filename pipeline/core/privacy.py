"""Small-count suppression in rendered pages: a count of learners below the threshold is shown as « < k ».

Only rendered pages (HTML reports, workbooks meant to be shared) are suppressed; metrics and history
records keep raw counts, so that suppression can be recomputed and checked.
"""

from __future__ import annotations

DEFAULT_THRESHOLD = 5


def threshold(params_data: dict) -> int:
    return int(((params_data.get("review") or {}).get("small_count_threshold")) or DEFAULT_THRESHOLD)


def suppress(count, k: int):
    """``count`` itself, or « < k » when it is a count of 1 to k − 1 learners (0 stays 0: nobody to identify)."""
    if count is None:
        return count
    return f"< {k}" if 0 < int(count) < k else int(count)
