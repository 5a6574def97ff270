// The compliance dashboard, as ES modules with no build step: this entry loads what the page shows
// (language, categories, sites, map view, periods, rates, workers) and refreshes it; table.js, sitemap.js
// and map.js, trend.js draw it. Every statistic comes from the API (rates, intervals, low n, confidently
// below: vision/compliance), never recomputed here; every sentence is t("English source"); times are
// shown in each site's zone.
import { clearError, getJSON, showError } from "./api.js";
import { $, el } from "./dom.js";
import { LANG, fmtAge, fmtTime, setLanguage, t, toDate } from "./i18n.js";
import { loadMapView, renderMap } from "./sitemap.js";
import { ALL_DAYS, API, REFRESH_MS, state, thresholdOf } from "./state.js";
import { renderCaption, renderTable } from "./table.js";
import { autoBucket, loadTrend, populateSiteSelect, selectSite } from "./trend.js";

// The language the browser asks for (Accept-Language), its catalogue and the deployment's zone.
export async function loadLanguage() {
  if (state.languageLoaded) return;
  const body = await getJSON(`${API}/i18n`);
  setLanguage(body.language, body.messages, body.timezone);
  state.languageLoaded = true;
  document.documentElement.lang = LANG;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-attr-label]")) node.setAttribute("aria-label", t(node.dataset.i18nAttrLabel));
}

export async function loadCategories() {
  if (state.categories) return;
  const list = await getJSON(`${API}/categories`);
  state.categories = Object.fromEntries(list.map((c) => [c.id, c]));
  showHeading();
}

// The page's title names the categories the sites' cameras measure (every known one before the sites load).
function showHeading() {
  const measured = new Set((state.sites || []).flatMap((s) => s.cameras.flatMap((c) => c.categories)));
  const known = Object.values(state.categories || {});
  const titles = known.filter((c) => !measured.size || measured.has(c.id)).map((c) => t(c.title));
  let heading = t("Compliance");
  if (titles.length) {
    const [first, ...rest] = titles;
    heading = LANG === "en" ? [first, ...rest.map((x) => x.charAt(0).toLowerCase() + x.slice(1))].join(" and ") : titles.join(t(" and "));
  }
  $("page-title").textContent = heading;
  document.title = `vision: ${LANG === "en" ? heading.toLowerCase() : heading}`;
}


export async function loadPeriods() {
  if (state.periodsLoaded) return;
  state.periods = await getJSON(`${API}/compliance/periods`);
  state.periodsLoaded = true;
  const select = $("period-select");
  select.replaceChildren(
    el("option", { value: "", text: t("Whole day") }),
    ...state.periods.map((p) => el("option", { value: p.name, selected: p.name === state.period, text: `${p.name.replace(/_/g, " ")} (${p.local_time})` })),
  );
  $("period-field").hidden = !state.periods.length;
}


export async function loadSites() {
  state.sites = await getJSON(`${API}/sites`);
  showHeading();
  state.sitesLoaded = true;
}

export async function loadRates() {
  const now = new Date();
  if (state.window !== "all") {
    const minutes = Number(state.window);
    const rows = await getJSON(`${API}/compliance/current?window_minutes=${minutes}&sort=site`);
    if (rows.length || state.userChoseWindow) {
      state.rows = rows;
      state.daySeries = [];
      state.shown = {
        mode: "window",
        minutes,
        from: rows.length ? toDate(rows[0].window_start) : new Date(now - minutes * 60000),
        to: rows.length ? toDate(rows[0].window_end) : now,
      };
      await loadVehicles(state.shown.from, state.shown.to);
      return;
    }
    // Nothing in the default window (e.g. a replayed demo at fixed past times): show all data.
    state.fellBackFrom = state.window;
    state.window = "all";
    $("window-select").value = "all";
  }
  // All data: each site's rate, interval and low-sample flag over the whole range from the API
  // (bucket=range: the same statistics as everywhere else, never recomputed here), and its days
  // for the caption and the trend's range.
  const from = new Date(now.getTime() - ALL_DAYS * 86400000);
  const span = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(now.toISOString())}`;
  const [whole, response] = await Promise.all([
    getJSON(`${API}/compliance/series?bucket=range&${span}`),
    getJSON(`${API}/compliance/series?bucket=day&${span}`),
  ]);
  state.daySeries = response.series;
  state.rows = whole.series
    .filter((s) => s.points.length)
    .map((s) => ({
      site_id: s.site_id,
      category: s.category,
      threshold: thresholdOf(s.site_id),
      confidently_below: s.points[0].confidently_below,
      point: s.points[0],
    }));
  const points = response.series.flatMap((s) => s.points);
  state.shown = {
    mode: "all",
    from,
    to: now,
    dataFrom: points.length ? new Date(Math.min(...points.map((p) => toDate(p.start).getTime()))) : null,
    dataTo: points.length ? new Date(Math.max(...points.map((p) => toDate(p.end).getTime()))) : null,
  };
  if (response.series.length) state.confidence = response.series[0].confidence;
  await loadVehicles(from, now);
}

// Per two-wheeler over the window shown (unit=vehicle: each trip once; helmet per vehicle and passenger
// carrying), from the API like every other figure.
async function loadVehicles(from, to) {
  const span = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
  const body = await getJSON(`${API}/compliance/series?bucket=range&unit=vehicle&${span}`);
  state.vehicles = new Map(body.series.filter((s) => s.points.length).map((s) => [`${s.site_id}|${s.category}`, s.points[0]]));
}


// ---------- the refresh loop ----------
// Workers (vision worker): shown only when the store knows any.
export async function loadWorkers() {
  const workers = await getJSON(`${API}/workers`);
  $("workers-section").hidden = !workers.length;
  $("workers-body").replaceChildren(
    ...workers.map((w) =>
      el(
        "tr",
        { class: w.alive ? "" : "row-alert" },
        el("td", { text: `${w.id} (${w.host})` }),
        el("td", { text: w.alive ? t("alive") : w.state === "stopped" ? t("stopped") : t("silent") }),
        el("td", { class: "num", text: `${w.cameras_held} / ${w.capacity}` }),
        el("td", { class: "num", text: String(w.spool_records) }),
        el("td", { class: "num", text: fmtAge(w.heartbeat_age_s) }),
      ),
    ),
  );
}

export async function refresh() {
  if (state.busy) return;
  state.busy = true;
  try {
    try {
      await loadLanguage();
      clearError("language");
    } catch (error) {
      showError("language", t("Language: {error}", { error: error.message }));
    }
    try {
      await loadCategories();
      clearError("categories");
    } catch (error) {
      showError("categories", t("Categories: {error}", { error: error.message }));
    }
    try {
      await loadSites();
      clearError("sites");
    } catch (error) {
      showError("sites", t("Sites: {error}", { error: error.message }));
    }
    try {
      await loadMapView();
      clearError("map");
    } catch (error) {
      showError("map", t("Map: {error}", { error: error.message }));
    }
    try {
      await loadPeriods();
      clearError("periods");
    } catch (error) {
      showError("periods", t("Periods: {error}", { error: error.message }));
    }
    try {
      await loadRates();
      clearError("rates");
    } catch (error) {
      showError("rates", t("Compliance rates: {error}", { error: error.message }));
    }
    try {
      await loadWorkers();
      clearError("workers");
    } catch (error) {
      showError("workers", t("Workers: {error}", { error: error.message }));
    }
    autoBucket();
    renderCaption();
    populateSiteSelect();
    renderTable();
    renderMap();
    await loadTrend();
    $("last-updated").textContent = t("Updated {time}", { time: fmtTime(new Date()) }) + (state.errors.size ? t(" (with errors)") : "");
  } catch (error) {
    showError("page", t("The page failed to draw: {error}", { error: error.message }));
  } finally {
    state.busy = false;
  }
}

export function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(async () => {
    await refresh();
    schedule();
  }, REFRESH_MS);
}

export function start() {
  // /?site=<id>: a link to one site (from an alert, a report, a colleague) selects it and opens it on the map.
  const linked = new URLSearchParams(location.search).get("site");
  if (linked) {
    state.selectedSite = linked;
    state.revealSite = linked;
  }
  $("window-select").addEventListener("change", (event) => {
    state.window = event.target.value;
    state.userChoseWindow = true;
    state.fellBackFrom = null;
    refresh().then(schedule);
  });
  $("bucket-select").addEventListener("change", (event) => {
    state.bucket = event.target.value;
    state.userChoseBucket = true;
    loadTrend();
  });
  $("site-select").addEventListener("change", (event) => selectSite(event.target.value));
  $("period-select").addEventListener("change", (event) => {
    state.period = event.target.value;
    loadTrend();
  });
  $("refresh-button").addEventListener("click", () => refresh().then(schedule));
  window.addEventListener("error", (event) => showError("page", t("Script error: {error}", { error: event.message })));
  window.addEventListener("unhandledrejection", (event) => showError("page", t("Script error: {error}", { error: event.reason })));
  refresh().then(schedule);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
