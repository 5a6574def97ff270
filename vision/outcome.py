"""The verdict a class stands for, shared by every stage after the detector, and an audit's table of verdicts
against the truth (counted by the store, used by the rates' statistics)."""

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """What a detected class means for compliance.

    ``UNDETERMINED`` is explicit: a face too small to judge is counted as seen but not guessed.
    ``NON_RIDER`` is a head that never rode a moving two-wheeler (a guard, a pedestrian) at a
    camera that counts riders only: seen and counted apart, never part of a rate.
    """

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    UNDETERMINED = "undetermined"
    NON_RIDER = "non_rider"


@dataclass(frozen=True)
class ValidationCounts:
    """An audit's 2×2 table, as binomial counts of the verdict against the truth.

    ``sensitivity``: of ``truly_non_compliant`` audited observations, ``judged_non_compliant``
    were judged so; ``specificity``: of ``truly_compliant``, ``judged_compliant`` were judged so.
    """

    judged_non_compliant: int
    truly_non_compliant: int
    judged_compliant: int
    truly_compliant: int
