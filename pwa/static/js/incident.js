// The incident page (?id=): the summary of one incident, a link back into its checks where they
// stopped, and buttons to close it while it is open.
import { reveal } from "/static/js/forms.js";
import { lang } from "/static/js/i18n.js";
import { renderSummary } from "/static/js/incident-summary.js";
import { readIncident } from "/static/js/incidents.js";
import { record } from "/static/js/outbox.js";
import { loadIndex } from "/static/js/search.js";

function withIncident(href, incident) {
  const url = new URL(href, window.location.href);
  url.searchParams.set("incident", incident);
  return url.pathname + url.search;
}

// Back into the checks where they stopped: the flow page at the last step answered.
async function continueHref(state) {
  const index = await loadIndex(lang);
  const id = state.opened.id;
  const guide = index.find((entry) => entry.code === state.opened.payload.code.toLowerCase());
  if (!guide || !guide.flow) return withIncident(guide ? guide.url : `/${lang}`, id);
  const last = state.steps.at(-1);
  const flow = withIncident(`/${lang}/flows/${guide.flow}`, id);
  return last ? `${flow}#step-${last.payload.step}` : flow;
}

function wireClose(root, state) {
  const close = document.getElementById("incident-close");
  close.hidden = state.status !== "open";
  for (const button of close.querySelectorAll("button")) {
    button.addEventListener("click", async () => {
      const last = state.steps.at(-1);
      await record("incident.closed", {
        incident: state.opened.id, outcome: button.dataset.outcome, step: last ? last.payload.step : null,
      }, state.opened.recorded_by);
      close.hidden = true;
      await renderSummary(root, await readIncident(state.opened.id));
    });
  }
}

reveal();
const id = new URL(window.location.href).searchParams.get("id");
const state = id && await readIncident(id);
if (state) {
  const root = document.getElementById("incident");
  root.hidden = false;
  await renderSummary(root, state);
  document.getElementById("incident-continue").href = await continueHref(state);
  wireClose(root, state);
} else {
  document.getElementById("incident-missing").hidden = false;
}
