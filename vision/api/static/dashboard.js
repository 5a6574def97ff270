// The compliance dashboard: vanilla JS, no dependencies, every chart drawn here as inline SVG.
// It reads /api/v1/i18n, /api/v1/categories, /api/v1/sites, /api/v1/compliance/current, /periods and /series;
// nothing else. Category names and titles come from the API (vision/categories.py), never from here.
// Every sentence is t("English source"): /api/v1/i18n gives the catalogue of the language the browser asks
// for (vision/locale/<lang>/LC_MESSAGES/vision.po); times are shown in each site's zone.
import { createSiteMap } from "./map.js";

(function () {
  const API = "/api/v1";
  const REFRESH_MS = 15000;
  const ALL_DAYS = 365;
  const NEAR = 0.05; // "near target": at or above the target but by less than this
  const MAX_POINTS = 50000; // the API's limit per series request
  const BUCKET_S = { minute: 60, hour: 3600, day: 86400 };
  const N_ = (message) => message; // marks a message for the catalogues; t() translates it where it is shown
  const WINDOW_LABELS = { 60: N_("the last 1 hour"), 1440: N_("the last 24 hours"), 10080: N_("the last 7 days") };
  const CAMERA_STATES = [N_("starting"), N_("up"), N_("down"), N_("stalled"), N_("finished"), N_("failed"), N_("unknown")];
  const DEFAULT_THRESHOLD = 0.9;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const state = {
    categories: null, // id -> {title, subject, ...} from /api/v1/categories
    sites: [],
    sitesLoaded: false,
    rows: [], // {site_id, category, threshold, confidently_below, point}
    window: "1440",
    userChoseWindow: false,
    fellBackFrom: null,
    shown: null, // {mode, from, to, dataFrom, dataTo}
    daySeries: [], // the day series behind "all data"
    confidence: null,
    selectedSite: null,
    mapView: null, // /api/v1/map: the tile server (or none) and the overlay, read once
    siteMap: null, // the Leaflet map (map.js), made once the view and a placed site are known
    revealSite: null, // a site linked to (/?site=<id>), opened on the map once drawn
    periods: [], // [{name, local_time}] from /api/v1/compliance/periods
    period: "",
    bucket: "hour",
    userChoseBucket: false,
    errors: new Map(),
    openTables: new Set(), // the trend's data tables the user opened stay open across refreshes
    timer: null,
    busy: false,
  };

  const $ = (id) => document.getElementById(id);

  // ---------- language ----------
  let LANG = "en";
  let MESSAGES = {};
  let ZONE = "UTC"; // the deployment's zone (config timezone); each site may have its own
  const t = (message, vars) => {
    let text = MESSAGES[message] || message;
    if (vars) text = text.replace(/\{(\w+)\}/g, (whole, key) => (key in vars ? String(vars[key]) : whole));
    return text;
  };

  // ---------- formatting ----------
  const pct = (v) => {
    if (v === null || v === undefined) return "–";
    if (LANG === "en") return (v * 100).toFixed(1) + " %";
    return new Intl.NumberFormat(LANG, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v);
  };
  const pctBare = (v) => (v * 100).toFixed(1);
  const wholePct = (v) => (LANG === "en" ? `${(v * 100).toFixed(0)} %` : `${(v * 100).toFixed(0)}%`);
  const clock = (d, zone) =>
    Object.fromEntries(
      new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        .formatToParts(d)
        .map((part) => [part.type, part.value]),
    );
  const isoDay = (d, zone = ZONE) => {
    const c = clock(d, zone);
    return `${c.year}-${c.month}-${c.day}`;
  };
  const dayText = (d, zone = ZONE) =>
    LANG === "en" ? isoDay(d, zone) : new Intl.DateTimeFormat(LANG, { timeZone: zone, year: "numeric", month: "long", day: "numeric" }).format(d);
  const hhmm = (d, zone = ZONE) => {
    const c = clock(d, zone);
    return `${c.hour}:${c.minute}`;
  };
  const fmtTime = (d, zone = ZONE) => `${dayText(d, zone)} ${hhmm(d, zone)} ${zone}`;
  const fmtRange = (a, b, zone = ZONE) =>
    isoDay(a, zone) === isoDay(b, zone) ? `${dayText(a, zone)} ${hhmm(a, zone)}–${hhmm(b, zone)} ${zone}` : `${fmtTime(a, zone)} – ${fmtTime(b, zone)}`;
  // How far ``zone``'s clock is ahead of UTC at epoch-ms ``ms`` (for ticks on local hours and days).
  const offsetMs = (ms, zone) => {
    const c = clock(new Date(ms), zone);
    return Date.UTC(+c.year, +c.month - 1, +c.day, +c.hour, +c.minute) - Math.floor(ms / 60000) * 60000;
  };
  const toDate = (s) => (s instanceof Date ? s : new Date(s));
  const interval = (p) => (p.low === null || p.high === null ? "" : `[${pctBare(p.low)}, ${pctBare(p.high)}]`);
  const rateText = (p) => (p.rate === null ? t("no decided observations") : `${pct(p.rate)} ${interval(p)}`);
  const stateName = (name) => (CAMERA_STATES.includes(name) ? t(name) : name);
  const bucketName = (bucket) => ({ minute: t("minute"), hour: t("hour"), day: t("day") })[bucket] || bucket;

  function fmtAge(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 90) return t("{n} s", { n: Math.round(seconds) });
    if (seconds < 5400) return t("{n} min", { n: Math.round(seconds / 60) });
    if (seconds < 172800) return t("{n} h", { n: Math.round(seconds / 3600) });
    return t("{n} days", { n: Math.round(seconds / 86400) });
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, typeof v === "number" ? String(Math.round(v * 100) / 100) : v);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  const titled = (node, text) => {
    node.append(svg("title", { text }));
    return node;
  };

  // ---------- API ----------
  async function getJSON(path) {
    let response;
    try {
      response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
    } catch (error) {
      throw new Error(t("the API did not answer ({path}): {error}", { path, error: error.message }));
    }
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const body = await response.json();
        if (body && body.detail !== undefined) {
          detail = typeof body.detail === "string" ? body.detail : body.detail.map((d) => d.msg || d).join("; ");
        }
      } catch (_) {
        /* not JSON: keep the status text */
      }
      throw new Error(t("{path} answered {status}: {detail}", { path: path.split("?")[0], status: response.status, detail }));
    }
    return response.json();
  }

  function showError(key, message) {
    state.errors.set(key, message);
    renderErrors();
  }

  function clearError(key) {
    if (state.errors.delete(key)) renderErrors();
  }

  function renderErrors() {
    const box = $("errors");
    box.replaceChildren();
    if (!state.errors.size) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.append(el("strong", { text: t("Some figures could not be loaded; what is shown may be out of date.") }));
    const list = el("ul");
    for (const message of state.errors.values()) list.append(el("li", { text: message }));
    box.append(list);
  }

  // ---------- loading ----------
  function siteById(id) {
    return state.sites.find((s) => s.id === id);
  }

  function thresholdOf(siteId) {
    const site = siteById(siteId);
    return site ? site.threshold : DEFAULT_THRESHOLD;
  }

  // The language the browser asks for (Accept-Language), its catalogue and the deployment's zone.
  async function loadLanguage() {
    if (state.languageLoaded) return;
    const body = await getJSON(`${API}/i18n`);
    LANG = body.language;
    MESSAGES = body.messages;
    ZONE = body.timezone;
    state.languageLoaded = true;
    document.documentElement.lang = LANG;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-attr-label]")) node.setAttribute("aria-label", t(node.dataset.i18nAttrLabel));
  }

  async function loadCategories() {
    if (state.categories) return;
    const list = await getJSON(`${API}/categories`);
    state.categories = Object.fromEntries(list.map((c) => [c.id, c]));
    const titles = list.map((c) => t(c.title));
    let heading = t("Compliance");
    if (titles.length) {
      const [first, ...rest] = titles;
      heading = LANG === "en" ? [first, ...rest.map((x) => x.charAt(0).toLowerCase() + x.slice(1))].join(" and ") : titles.join(t(" and "));
    }
    $("page-title").textContent = heading;
    document.title = `vision: ${LANG === "en" ? heading.toLowerCase() : heading}`;
  }

  function categoryTitle(category) {
    const info = state.categories && state.categories[category];
    return info ? t(info.title) : category || "–";
  }

  async function loadPeriods() {
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

  const siteZone = (siteId) => {
    const site = siteById(siteId);
    return (site && site.timezone) || ZONE;
  };

  async function loadSites() {
    state.sites = await getJSON(`${API}/sites`);
    state.sitesLoaded = true;
  }

  async function loadRates() {
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
  }

  // ---------- status ----------
  function statusOf(row) {
    const p = row && row.point;
    if (!p || p.rate === null) return { key: "nodata", label: t("No data"), rank: 0 };
    if (p.rate < row.threshold) {
      return { key: "below", label: row.confidently_below ? t("Below target (confident)") : t("Below target"), rank: 3 };
    }
    if (p.rate < row.threshold + NEAR) return { key: "near", label: t("Near target"), rank: 2 };
    return { key: "ok", label: t("On target"), rank: 1 };
  }

  function categoriesOf(site) {
    const categories = new Set(site.cameras.map((c) => c.category));
    for (const row of state.rows) if (row.site_id === site.id) categories.add(row.category);
    return [...categories].sort();
  }

  function tableRows() {
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
  function renderCaption() {
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
  function healthCells(cameras) {
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

  function renderTable() {
    const body = $("sites-body");
    if (!state.sitesLoaded && !state.rows.length) {
      const message = state.errors.get("sites") || t("Loading sites…");
      body.replaceChildren(el("tr", {}, el("td", { colspan: "10", class: state.errors.has("sites") ? "health-bad" : "muted", text: message })));
      return;
    }
    const rows = tableRows();
    if (!rows.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: "10", class: "muted", text: t("No sites configured.") })));
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

  // ---------- rendering: map ----------
  function siteStatus(siteId) {
    const rows = state.rows.filter((r) => r.site_id === siteId);
    let worst = { status: statusOf(null), row: null };
    for (const row of rows) {
      const status = statusOf(row);
      if (status.rank > worst.status.rank) worst = { status, row };
    }
    return { ...worst, rows };
  }

  // Camera health counted one way for the table and the map. Down: down, stalled or failed; starting,
  // finished (a file played to its end) and unknown (never reported) are counted on their own.
  const BAD_STATES = new Set(["down", "stalled", "failed"]);
  function cameraHealth(cameras) {
    const other = new Map();
    for (const c of cameras) {
      if (!c.health.up && !BAD_STATES.has(c.health.state)) other.set(c.health.state, (other.get(c.health.state) || 0) + 1);
    }
    return {
      up: cameras.filter((c) => c.health.up).length,
      down: cameras.filter((c) => BAD_STATES.has(c.health.state)).length,
      other,
      notes: cameras
        .filter((c) => !c.health.up)
        .map((c) => `${c.id}: ${stateName(c.health.state)}${c.health.last_error ? ` (${c.health.last_error})` : ""}`),
    };
  }

  async function loadMapView() {
    if (!state.mapView) state.mapView = await getJSON(`${API}/map`);
  }

  function rateLine(row) {
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

  function sitePopup(site, st) {
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

  function renderMap() {
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

  // ---------- trend ----------
  function populateSiteSelect() {
    const select = $("site-select");
    const withData = new Set(state.rows.map((r) => r.site_id));
    if (!state.selectedSite || !siteById(state.selectedSite)) {
      const first = state.sites.find((s) => withData.has(s.id)) || state.sites[0];
      state.selectedSite = first ? first.id : null;
    }
    select.replaceChildren(
      ...state.sites.map((s) => el("option", { value: s.id, selected: s.id === state.selectedSite, text: withData.has(s.id) ? s.name : t("{site} (no data)", { site: s.name }) })),
    );
    if (!state.sites.length) select.append(el("option", { value: "", text: t("No sites") }));
  }

  function selectSite(siteId) {
    if (!siteId || siteId === state.selectedSite) return;
    state.selectedSite = siteId;
    $("site-select").value = siteId;
    renderTable();
    renderMap();
    loadTrend();
  }

  // The range of the trend: the rolling window, or, for "all data", the days the site has data on.
  function trendRange(bucket) {
    const shown = state.shown;
    if (!shown) return null;
    let from = shown.from;
    let to = shown.to;
    let clipped = false;
    if (shown.mode === "all") {
      const points = state.daySeries.filter((s) => s.site_id === state.selectedSite).flatMap((s) => s.points);
      if (!points.length) return { from, to, empty: true };
      from = new Date(Math.min(...points.map((p) => toDate(p.start).getTime())));
      to = new Date(Math.min(shown.to.getTime(), Math.max(...points.map((p) => toDate(p.end).getTime()))));
    }
    const maxSpan = (MAX_POINTS - 10) * BUCKET_S[bucket] * 1000;
    if (to - from > maxSpan) {
      from = new Date(to.getTime() - maxSpan);
      clipped = true;
    }
    return { from, to, clipped };
  }

  function autoBucket() {
    if (state.userChoseBucket || !state.shown) return;
    let span;
    if (state.shown.mode === "window") span = state.shown.minutes * 60;
    else if (state.shown.dataFrom) span = (state.shown.dataTo - state.shown.dataFrom) / 1000;
    else return;
    state.bucket = span <= 2 * 86400 ? (span <= 3600 || state.shown.mode === "all" ? "minute" : "hour") : span <= 60 * 86400 ? "hour" : "day";
    $("bucket-select").value = state.bucket;
  }

  let trendRequest = 0;

  async function loadTrend() {
    const container = $("trend");
    const caption = $("trend-caption");
    const link = $("csv-link");
    const site = siteById(state.selectedSite);
    if (!site) {
      container.replaceChildren(el("p", { class: "muted", text: state.sitesLoaded ? t("No site selected.") : t("Waiting for the list of sites.") }));
      caption.textContent = "";
      link.hidden = true;
      return;
    }
    // A daily period (e.g. the morning peak) is one point per local day.
    const period = state.period;
    const bucket = period ? "day" : state.bucket;
    $("bucket-select").disabled = Boolean(period);
    const range = trendRange(bucket);
    if (!range) {
      container.replaceChildren(el("p", { class: "muted", text: t("No rates loaded yet.") }));
      link.hidden = true;
      return;
    }
    const query =
      `site=${encodeURIComponent(site.id)}&bucket=${bucket}` +
      (period ? `&period=${encodeURIComponent(period)}` : "") +
      `&from=${encodeURIComponent(range.from.toISOString())}&to=${encodeURIComponent(range.to.toISOString())}`;
    link.href = `${API}/compliance/series.csv?${query}`;
    link.hidden = false;
    link.textContent = t("Download CSV ({site}, per {bucket})", { site: site.name, bucket: bucketName(bucket) });
    const zone = siteZone(site.id);
    if (range.empty) {
      caption.textContent = t("{site}: no observations in the last {n} days.", { site: site.name, n: ALL_DAYS });
      container.replaceChildren(el("p", { class: "muted", text: t("Nothing to draw.") }));
      return;
    }
    const request = ++trendRequest;
    let response;
    try {
      response = await getJSON(`${API}/compliance/series?${query}`);
      clearError("trend");
    } catch (error) {
      showError("trend", t("Trend for {site}: {error}", { site: site.name, error: error.message }));
      if (request === trendRequest && !container.querySelector("svg")) {
        container.replaceChildren(el("p", { class: "health-bad", text: t("Could not load the trend: {error}", { error: error.message }) }));
      }
      return;
    }
    if (request !== trendRequest) return; // a newer selection is on its way
    const confidence = response.series.length ? response.series[0].confidence : state.confidence;
    const periodInfo = state.periods.find((p) => p.name === period);
    caption.replaceChildren(
      el("strong", { text: site.name }),
      t(", per {bucket}, {range}", { bucket: bucketName(bucket), range: fmtRange(range.from, range.to, zone) }) +
        (periodInfo ? t(", {period} only ({hours} local time)", { period: periodInfo.name.replace(/_/g, " "), hours: periodInfo.local_time }) : "") +
        (confidence ? t("; band: {level} interval.", { level: wholePct(confidence) }) : ".") +
        (range.clipped ? t(" Only the last {n} points fit one request; choose a larger bucket for more.", { n: MAX_POINTS }) : ""),
    );
    if (!response.series.length) {
      container.replaceChildren(el("p", { class: "muted", text: t("{site} has no observations in this range.", { site: site.name }) }));
      return;
    }
    const domain = state.shown.mode === "all" ? dataDomain(response.series, bucket) : [range.from.getTime(), range.to.getTime()];
    container.replaceChildren(
      ...response.series.map((series) => {
        const block = el("div", { class: "chart-block" });
        block.append(drawTrend(series, site, domain, zone), dataTable(series, zone));
        return block;
      }),
    );
  }

  function dataDomain(seriesList, bucket) {
    const points = seriesList.flatMap((s) => s.points);
    const lo = Math.min(...points.map((p) => toDate(p.start).getTime()));
    const hi = Math.max(...points.map((p) => toDate(p.end).getTime()));
    const padding = Math.max(BUCKET_S[bucket] * 1000, (hi - lo) * 0.05);
    return [lo - padding, hi + padding];
  }

  const TIME_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000].map((s) => s * 1000);

  function drawTrend(series, site, domain, zone) {
    const W = 760;
    const H = 300;
    const m = { l: 62, r: 18, t: 26, b: 54 };
    const pw = W - m.l - m.r;
    const ph = H - m.t - m.b;
    const [d0, d1] = domain;
    const x = (t) => m.l + ((t - d0) / (d1 - d0)) * pw;
    const y = (v) => m.t + (1 - v) * ph;
    const threshold = site.threshold;
    const bucket = bucketName(series.bucket);
    const title = t("{site}, {category}: compliance per {bucket}", { site: site.name, category: categoryTitle(series.category), bucket });
    const root = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t("{title}, target {target}", { title, target: wholePct(threshold) }) });
    root.append(svg("title", { text: title }));
    root.append(svg("text", { class: "chart-title", x: m.l, y: 16, text: t("{category} ({n} × {bucket} with observations)", { category: categoryTitle(series.category), n: series.points.length, bucket }) }));

    // Y grid and labels.
    for (let v = 0; v <= 1.0001; v += 0.2) {
      root.append(svg("line", { class: "grid", x1: m.l, y1: y(v), x2: m.l + pw, y2: y(v) }));
      root.append(svg("text", { class: "tick-label", x: m.l - 6, y: y(v) + 4, "text-anchor": "end", text: wholePct(v) }));
    }
    // X ticks: a round step giving at most 8 ticks, on the site's local hours and days.
    const step = TIME_STEPS.find((s) => (d1 - d0) / s <= 8) || TIME_STEPS[TIME_STEPS.length - 1];
    const offset = offsetMs(d0, zone);
    let previousDay = null;
    for (let tick = Math.ceil((d0 + offset) / step) * step - offset; tick <= d1; tick += step) {
      const date = new Date(tick);
      const day = isoDay(date, zone);
      const label = svg("text", { class: "tick-label", x: x(tick), y: m.t + ph + 16, "text-anchor": "middle" });
      if (step < 86400000) {
        label.append(svg("tspan", { x: x(tick), text: hhmm(date, zone) }));
        if (day !== previousDay) label.append(svg("tspan", { x: x(tick), dy: 13, text: dayText(date, zone) }));
      } else {
        label.append(svg("tspan", { x: x(tick), text: dayText(date, zone) }));
      }
      previousDay = day;
      root.append(svg("line", { class: "grid", x1: x(tick), y1: m.t, x2: x(tick), y2: m.t + ph }), label);
    }
    root.append(svg("line", { class: "axis", x1: m.l, y1: m.t + ph, x2: m.l + pw, y2: m.t + ph }));
    root.append(svg("line", { class: "axis", x1: m.l, y1: m.t, x2: m.l, y2: m.t + ph }));
    root.append(svg("text", { class: "axis-title", x: m.l + pw / 2, y: H - 6, "text-anchor": "middle", text: t("Time ({zone}), one point per {bucket}", { zone, bucket }) }));
    root.append(svg("text", { class: "axis-title", x: 14, y: m.t + ph / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${m.t + ph / 2})`, text: t("Compliance rate") }));

    // Contiguous runs of decided points: a band and a line across each; a gap breaks them.
    const mid = (p) => (toDate(p.start).getTime() + toDate(p.end).getTime()) / 2;
    const runs = [];
    let run = [];
    let previousEnd = null;
    for (const p of series.points) {
      if (p.rate === null || (previousEnd !== null && toDate(p.start).getTime() !== previousEnd)) {
        if (run.length) runs.push(run);
        run = [];
      }
      if (p.rate !== null) run.push(p);
      previousEnd = toDate(p.end).getTime();
    }
    if (run.length) runs.push(run);
    const bandLayer = svg("g", { "aria-hidden": "true" });
    const lineLayer = svg("g", { "aria-hidden": "true" });
    for (const r of runs) {
      if (r.length === 1) {
        const p = r[0];
        const w = Math.max(8, x(toDate(p.end).getTime()) - x(toDate(p.start).getTime()));
        bandLayer.append(svg("rect", { class: "band", x: x(mid(p)) - w / 2, y: y(p.high), width: w, height: Math.max(1, y(p.low) - y(p.high)) }));
        continue;
      }
      const upper = r.map((p) => `${x(mid(p)).toFixed(1)},${y(p.high).toFixed(1)}`);
      const lower = r.map((p) => `${x(mid(p)).toFixed(1)},${y(p.low).toFixed(1)}`).reverse();
      bandLayer.append(svg("polygon", { class: "band", points: [...upper, ...lower].join(" ") }));
      lineLayer.append(svg("polyline", { class: "rate-line", points: r.map((p) => `${x(mid(p)).toFixed(1)},${y(p.rate).toFixed(1)}`).join(" ") }));
    }
    root.append(bandLayer);
    // Threshold line, labelled.
    root.append(svg("line", { class: "threshold", x1: m.l, y1: y(threshold), x2: m.l + pw, y2: y(threshold) }));
    root.append(svg("text", { class: "threshold-label", x: m.l + pw - 4, y: y(threshold) - 5, "text-anchor": "end", text: t("target {target}", { target: wholePct(threshold) }) }));
    root.append(lineLayer);

    const pointLayer = svg("g");
    for (const p of series.points) {
      const start = toDate(p.start);
      const end = toDate(p.end);
      const text =
        t("{range}: {rate}, n = {n} ({compliant} compliant, {not} not), {undetermined} undetermined", {
          range: fmtRange(start, end, zone),
          rate: rateText(p),
          n: p.n,
          compliant: p.compliant,
          not: p.non_compliant,
          undetermined: p.undetermined,
        }) +
        (p.adjusted_rate !== null ? t(", adjusted {rate}", { rate: pct(p.adjusted_rate) }) : "") +
        (p.low_sample ? t(", LOW SAMPLE") : "");
      if (p.rate === null) {
        const cx = x(mid(p));
        pointLayer.append(titled(svg("line", { class: "nodecided", x1: cx, y1: m.t + ph - 6, x2: cx, y2: m.t + ph }), text));
        continue;
      }
      const cx = x(mid(p));
      pointLayer.append(svg("line", { class: "whisker", x1: cx, y1: y(p.high), x2: cx, y2: y(p.low), "aria-hidden": "true" }));
      pointLayer.append(titled(svg("circle", { class: p.low_sample ? "pt low" : "pt", cx, cy: y(p.rate), r: p.low_sample ? 4.5 : 4 }), text));
    }
    root.append(pointLayer);
    return root;
  }

  function dataTable(series, zone) {
    const details = el("details", { open: state.openTables.has(series.category) });
    details.addEventListener("toggle", () => {
      if (details.open) state.openTables.add(series.category);
      else state.openTables.delete(series.category);
    });
    details.append(el("summary", { text: t("Data table ({category}, {n} rows)", { category: categoryTitle(series.category), n: series.points.length }) }));
    const table = el("table");
    const headers = [t("Window ({zone})", { zone }), t("Rate [interval]"), "n", t("Compliant"), t("Not"), t("Undetermined"), t("Low sample")];
    table.append(el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col", text: h })))));
    const body = el("tbody");
    for (const p of series.points) {
      body.append(
        el("tr", {},
          el("td", { text: fmtRange(toDate(p.start), toDate(p.end), zone) }),
          el("td", { text: rateText(p) }),
          el("td", { class: "num", text: String(p.n) }),
          el("td", { class: "num", text: String(p.compliant) }),
          el("td", { class: "num", text: String(p.non_compliant) }),
          el("td", { class: "num", text: String(p.undetermined) }),
          el("td", { text: p.low_sample ? t("yes") : t("no") }),
        ),
      );
    }
    table.append(body);
    details.append(table);
    return details;
  }

  // ---------- the refresh loop ----------
  // Workers (vision worker): shown only when the store knows any.
  async function loadWorkers() {
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

  async function refresh() {
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

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => {
      await refresh();
      schedule();
    }, REFRESH_MS);
  }

  function start() {
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
})();
