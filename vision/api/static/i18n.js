// The page's language: t("English source") through the catalogue /api/v1/i18n gives, and every number,
// date and time formatted in that language and in a site's zone.

export const N_ = (message) => message; // marks a message for the catalogues; t() translates it where it is shown
export const WINDOW_LABELS = { 60: N_("the last 1 hour"), 1440: N_("the last 24 hours"), 10080: N_("the last 7 days") };
export const CAMERA_STATES = [N_("starting"), N_("up"), N_("down"), N_("stalled"), N_("finished"), N_("failed"), N_("unknown")];

// ---------- language ----------
export let LANG = "en";
export let MESSAGES = {};
export let ZONE = "UTC"; // the deployment's zone (config timezone); each site may have its own
// Set once by the page from /api/v1/i18n: the language, its catalogue and the deployment's zone.
export function setLanguage(language, messages, zone) {
  LANG = language;
  MESSAGES = messages;
  ZONE = zone;
}

export const t = (message, vars) => {
  let text = MESSAGES[message] || message;
  if (vars) text = text.replace(/\{(\w+)\}/g, (whole, key) => (key in vars ? String(vars[key]) : whole));
  return text;
};

// ---------- formatting ----------
export const pct = (v) => {
  if (v === null || v === undefined) return "–";
  if (LANG === "en") return (v * 100).toFixed(1) + " %";
  return new Intl.NumberFormat(LANG, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v);
};
export const pctBare = (v) => (v * 100).toFixed(1);
export const wholePct = (v) => (LANG === "en" ? `${(v * 100).toFixed(0)} %` : `${(v * 100).toFixed(0)}%`);
export const clock = (d, zone) =>
  Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(d)
      .map((part) => [part.type, part.value]),
  );
export const isoDay = (d, zone = ZONE) => {
  const c = clock(d, zone);
  return `${c.year}-${c.month}-${c.day}`;
};
export const dayText = (d, zone = ZONE) =>
  LANG === "en" ? isoDay(d, zone) : new Intl.DateTimeFormat(LANG, { timeZone: zone, year: "numeric", month: "long", day: "numeric" }).format(d);
export const hhmm = (d, zone = ZONE) => {
  const c = clock(d, zone);
  return `${c.hour}:${c.minute}`;
};
export const fmtTime = (d, zone = ZONE) => `${dayText(d, zone)} ${hhmm(d, zone)} ${zone}`;
export const fmtRange = (a, b, zone = ZONE) =>
  isoDay(a, zone) === isoDay(b, zone) ? `${dayText(a, zone)} ${hhmm(a, zone)}–${hhmm(b, zone)} ${zone}` : `${fmtTime(a, zone)} – ${fmtTime(b, zone)}`;
// How far ``zone``'s clock is ahead of UTC at epoch-ms ``ms`` (for ticks on local hours and days).
export const offsetMs = (ms, zone) => {
  const c = clock(new Date(ms), zone);
  return Date.UTC(+c.year, +c.month - 1, +c.day, +c.hour, +c.minute) - Math.floor(ms / 60000) * 60000;
};
export const toDate = (s) => (s instanceof Date ? s : new Date(s));
export const interval = (p) => (p.low === null || p.high === null ? "" : `[${pctBare(p.low)}, ${pctBare(p.high)}]`);
export const rateText = (p) => (p.rate === null ? t("no decided observations") : `${pct(p.rate)} ${interval(p)}`);
export const stateName = (name) => (CAMERA_STATES.includes(name) ? t(name) : name);
export const bucketName = (bucket) => ({ minute: t("minute"), hour: t("hour"), day: t("day") })[bucket] || bucket;

export function fmtAge(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return t("{n} s", { n: Math.round(seconds) });
  if (seconds < 5400) return t("{n} min", { n: Math.round(seconds / 60) });
  if (seconds < 172800) return t("{n} h", { n: Math.round(seconds / 3600) });
  return t("{n} days", { n: Math.round(seconds / 86400) });
}
