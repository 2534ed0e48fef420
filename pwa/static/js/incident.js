// The incident page (?id=): the summary of one incident, a link back into its checks where they
// stopped, and buttons to close it while it is open.
import { wireCompletion, wireTransaction } from "/static/js/complete.js";
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
      }, state.opened.recorded_by, [], { draft: state.draft });
      close.hidden = true;
      state = await readIncident(state.opened.id);
      await renderSummary(root, state);
    });
  }
}

// A draft (walked from a flow, not yet saved) is completed here, as at the end of the flow; a
// saved incident whose transaction is not told yet can be told it here.
async function wireDraft(root, state) {
  const form = document.getElementById("incident-complete");
  const onSaved = async () => renderSummary(root, await readIncident(state.opened.id));
  if (state.draft) {
    await wireCompletion(form, state.opened.id, {
      onChange: (terminal, who) => renderSummary(root, state, { terminal, who }), onSaved,
    });
  } else if (!state.transaction) {
    wireTransaction(form, state, { onSaved });
  }
}

reveal();
const id = new URL(window.location.href).searchParams.get("id");
let state = id && await readIncident(id);
if (state) {
  const root = document.getElementById("incident");
  root.hidden = false;
  await renderSummary(root, state);
  document.getElementById("incident-continue").href = await continueHref(state);
  wireClose(root, state);
  await wireDraft(root, state);
} else {
  document.getElementById("incident-missing").hidden = false;
}
