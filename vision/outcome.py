"""The verdict a class stands for, shared by every stage after the detector."""

from enum import StrEnum


class Outcome(StrEnum):
    """What a detected class means for compliance.

    ``UNDETERMINED`` is explicit: a face too small to judge is counted as seen but not guessed.
    """

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    UNDETERMINED = "undetermined"
