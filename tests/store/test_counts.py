"""Rollups: kept by the writer with the rows, exactly once (retries and spool replays add nothing), and
every count they answer equal to the raw rows' count, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlalchemy as sa

from vision.clock import offset_spans
from vision.outcome import Outcome
from vision.store import open_store
from vision.store.counts import CountQuery, count_rows
from vision.store.schema import observation_rollups_table, outcome_totals_table, site_tallies_table, tally_column
from vision.store.writer import JOURNAL, OFFSET, StoreWriter
from vision.tracking import Observation

START = datetime(2026, 10, 20, tzinfo=UTC)  # across the end of daylight saving in Europe (2026-10-25)
DAYS = 10
OUTCOMES = [Outcome.COMPLIANT, Outcome.NON_COMPLIANT, Outcome.UNDETERMINED, Outcome.NON_RIDER]


def city_observations(count: int, seed: int = 0) -> list[Observation]:
    """``count`` observations at random times over DAYS days: 3 sites, 4 cameras, 2 categories, riders, passengers."""
    rng = np.random.default_rng(seed)
    cameras = [("cam-a", "gate", "helmet"), ("cam-b", "gate", "helmet"), ("cam-c", "road", "helmet")]
    cameras += [("cam-m", "market", "mask")]
    result = []
    for track in range(count):
        camera, site, category = cameras[rng.integers(len(cameras))]
        ended = START + timedelta(seconds=float(rng.uniform(0, DAYS * 86400)))
        riders = int(rng.integers(1, 3)) if category == "helmet" else None
        result.append(
            Observation(
                camera,
                site,
                category,
                track,
                ended - timedelta(seconds=4),
                ended,
                OUTCOMES[rng.integers(len(OUTCOMES))],
                9,
                0.8,
                1.0,
                30.0,
                vehicle_track_id=track if riders else None,
                riders_on_vehicle=riders,
            )
        )
    return result


def utc_offsets(zone: str, start: datetime, end: datetime) -> list[tuple[float, float, int]]:
    return [(s.start, s.end, s.utc_offset_s) for s in offset_spans(ZoneInfo(zone), start.timestamp(), end.timestamp())]


def queries() -> list[CountQuery]:
    """What rates, series, reports and the scrape ask: day and hour buckets in three zones (one with a
    daylight-saving change, one half an hour off UTC), a daily period, a rolling window that cuts
    hours, one site, one category, one run."""
    start, end = START.timestamp(), (START + timedelta(days=DAYS)).timestamp()
    shanghai = utc_offsets("Asia/Shanghai", START, START + timedelta(days=DAYS))
    amsterdam = utc_offsets("Europe/Amsterdam", START, START + timedelta(days=DAYS))
    kolkata = utc_offsets("Asia/Kolkata", START, START + timedelta(days=DAYS))
    rolling = (START + timedelta(days=3, minutes=17)).timestamp()
    return [
        CountQuery(start, end, None),
        CountQuery(start, end, 86400, utc_offsets=shanghai),
        CountQuery(start, end, 86400, utc_offsets=amsterdam),
        CountQuery(start, end, 3600, utc_offsets=amsterdam, site_ids={"gate"}),
        CountQuery(start, end, 86400, utc_offsets=shanghai, daily=(7 * 3600, 2 * 3600), category="helmet"),
        CountQuery(rolling, rolling + 7 * 3600 + 600, None, exclude_site_ids={"market"}),
        CountQuery(rolling, rolling + 86400, 3600, utc_offsets=shanghai),
        CountQuery(start, end, 86400, utc_offsets=kolkata),  # +05:30: raw rows
        CountQuery(start, end, 60),  # minutes: raw rows
        CountQuery(start, end, 86400, run_id=1),  # one run: raw rows
    ]


def raw_counts(store, query: CountQuery):
    with store.engine.connect() as connection:
        return count_rows(connection, query, rollups=False)


def assert_rollups_agree(store) -> None:
    for query in queries():
        assert store.counts_of(query) == raw_counts(store, query), query
    with store.engine.connect() as connection:
        totals = connection.execute(sa.select(sa.func.sum(outcome_totals_table.c.n))).scalar_one()
        hourly = connection.execute(sa.select(sa.func.sum(observation_rollups_table.c.n))).scalar_one()
        by_site = connection.execute(
            sa.select(sum(sa.func.sum(site_tallies_table.c[tally_column("n", outcome)]) for outcome in Outcome))
        ).scalar_one()
    assert int(totals or 0) == int(hourly or 0) == int(by_site or 0) == store.count_observations()


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
    yield store
    store.close()


def test_rollups_answer_as_the_raw_rows_do_and_a_retry_adds_nothing(store):
    run = store.start_run("city.yaml", "test")
    written = city_observations(1500)
    assert store.add_observations(run, written[:1000]) == 1000
    assert store.add_observations(run, written[500:]) == 500, "a retried write: only the new half is stored"
    assert any(query.hourly() for query in queries()) and not all(query.hourly() for query in queries())
    assert_rollups_agree(store)
    shared = sum(row.shared_vehicle for row in store.counts_of(queries()[0]))
    assert shared == sum(1 for o in written if (o.riders_on_vehicle or 0) >= 2)
    totals = {(site, category, outcome): n for site, category, outcome, n in store.outcome_totals()}
    assert sum(totals.values()) == 1500 and totals[("market", "mask", "compliant")] > 0


def test_a_spool_replay_counts_nothing_twice(store, tmp_path):
    spool = tmp_path / "spool"
    writer = StoreWriter(store, spool, worker_id="w1")
    run = store.start_run("city.yaml", "test")
    writer.observations(run, city_observations(300, seed=1))
    journal = (spool / JOURNAL).read_bytes()
    writer.close()
    # A crash between the COMMIT and moving the journal's offset: the same records are replayed.
    (spool / JOURNAL).write_bytes(journal)
    (spool / OFFSET).write_text("0")
    again = StoreWriter(store, spool, worker_id="w1")
    again.observations(run, city_observations(50, seed=2))
    again.close()
    assert store.count_observations() == 350
    assert_rollups_agree(store)


def test_rebuild_recounts_what_the_writer_kept(store):
    run = store.start_run("city.yaml", "test")
    store.add_observations(run, city_observations(400, seed=3))
    with store.engine.connect() as connection:
        kept = sorted(connection.execute(sa.select(observation_rollups_table)).all())
        kept_sites = sorted(connection.execute(sa.select(site_tallies_table)).all())
    # Rows written behind the writer's back (a bulk load, a restore) are only counted by a rebuild.
    with store.engine.begin() as connection:
        connection.execute(sa.delete(site_tallies_table).where(site_tallies_table.c.site_id == "road"))
    assert store.counts_of(queries()[1]) != raw_counts(store, queries()[1])
    assert store.rebuild_rollups() == len(kept)
    with store.engine.connect() as connection:
        assert sorted(connection.execute(sa.select(observation_rollups_table)).all()) == kept
        assert sorted(connection.execute(sa.select(site_tallies_table)).all()) == kept_sites
    assert_rollups_agree(store)


def test_an_hourly_query_reads_whole_hours_from_the_rollups(store):
    """Rows of one UTC hour only in the rollups (their raw rows removed) still count; the cut edges of a
    rolling window do not come from rollups."""
    run = store.start_run("city.yaml", "test")
    base = city_observations(1)[0]
    hour = START + timedelta(hours=5)
    inside = [replace(base, track_id=i, ended_at=hour + timedelta(minutes=10 + i), key=f"k{i}") for i in range(3)]
    store.add_observations(run, inside)
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM observations"))
    whole = CountQuery(hour.timestamp(), (hour + timedelta(hours=1)).timestamp(), None)
    assert sum(row.n for row in store.counts_of(whole)) == 3, "whole hours: the rollups"
    cut = CountQuery((hour + timedelta(minutes=5)).timestamp(), (hour + timedelta(hours=1)).timestamp(), None)
    assert sum(row.n for row in store.counts_of(cut)) == 0, "a cut hour: the raw rows"
