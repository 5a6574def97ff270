"""The verdict a class stands for, shared by every stage after the detector."""

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
