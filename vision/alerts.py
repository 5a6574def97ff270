"""Webhook alerts: a site confidently below its target, or a camera silent for too long; per two-wheeler, when
configured, trips confidently below ``alerts.vehicle_threshold`` or carrying passengers above
``alerts.max_passenger_carrying``.

"Confidently below" means the upper bound of the rate's interval is under the site's threshold
and the rate stands on at least ``compliance.min_n`` decided observations: a dip that chance alone
could explain does not page anyone. Each site/category and each camera has a cooldown, so a lasting
problem alerts once per cooldown, not once per check. The notifier reads only the store, and the
cooldowns live there too (``alert_state``): of several ``vision serve`` replicas checking at once,
one takes each due alert (a conditional UPDATE) and the others skip it, so it is sent once.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from vision.categories import category_info
from vision.clock import Clock, wall_clock
from vision.compliance.rates import RateService, RateSettings
from vision.config import VisionConfig
from vision.store import Store

log = logging.getLogger(__name__)


class AlertNotifier:
    """Checks the store every ``alerts.check_every_s`` and POSTs JSON alerts to ``alerts.webhook_url``."""

    def __init__(
        self,
        config: VisionConfig,
        store: Store,
        rates: RateService | None = None,
        timeout_s: float = 5.0,
        clock: Clock = wall_clock,
    ) -> None:
        if config.alerts.webhook_url is None:
            raise ValueError("alerts.webhook_url is not set")
        self.config = config
        self.store = store
        self.url = config.alerts.webhook_url
        self.rates = rates or RateService(store, RateSettings.from_config(config, errors={}))
        self.timeout_s = timeout_s
        self.clock = clock
        self._started = clock().timestamp()

    def send(self, payload: dict[str, object]) -> tuple[bool, str]:
        """POST ``payload`` as JSON; returns ``(delivered, detail)`` and never raises for network errors."""
        body = json.dumps(payload, default=str).encode()
        request = urllib.request.Request(  # noqa: S310 - the operator's configured http(s) URL
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return True, f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as error:
            log.warning("alert to %s failed: %s", self.url, error)
            return False, str(error)

    def check(self, now: datetime | None = None) -> list[dict[str, object]]:
        """Evaluate every condition once; send what is due; return the alerts that were delivered."""
        now = now or self.clock()
        wall = now.timestamp()
        due: list[tuple[str, dict[str, object]]] = []
        window = timedelta(minutes=self.config.api.rolling_window_minutes)
        for point in self.rates.rates(now - window, now):
            if not self.rates.confidently_below(point):
                continue
            threshold, high = self.rates.threshold(point.site_id), point.estimate.high
            due.append(
                (
                    f"rate:{point.site_id}:{point.category}",
                    {
                        "kind": "rate_below_threshold",
                        "site": point.site_id,
                        "category": point.category,
                        "rate": point.estimate.rate,
                        "interval": [point.estimate.low, high],
                        "n": point.n,
                        "threshold": threshold,
                        "window_start": point.start.isoformat(),
                        "window_end": now.isoformat(),
                        "message": (
                            f"{point.category} compliance at {point.site_id} is {point.estimate.rate:.0%} "
                            f"(95% interval up to {high:.0%}, n={point.n}), below the target {threshold:.0%}"
                        ),
                    },
                )
            )
        due += self._per_vehicle(now, window)
        statuses = self.store.camera_statuses()
        limit = self.config.alerts.camera_down_after_s
        for camera in self.store.cameras():  # as the workers synced them: every replica sees the same
            if not camera.enabled:
                continue
            status = statuses.get(camera.id)
            if status is not None and status.state == "finished":
                continue
            last = (status.last_frame_wall_at if status else None) or self._started
            silent_for = wall - last
            if silent_for > limit:
                due.append(
                    (
                        f"camera:{camera.id}",
                        {
                            "kind": "camera_down",
                            "camera": camera.id,
                            "site": camera.site_id,
                            "state": status.state if status else "unknown",
                            "silent_for_s": round(silent_for, 1),
                            "last_error": status.last_error if status else None,
                            "message": (
                                f"camera {camera.id} at {camera.site_id} delivered no frame for {silent_for:.0f} s"
                            ),
                        },
                    )
                )
        sent = []
        cooldown_s = self.config.alerts.cooldown_minutes * 60
        for key, payload in due:
            previous = self.store.claim_alert(key, wall, cooldown_s)
            if previous is None:
                continue  # in its cooldown, or another replica took it just now
            ok, _ = self.send(payload)
            if ok:
                sent.append(payload)
            else:
                self.store.unclaim_alert(key, previous)  # not delivered: due again at the next check
        return sent

    def _per_vehicle(self, now: datetime, window: timedelta) -> list[tuple[str, dict[str, object]]]:
        """Per two-wheeler over the rolling window: helmet per vehicle under ``alerts.vehicle_threshold``, and
        passenger carrying over ``alerts.max_passenger_carrying``, each only where the interval says so."""
        settings = self.config.alerts
        if settings.vehicle_threshold is None and settings.max_passenger_carrying is None:
            return []
        due: list[tuple[str, dict[str, object]]] = []
        for point in self.rates.rates(now - window, now, unit="vehicle"):
            where = {"site": point.site_id, "category": point.category, "window_start": point.start.isoformat(),
                     "window_end": now.isoformat()}  # fmt: skip
            limit = settings.vehicle_threshold
            if limit is not None and self.rates.confidently_below(point):
                rate, high = point.estimate.rate or 0.0, point.estimate.high or 0.0
                due.append(
                    (
                        f"vehicle:{point.site_id}:{point.category}",
                        where
                        | {
                            "kind": "vehicle_rate_below_threshold",
                            "rate": rate,
                            "interval": [point.estimate.low, high],
                            "n": point.n,
                            "threshold": limit,
                            "message": f"{point.category} per two-wheeler at {point.site_id} is {rate:.0%} of trips"
                            f" (95% interval up to {high:.0%}, n={point.n}), below {limit:.0%}",
                        },
                    )
                )
            carrying, most = point.passenger_rate, settings.max_passenger_carrying
            trips = point.compliant + point.non_compliant + point.undetermined
            # A camera measuring helmets and phone use has a trip per category for each two-wheeler: passengers
            # are the trips', alerted once, under the category that tracks the riders (not phone use's).
            attribute_judged = category_info(point.category).violation_attribute is not None
            if (
                not attribute_judged
                and most is not None
                and carrying is not None
                and carrying.low is not None
                and carrying.low > most
                and trips >= self.rates.settings.min_n
            ):
                share = carrying.rate or 0.0
                due.append(
                    (
                        f"passengers:{point.site_id}:{point.category}",
                        where
                        | {
                            "kind": "passenger_carrying_above_limit",
                            "rate": share,
                            "interval": [carrying.low, carrying.high],
                            "n": trips,
                            "threshold": most,
                            "message": f"{share:.0%} of two-wheelers at {point.site_id} carry passengers (95% interval"
                            f" from {carrying.low:.0%}, {trips} trips), above {most:.0%}",
                        },
                    )
                )
        return due

    def run(self, stop: threading.Event) -> None:
        """Check until ``stop`` is set (run it in its own thread)."""
        while not stop.wait(self.config.alerts.check_every_s):
            try:
                self.check()
            except Exception:  # an alert bug must never stop the pipeline or the API
                log.exception("alert check failed")
