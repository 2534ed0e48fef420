// The guided flow, when it runs for an incident (?incident=id): each answer is recorded as a step,
// reaching "fixed" closes the incident as resolved, and a support card shows the incident's
// summary with a button to close it as escalated. Without an incident the flow is plain links.
import { errorMessage } from "/static/js/forms.js";
import { formatWhen } from "/static/js/i18n.js";
import { renderSummary } from "/static/js/incident-summary.js";
import { readIncident } from "/static/js/incidents.js";
import { record } from "/static/js/outbox.js";

const flow = document.querySelector(".flow");
const incident = new URL(window.location.href).searchParams.get("incident");
let state = incident && await readIncident(incident);
let from = null; // the step whose answer led here, once one was answered on this page

const current = () => flow.querySelector(".step:target") || flow.querySelector(".step.start");

async function close(outcome, support) {
  const step = from || state.steps.at(-1)?.payload.step || null;
  await record("incident.closed", { incident, outcome, step, ...(support && { support }) }, state.opened.recorded_by);
  state = await readIncident(incident);
}

async function show(section) {
  if (!state) return;
  const summary = document.getElementById("flow-incident");
  summary.hidden = !section.dataset.support;
  if (section.id === "fixed" && !state.closed) await close("resolved");
  if (section.dataset.support) {
    await renderSummary(summary, state);
    const button = section.querySelector("[data-escalate]");
    button.hidden = Boolean(state.closed);
    button.onclick = async () => {
      await close("escalated", section.dataset.support);
      await show(section);
    };
  }
  const recorded = section.querySelector("[data-recorded]");
  if (recorded) recorded.hidden = !state.closed;
}

function showIncidentBar() {
  const bar = document.getElementById("incident-bar");
  bar.textContent = bar.dataset.template
    .replace("{code}", state.opened.payload.code)
    .replace("{when}", formatWhen(state.opened.payload.occurred_at));
  bar.hidden = false;
  document.getElementById("record-here").hidden = true;
  return bar;
}

function recordAnswers(bar) {
  let busy = false; // a double tap records one answer, not two
  for (const link of flow.querySelectorAll("a[data-answer]")) {
    link.addEventListener("click", async (click) => {
      click.preventDefault();
      if (busy) return;
      busy = true;
      const step = link.closest(".step").dataset.step;
      try {
        await record("incident.step", {
          incident, flow: flow.dataset.flow, step, answer: link.dataset.answer,
        }, state.opened.recorded_by);
        state = await readIncident(incident);
        from = step;
      } catch (error) {
        // The cashier goes on with the checks either way, but must see that this was not saved.
        bar.textContent = errorMessage(error);
        bar.classList.add("error");
      } finally {
        busy = false;
      }
      window.location.hash = link.hash;
    });
  }
}

window.addEventListener("hashchange", async () => {
  const section = current();
  section.focus();
  await show(section);
});
if (state) {
  recordAnswers(showIncidentBar());
  await show(current());
}
