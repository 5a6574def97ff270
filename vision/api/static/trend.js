// The trend of one site: its series from the API drawn as an SVG chart with the interval as a band, and its data table.
import { clearError, getJSON, showError } from "./api.js";
import { $, el, svg, titled } from "./dom.js";
import { bucketName, dayText, fmtRange, hhmm, isoDay, offsetMs, pct, rateText, t, toDate, wholePct } from "./i18n.js";
import { renderMap } from "./sitemap.js";
import { ALL_DAYS, API, BUCKET_S, MAX_POINTS, categoryTitle, siteById, siteZone, state } from "./state.js";
import { renderTable } from "./table.js";

// ---------- trend ----------
export function populateSiteSelect() {
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

export function selectSite(siteId) {
  if (!siteId || siteId === state.selectedSite) return;
  state.selectedSite = siteId;
  $("site-select").value = siteId;
  renderTable();
  renderMap();
  loadTrend();
}

// The range of the trend: the rolling window, or, for "all data", the days the site has data on.
export function trendRange(bucket) {
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

export function autoBucket() {
  if (state.userChoseBucket || !state.shown) return;
  let span;
  if (state.shown.mode === "window") span = state.shown.minutes * 60;
  else if (state.shown.dataFrom) span = (state.shown.dataTo - state.shown.dataFrom) / 1000;
  else return;
  state.bucket = span <= 2 * 86400 ? (span <= 3600 || state.shown.mode === "all" ? "minute" : "hour") : span <= 60 * 86400 ? "hour" : "day";
  $("bucket-select").value = state.bucket;
}

export let trendRequest = 0;

export async function loadTrend() {
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

export function dataDomain(seriesList, bucket) {
  const points = seriesList.flatMap((s) => s.points);
  const lo = Math.min(...points.map((p) => toDate(p.start).getTime()));
  const hi = Math.max(...points.map((p) => toDate(p.end).getTime()));
  const padding = Math.max(BUCKET_S[bucket] * 1000, (hi - lo) * 0.05);
  return [lo - padding, hi + padding];
}

export const TIME_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000].map((s) => s * 1000);

export function drawTrend(series, site, domain, zone) {
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

export function dataTable(series, zone) {
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
