// The sites on the map (map.js draws it): each site's status and its popup (rates, cameras, trend, review).
import { getJSON } from "./api.js";
import { $, el } from "./dom.js";
import { pct, rateText, t, wholePct } from "./i18n.js";
import { createSiteMap } from "./map.js";
import { API, cameraHealth, categoryTitle, state, statusOf } from "./state.js";
import { selectSite } from "./trend.js";

// ---------- rendering: map ----------
export function siteStatus(siteId) {
  const rows = state.rows.filter((r) => r.site_id === siteId);
  let worst = { status: statusOf(null), row: null };
  for (const row of rows) {
    const status = statusOf(row);
    if (status.rank > worst.status.rank) worst = { status, row };
  }
  return { ...worst, rows };
}

// Camera health counted one way for the table and the map. Down: down, stalled or failed; starting,


export async function loadMapView() {
  if (!state.mapView) state.mapView = await getJSON(`${API}/map`);
}

export function rateLine(row) {
  const p = row.point;
  return (
    t("{category}: {rate}, n = {n} ({compliant} compliant, {not} not), {undetermined} undetermined, target {target}: {status}", {
      category: categoryTitle(row.category),
      rate: rateText(p),
      n: p.n,
      compliant: p.compliant,
      not: p.non_compliant,
      undetermined: p.undetermined,
      target: wholePct(row.threshold),
      status: statusOf(row).label,
    }) + (p.low_sample ? t(", low sample") : "")
  );
}

export function sitePopup(site, st) {
  const rates = el("ul", { class: "popup-rates" }, ...st.rows.map((row) => el("li", { text: rateLine(row) })));
  if (!st.rows.length) rates.append(el("li", { class: "muted", text: t("no observations in the window shown") }));
  const health = cameraHealth(site.cameras);
  const cameras = el("p", { class: health.down ? "health-bad" : null });
  cameras.append(t("Cameras: {up} up, {down} down", { up: health.up, down: health.down }));
  if (health.notes.length) cameras.append(el("span", { class: "sub", text: health.notes.join(", ") }));
  const trend = el("button", { type: "button", class: "link-button", text: t("Show trend") });
  trend.addEventListener("click", () => {
    selectSite(site.id);
    $("trend-heading").scrollIntoView({ block: "start" });
  });
  const review = el("a", { href: `/review?site=${encodeURIComponent(site.id)}`, text: t("Review and audit") });
  return el("div", { class: "site-popup", "data-site": site.id }, el("strong", { text: site.name }), rates, cameras, el("p", {}, trend, " · ", review));
}

export function renderMap() {
  const container = $("map");
  const placed = state.sites.filter((s) => s.lat !== null && s.lon !== null);
  const unplaced = state.sites.filter((s) => s.lat === null || s.lon === null);
  const note = $("map-unplaced");
  note.hidden = !unplaced.length;
  note.textContent = unplaced.length ? t("Not on the map (no coordinates): {sites}.", { sites: unplaced.map((s) => s.name).join(", ") }) : "";
  if (!state.siteMap) {
    if (!state.mapView || !placed.length) {
      const waiting = state.errors.get("map") || state.errors.get("sites") || t("Loading…");
      const message = state.sitesLoaded && state.mapView ? t("No site has coordinates.") : waiting;
      container.replaceChildren(el("p", { class: "muted", text: message }));
      return;
    }
    container.replaceChildren();
    state.siteMap = createSiteMap(container, state.mapView, t);
  }
  state.siteMap.update(
    placed.map((site) => {
      const st = siteStatus(site.id);
      const label = `${site.name}: ${st.row ? `${pct(st.row.point.rate)}, ${st.status.label}` : t("no data")}`;
      return { id: site.id, lat: site.lat, lon: site.lon, name: site.name, statusKey: st.status.key, label, popup: sitePopup(site, st), selected: site.id === state.selectedSite };
    }),
  );
  if (state.revealSite) {
    state.siteMap.reveal(state.revealSite);
    state.revealSite = null;
  }
}
