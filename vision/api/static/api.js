// The API client: JSON from /api/v1 with errors that name the request, shown in the page's error box.
import { $, el } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./state.js";

// ---------- API ----------
export async function getJSON(path) {
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

export function showError(key, message) {
  state.errors.set(key, message);
  renderErrors();
}

export function clearError(key) {
  if (state.errors.delete(key)) renderErrors();
}

export function renderErrors() {
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
