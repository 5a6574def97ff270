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


def outcome_by_name(class_name: str) -> Outcome | None:
    """The outcome a dataset's class name implies, or None when the name does not say.

    ``with_*`` is compliant; ``without_*`` and ``mask_weared_incorrect`` (face-mask's wrongly worn
    mask) are non-compliant; case-insensitive (``With Helmet`` too). Used where no spec maps the
    classes yet: building clips' ground truth and training a new model.
    """
    lowered = class_name.lower()
    if lowered.startswith("without") or lowered == "mask_weared_incorrect":
        return Outcome.NON_COMPLIANT
    if lowered.startswith("with"):
        return Outcome.COMPLIANT
    return None
