// The sites table and its caption: each site and category with rate, interval, n, target, status and cameras.
import { $, el } from "./dom.js";
import { WINDOW_LABELS, ZONE, dayText, fmtAge, fmtRange, interval, pct, pctBare, stateName, t, wholePct } from "./i18n.js";
import { ALL_DAYS, cameraHealth, categoryTitle, siteById, state, statusOf } from "./state.js";
import { selectSite } from "./trend.js";

export function categoriesOf(site) {
  const categories = new Set(site.cameras.map((c) => c.category));
  for (const row of state.rows) if (row.site_id === site.id) categories.add(row.category);
  return [...categories].sort();
}

export function tableRows() {
  const out = [];
  for (const site of state.sites) {
    const categories = categoriesOf(site);
    for (const category of categories.length ? categories : [null]) {
      const row = state.rows.find((r) => r.site_id === site.id && r.category === category);
      out.push({
        site,
        category,
        row: row || { site_id: site.id, category, threshold: site.threshold, confidently_below: false, point: null },
        cameras: site.cameras.filter((c) => c.category === category),
      });
    }
  }
  // Rates for sites the config no longer lists still show.
  for (const row of state.rows) {
    if (!siteById(row.site_id)) {
      const site = { id: row.site_id, name: row.site_name || row.site_id, cameras: [], threshold: row.threshold };
      out.push({ site, category: row.category, row, cameras: [] });
    }
  }
  return out;
}

// ---------- rendering: caption ----------
export function renderCaption() {
  const caption = $("window-caption");
  const shown = state.shown;
  caption.replaceChildren();
  if (!shown) {
    caption.textContent = state.errors.size ? t("No rates loaded.") : t("Loading…");
    return;
  }
  const windowLabel = (minutes) => (WINDOW_LABELS[minutes] ? t(WINDOW_LABELS[minutes]) : t("the last {n} minutes", { n: minutes }));
  if (shown.mode === "window") {
    caption.append(t("Showing "), el("strong", { text: windowLabel(shown.minutes) }), ` (${fmtRange(shown.from, shown.to)}).`);
    if (!state.rows.length) caption.append(t(" No observations in this window."));
    return;
  }
  caption.append(t("Showing "), el("strong", { text: t("all data of the last {n} days", { n: ALL_DAYS }) }));
  if (shown.dataFrom) {
    const first = dayText(shown.dataFrom);
    const last = dayText(new Date(shown.dataTo.getTime() - 1));
    const days = first === last ? first : t("{first} to {last}", { first, last });
    caption.append(t(": observations on {days} (local days, {zone}), summed per site.", { days, zone: ZONE }));
  } else {
    caption.append(t(": no observations at all."));
  }
  if (state.fellBackFrom && !state.userChoseWindow) {
    caption.append(t(" There were none in {window}, so the page switched to all data.", { window: windowLabel(state.fellBackFrom) }));
  }
}

// ---------- rendering: table ----------
export function healthCells(cameras) {
  if (!cameras.length) {
    return [el("td", { class: "muted", text: t("none") }), el("td", { class: "num muted", text: "–" }), el("td", { class: "num muted", text: "–" })];
  }
  const { up, down, other, notes } = cameraHealth(cameras);
  const summary = el("td", { title: notes.join("\n") || t("all cameras up") });
  summary.append(t("{n} up", { n: up }) + " · ", el("span", { class: down ? "health-bad" : null, text: t("{n} down", { n: down }) }));
  for (const [name, count] of other) summary.append(` · ${count} ${stateName(name)}`);
  if (notes.length) summary.append(el("span", { class: "sub", text: notes.join(", ") }));
  const ages = cameras.map((c) => c.health.last_frame_age_s).filter((a) => a !== null && a !== undefined);
  const worstAge = ages.length ? Math.max(...ages) : null;
  const reconnects = cameras.reduce((total, c) => total + c.health.reconnects, 0);
  return [
    summary,
    el("td", { class: "num", text: fmtAge(worstAge), title: worstAge === null ? t("no frame yet") : t("{n} s ago", { n: worstAge.toFixed(0) }) }),
    el("td", { class: "num", text: String(reconnects) }),
  ];
}

// Per two-wheeler (a trip of a riders-only camera): helmet per vehicle with its interval, and the share of
// trips carrying passengers, with the trips behind them.
export function perVehicleCell(v) {
  if (!v) return el("td", { class: "muted", text: "–", title: t("No two-wheeler trips in this window.") });
  const trips = v.compliant + v.non_compliant + v.undetermined;
  const cell = el("td", { class: "rate" });
  if (v.rate === null) cell.append(el("span", { class: "muted", text: t("no decided trips") }));
  else cell.append(el("strong", { text: pct(v.rate) }), " ", interval(v));
  const carrying = v.passenger_rate === null ? "–" : `${pct(v.passenger_rate)} [${pctBare(v.passenger_low)}, ${pctBare(v.passenger_high)}]`;
  cell.append(el("span", { class: "sub", text: t("passengers: {rate} of {n} trips", { rate: carrying, n: trips }) }));
  cell.title = t("Each two-wheeler once: compliant when every rider wore a helmet.");
  return cell;
}

// A row spanning the whole table spans its header's columns, counted, not a hand-kept number.
const columnCount = (body) => String(body.closest("table").tHead.rows[0].cells.length);

export function renderTable() {
  const body = $("sites-body");
  if (!state.sitesLoaded && !state.rows.length) {
    const message = state.errors.get("sites") || t("Loading sites…");
    body.replaceChildren(el("tr", {}, el("td", { colspan: columnCount(body), class: state.errors.has("sites") ? "health-bad" : "muted", text: message })));
    return;
  }
  const rows = tableRows();
  if (!rows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: columnCount(body), class: "muted", text: t("No sites configured.") })));
    return;
  }
  body.replaceChildren(
    ...rows.map(({ site, category, row, cameras }) => {
      const p = row.point;
      const status = statusOf(row);
      const tr = el("tr", { class: site.id === state.selectedSite ? "selected" : null, "data-site": site.id });
      tr.addEventListener("click", () => selectSite(site.id));
      const name = el("button", { type: "button", class: "site-button", text: site.name, "aria-pressed": String(site.id === state.selectedSite) });
      const nameCell = el("th", { scope: "row" }, name, el("span", { class: "sub", text: site.id }));
      let rateCell;
      if (!p) rateCell = el("td", { class: "muted", text: t("no observations") });
      else if (p.rate === null) rateCell = el("td", { class: "muted", text: t("no decided observations") });
      else {
        rateCell = el("td", { class: "rate" }, el("strong", { text: pct(p.rate) }), " ", interval(p));
        if (p.adjusted_rate !== null && p.adjusted_rate !== undefined) {
          rateCell.append(el("span", { class: "sub", text: t("adjusted for detector error: {rate}", { rate: pct(p.adjusted_rate) }), title: t("Rogan-Gladen corrected rate") }));
        }
      }
      const vehicleCell = perVehicleCell(state.vehicles.get(`${site.id}|${category}`));
      const statusCell = el("td", {}, el("span", { class: "status" }, el("span", { class: `dot s-${status.key}`, "aria-hidden": "true" }), status.label));
      if (row.confidently_below) {
        statusCell.append(el("br"), el("span", { class: "badge confident", text: t("▼ confidently below"), title: t("The whole interval is under the target.") }));
      }
      if (p && p.low_sample) {
        statusCell.append(el("br"), el("span", { class: "badge lown", text: t("low n"), title: t("Fewer decided observations than the configured minimum: a wide interval.") }));
      }
      tr.append(
        nameCell,
        el("td", { text: category ? categoryTitle(category) : "–", title: category || "" }),
        rateCell,
        vehicleCell,
        el("td", { class: "num", text: p ? String(p.n) : "–" }),
        el("td", { class: "num", text: p ? String(p.undetermined) : "–" }),
        el("td", { class: "num", text: row.threshold ? wholePct(row.threshold) : "–" }),
        statusCell,
        ...healthCells(cameras),
      );
      return tr;
    }),
  );
}
