// The review page: a site's observations with their crops, and audit marks. Vanilla JS, no dependencies.
// Crops and marks need the bearer token (typed once, kept in sessionStorage, or given as #token=... once);
// the listing and the audit summary are open reads. Every sentence is t("English source") as in dashboard.js.
"use strict";

(function () {
  const API = "/api/v1";
  const PAGE = 24;
  const N_ = (message) => message; // marks a message for the catalogues; t() translates it where it is shown
  const MARKS = [
    ["correct", N_("right verdict")],
    ["wrong", N_("wrong verdict")],
    ["unclear", N_("cannot tell")],
  ];
  const MARK_NAMES = { correct: N_("correct"), wrong: N_("wrong"), unclear: N_("unclear") };
  const OUTCOMES = { compliant: N_("compliant"), non_compliant: N_("non-compliant"), undetermined: N_("undetermined"), non_rider: N_("non-rider") };
  const state = { token: sessionStorage.getItem("vision-token") || "", site: "", outcome: "", after: 0, sample: null };
  const $ = (id) => document.getElementById(id);
  let MESSAGES = {};
  const t = (message, vars) => {
    let text = MESSAGES[message] || message;
    if (vars) text = text.replace(/\{(\w+)\}/g, (whole, key) => (key in vars ? String(vars[key]) : whole));
    return text;
  };
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  };

  // A time as the site's clock showed it, in the page's language (not the browser's zone): the demo's
  // 07:30 at a Shanghai gate reads 07:30 wherever the reviewer sits.
  function siteTime(iso) {
    const site = (window.visionSites || []).find((s) => s.id === state.site);
    const format = new Intl.DateTimeFormat(document.documentElement.lang || "en", {
      timeZone: site ? site.timezone : "UTC",
      dateStyle: "medium",
      timeStyle: "medium",
    });
    return `${format.format(new Date(iso))} (${site ? site.timezone : "UTC"})`;
  }

  function showError(message) {
    const box = $("errors");
    box.textContent = message;
    box.hidden = !message;
  }

  async function call(path, options = {}) {
    const headers = { ...(options.headers || {}) };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(`${API}${path}`, { ...options, headers });
    if (!response.ok) {
      let detail = response.statusText;
      try {
        detail = (await response.json()).detail || detail;
      } catch (_) {
        /* not JSON */
      }
      throw new Error(t("{path}: HTTP {status}: {detail}", { path, status: response.status, detail: JSON.stringify(detail) }));
    }
    return response;
  }

  async function crop(item, img) {
    if (item.evidence !== "kept") {
      img.replaceWith(el("span", { class: "muted", text: item.evidence === "deleted" ? t("pixels removed by retention") : t("no evidence kept") }));
      return;
    }
    if (!state.token) {
      img.replaceWith(el("span", { class: "muted", text: t("the token shows the crop") }));
      return;
    }
    try {
      const blob = await (await call(`/observations/${item.id}/crop.jpg`)).blob();
      img.src = URL.createObjectURL(blob);
    } catch (error) {
      showError(error.message);
    }
  }

  async function mark(item, value, label) {
    try {
      await call(`/audit/marks/${item.id}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ mark: value }),
      });
      label.textContent = t("marked: {mark}", { mark: t(MARK_NAMES[value]) });
      await summary();
    } catch (error) {
      showError(error.message);
    }
  }

  function card(item) {
    const img = el("img", { class: "crop", alt: t(OUTCOMES[item.outcome] || item.outcome) });
    const label = el("span", { class: "mark", text: item.mark ? t("marked: {mark}", { mark: t(MARK_NAMES[item.mark] || item.mark) }) : "" });
    const decided = item.outcome === "compliant" || item.outcome === "non_compliant";
    const buttons = decided
      ? MARKS.map(([value, text]) => el("button", { type: "button", "data-mark": value, onclick: () => mark(item, value, label), text: t(text) }))
      : [];
    const node = el(
      "li",
      { class: "review-item", "data-id": String(item.id), "data-outcome": item.outcome },
      img,
      el("strong", { text: t(OUTCOMES[item.outcome] || item.outcome) }),
      el("span", { class: "muted", text: `${item.camera_id} · ${siteTime(item.ended_at)}` }),
      el("span", { class: "buttons" }, ...buttons),
      label,
    );
    crop(item, img);
    return node;
  }

  async function load(append) {
    showError("");
    if (!append) {
      state.after = 0;
      $("items").replaceChildren();
    }
    const params = new URLSearchParams({ site: state.site, limit: String(PAGE), after_id: String(state.after) });
    if (state.outcome) params.set("outcome", state.outcome);
    try {
      const page = await (await call(`/review?${params}`)).json();
      const items = state.sample ? page.items.filter((item) => state.sample.has(item.id)) : page.items;
      $("items").append(...items.map(card));
      state.after = page.next_after_id || 0;
      $("more-button").hidden = !page.next_after_id;
    } catch (error) {
      showError(error.message);
    }
  }

  async function summary() {
    const site = (window.visionSites || []).find((s) => s.id === state.site);
    const categories = site ? [...new Set(site.cameras.map((c) => c.category))] : [];
    const parts = [];
    for (const category of categories) {
      try {
        const s = await (await call(`/audit/summary?site=${encodeURIComponent(state.site)}&category=${category}`)).json();
        const share = (x) => (x === null ? "–" : `${(x * 100).toFixed(0)} %`);
        const more = t("{n} more marks before rates use it", { n: Math.max(0, s.min_marks - s.marked) });
        const use = s.used_for_rates ? t("rates use this audit") : more;
        parts.push(
          t("{category}: {marked} marked ({unclear} unclear); bare found as bare {sensitivity}, compliant found as compliant {specificity}; {use}", {
            category,
            marked: s.marked,
            unclear: s.unclear,
            sensitivity: share(s.sensitivity),
            specificity: share(s.specificity),
            use,
          }),
        );
      } catch (error) {
        showError(error.message);
      }
    }
    $("summary").textContent = parts.join(" · ");
  }

  async function drawSample() {
    const site = (window.visionSites || []).find((s) => s.id === state.site);
    if (!site || !site.cameras.length) return;
    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86400000);
    try {
      const sample = await (
        await call("/audit/samples", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ site: state.site, category: site.cameras[0].category, from: from.toISOString(), to: to.toISOString(), size: 50 }),
        })
      ).json();
      state.sample = new Set(sample.observation_ids);
      $("summary").textContent = t("audit sample {id}: {n} observations to mark", { id: sample.id, n: sample.observation_ids.length });
      await load(false);
    } catch (error) {
      showError(error.message);
    }
  }

  async function start() {
    const fromHash = new URLSearchParams(location.hash.slice(1));
    if (fromHash.get("token")) {
      state.token = fromHash.get("token");
      sessionStorage.setItem("vision-token", state.token);
      history.replaceState(null, "", location.pathname + location.search); // the token leaves the address bar
    }
    try {
      const language = await (await fetch(`${API}/i18n`)).json();
      MESSAGES = language.messages;
      document.documentElement.lang = language.language;
      for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
      window.visionSites = await (await fetch(`${API}/sites`)).json();
    } catch (error) {
      showError(t("the API did not answer: {error}", { error: error.message }));
      return;
    }
    const select = $("site-select");
    select.replaceChildren(...window.visionSites.map((s) => el("option", { value: s.id, text: s.name })));
    state.site = new URLSearchParams(location.search).get("site") || (window.visionSites[0] || {}).id || "";
    select.value = state.site;
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      state.token = $("token-input").value;
      sessionStorage.setItem("vision-token", state.token);
      load(false);
    });
    $("filter-form").addEventListener("submit", (event) => {
      event.preventDefault();
      state.site = select.value;
      state.outcome = $("outcome-select").value;
      state.sample = null;
      load(false).then(summary);
    });
    $("sample-button").addEventListener("click", drawSample);
    $("more-button").addEventListener("click", () => load(true));
    await load(false);
    await summary();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
