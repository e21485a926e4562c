"""Statistical disclosure control for figures that leave a site (the ministry sees aggregates only).

Primary suppression: a count of 1 to 4 is not shown (0 is: it tells nothing about a person). Secondary
suppression: where a column is shown with its total, hiding one small cell is not enough — the total minus the
others gives it back — so further cells are hidden, smallest first, until at least two are hidden and the hidden
cells together hold at least ``THRESHOLD`` (so neither one cell nor a small group can be recovered); when no cell
is left to hide, the total is hidden instead.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

THRESHOLD = 5

K = TypeVar("K", bound=Hashable)


def is_small(count: int | None) -> bool:
    return count is not None and 0 < count < THRESHOLD


def shown_count(count: int | None) -> int | None:
    """The count, or ``None`` when it must not be shown."""
    return None if count is None or is_small(count) else count


def share_disclosive(part: int | None, whole: int | None) -> bool:
    """A share gives away its part and the rest once its base is known: both must be 0 or at least THRESHOLD,
    and the base itself at least THRESHOLD."""
    if part is None or whole is None:
        return True
    return whole < THRESHOLD or is_small(part) or is_small(whole - part)


def hidden_cells(column: Mapping[K, int | None], with_total: bool = True) -> tuple[set[K], bool]:
    """Which cells of a column to hide, and whether its total must be hidden too.

    ``column`` maps row keys to counts (``None`` for a cell that has no figure, which hides nothing)."""
    hidden = {key for key, value in column.items() if is_small(value)}
    if not with_total or not hidden:
        return hidden, False
    candidates = sorted(
        (key for key, value in column.items() if key not in hidden and value),
        key=lambda key: (column[key] or 0, str(key)),
    )

    def recoverable() -> bool:
        return len(hidden) < 2 or sum(column[key] or 0 for key in hidden) < THRESHOLD

    while recoverable() and candidates:
        hidden.add(candidates.pop(0))
    return hidden, recoverable()
