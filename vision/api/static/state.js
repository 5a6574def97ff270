// What the page knows (one state object, filled by the loaders in dashboard.js) and the facts read from it:
// sites, targets, zones, categories, camera health and a rate's status against its target.
import { ZONE, stateName, t } from "./i18n.js";

export const API = "/api/v1";
export const REFRESH_MS = 15000;
export const ALL_DAYS = 365;
export const NEAR = 0.05; // "near target": at or above the target but by less than this
export const MAX_POINTS = 50000; // the API's limit per series request
export const BUCKET_S = { minute: 60, hour: 3600, day: 86400 };

export const DEFAULT_THRESHOLD = 0.9;

export const state = {
  categories: null, // id -> {title, subject, ...} from /api/v1/categories
  sites: [],
  sitesLoaded: false,
  rows: [], // {site_id, category, threshold, confidently_below, point}
  vehicles: new Map(), // "site|category" -> the per-vehicle point (unit=vehicle) over the same window
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


// ---------- loading ----------
export function siteById(id) {
  return state.sites.find((s) => s.id === id);
}

export function thresholdOf(siteId) {
  const site = siteById(siteId);
  return site ? site.threshold : DEFAULT_THRESHOLD;
}


export function categoryTitle(category) {
  const info = state.categories && state.categories[category];
  return info ? t(info.title) : category || "–";
}


export const siteZone = (siteId) => {
  const site = siteById(siteId);
  return (site && site.timezone) || ZONE;
};


// ---------- status ----------
export function statusOf(row) {
  const p = row && row.point;
  if (!p || p.rate === null) return { key: "nodata", label: t("No data"), rank: 0 };
  if (p.rate < row.threshold) {
    return { key: "below", label: row.confidently_below ? t("Below target (confident)") : t("Below target"), rank: 3 };
  }
  if (p.rate < row.threshold + NEAR) return { key: "near", label: t("Near target"), rank: 2 };
  return { key: "ok", label: t("On target"), rank: 1 };
}


// finished (a file played to its end) and unknown (never reported) are counted on their own.
export const BAD_STATES = new Set(["down", "stalled", "failed"]);
export function cameraHealth(cameras) {
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
