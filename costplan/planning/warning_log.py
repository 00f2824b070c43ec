"""The warnings of one estimate, collected as the stages run and handed to the document once.

Every stage that finds something worth saying (a tier resolved with a caveat, a prefix too short to cache, a
model retiring inside the horizon, a limit exceeded) adds it here instead of appending to a shared list, so
the order and the de-duplication rules live in one place.
"""

from __future__ import annotations


class WarningLog:
    """Ordered, de-duplicated warnings; notes from the price schedules are kept apart and come last.

    Schedule notes (fast mode priced at standard, a retired model priced at its last rates) repeat for every
    day and batch flag they apply to, so they are a set, reported sorted after the stages' own warnings.
    Notes about retirement are left out: the lifecycle warning of the stream already says it, with the day.
    """

    def __init__(self) -> None:
        self._warnings: dict[str, None] = {}
        self._notes: set[str] = set()

    def add(self, message: str) -> None:
        """A warning, in the order the stages find them; a repeat is kept once."""
        self._warnings.setdefault(message, None)

    def add_pricing_notes(self, *notes: str) -> None:
        """Notes of the price schedules used (`RateSchedule.notes`) or about how a day was priced."""
        self._notes.update(notes)

    def messages(self) -> list[str]:
        """Every warning, once: the stages' in order, then the pricing notes sorted."""
        notes = sorted(n for n in self._notes if "retired" not in n)
        return list(dict.fromkeys([*self._warnings, *notes]))
