"""scripts/clip_errors.py: observations put in the image shown when their track started, against its labels."""

from __future__ import annotations

from script_support import load_script

clip_errors = load_script("clip_errors")

TRUTH = {
    "duration_s": 3.6,
    "shown": [
        {"name": "a", "start_s": 0.0, "labels": ["with_helmet"]},
        {"name": "b", "start_s": 1.2, "labels": ["with_helmet", "with_helmet"]},
        {"name": "c", "start_s": 2.4, "labels": ["without_helmet"]},
    ],
}


def test_each_track_counts_in_the_image_it_started_in_and_the_differences_split_into_extra_and_missing():
    start = 1_800_000_000.0
    observations = [
        (start + 0.2, "compliant"),  # a: the labelled rider
        (start + 0.4, "non_compliant"),  # a: someone the labels leave out, judged bare: one extra bare head
        (start + 1.2, "compliant"),  # b: the first frame of its span
        (start + 1.6, "non_compliant"),  # b: a helmet judged bare: one missing helmeted, one extra bare
        (start + 2.0, "non_rider"),  # b: counted apart from the rate, neither extra nor missing
        (start + 3.6, "compliant"),  # after the clip's end: in no image
    ]
    images = clip_errors.image_counts(TRUTH, observations, start)
    assert [image.name for image in images] == ["a", "b", "c"]
    assert images[1].counted == {"compliant": 1, "non_compliant": 1, "non_rider": 1}
    assert [image.difference("non_compliant") for image in images] == [1, 1, -1], "c's bare head was not counted"
    totals = clip_errors.totals(images)
    assert totals["compliant"] == {"labelled": 3, "counted": 2, "extra": 0, "missing": 1}
    assert totals["non_compliant"] == {"labelled": 1, "counted": 2, "extra": 2, "missing": 1}
    assert clip_errors.rate(totals, "labelled") == 0.75 and clip_errors.rate(totals, "counted") == 0.5
