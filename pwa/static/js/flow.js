// The guided flow records as it is walked: the first answer starts the incident (a draft on this
// phone, timed from when the flow was opened), every answer is a step of it at once, reaching
// "fixed" closes it as resolved, and a support card shows the summary to read out with a button
// to close it as escalated. The terminal and the name are asked for at the end (complete.js), not
// before. "?incident=id" carries on an incident already started; "back one step" goes back
// along the steps walked. Under each step's title, what the chain learned (from pull): how often
// that check fixed the problem across every shop in the last 90 days.
import { getMeta } from "/static/js/db.js";
import { errorMessage } from "/static/js/forms.js";
import { formatWhen } from "/static/js/i18n.js";
import { readIncident } from "/static/js/incidents.js";
import { record } from "/static/js/outbox.js";

const flow = document.querySelector(".flow");
const bar = document.getElementById("incident-bar");
const summary = document.getElementById("flow-incident");
const startedAt = new Date().toISOString(); // the tap on "start the checks" that opened this page
let incident = new URL(window.location.href).searchParams.get("incident");
let state = incident && await readIncident(incident);
let chosen = {}; // the terminal and name given so far in the completion form
let from = null; // the step whose answer led here, once one was answered on this page
const trail = []; // the sections walked, for "back one step"

const current = () => flow.querySelector(".step:target") || flow.querySelector(".step.start");

function showBar() {
  const at = state ? state.opened.payload.occurred_at : startedAt;
  bar.textContent = bar.dataset.template.replace("{code}", flow.dataset.code).replace("{when}", formatWhen(at));
  bar.hidden = false;
}

// The first answer opens the incident; the page's address then names it, so a reload goes on.
async function ensureIncident() {
  if (state) return;
  const opened = await record("incident.opened", {
    code: flow.dataset.code, terminal: "", occurred_at: startedAt, note: "",
  }, "", [], { draft: true });
  incident = opened.id;
  const url = new URL(window.location.href);
  url.searchParams.set("incident", incident);
  history.replaceState(history.state, "", url);
  state = await readIncident(incident);
}

async function recordEvent(type, payload) {
  await ensureIncident();
  await record(type, { incident, ...payload }, state.opened.recorded_by, [], { draft: state.draft });
  state = await readIncident(incident);
}

const lastStep = () => from || state.steps.at(-1)?.payload.step || null;

function track(section) {
  if (trail.at(-2) === section.id) trail.pop();
  else if (trail.at(-1) !== section.id) trail.push(section.id);
  const previous = trail.at(-2);
  const back = document.getElementById("flow-back");
  back.hidden = !previous;
  if (previous) back.href = `#${previous}`;
}

async function show(section) {
  track(section);
  if (!state) return;
  const ending = section.classList.contains("ending");
  summary.hidden = !ending;
  if (section.id === "fixed" && !state.closed) await recordEvent("incident.closed", { outcome: "resolved", step: lastStep() });
  if (ending) {
    // Loaded at the end only: the first step shows (and records) without them.
    const [{ wireCompletion }, { renderSummary, summaryCard }] = await Promise.all([
      import("/static/js/complete.js"), import("/static/js/incident-summary.js")]);
    await summaryCard(summary);
    const form = document.getElementById("incident-complete");
    if (state.draft) {
      await wireCompletion(form, incident, {
        onChange: (terminal, who) => { chosen = { terminal, who }; renderSummary(summary, state, chosen); },
        onSaved: async () => { state = await readIncident(incident); await show(current()); },
      });
    } else {
      form.hidden = true;
    }
    await renderSummary(summary, state, state.draft ? chosen : {});
  }
  const button = section.querySelector("[data-escalate]");
  if (button) {
    button.hidden = Boolean(state.closed);
    button.onclick = async () => {
      await recordEvent("incident.closed", { outcome: "escalated", step: lastStep(), support: section.dataset.support });
      await show(section);
    };
  }
  const recorded = section.querySelector("[data-recorded]");
  if (recorded) recorded.hidden = !state.closed || state.draft;
}

function recordAnswers() {
  let busy = false; // a double tap records one answer, not two
  for (const link of flow.querySelectorAll("a[data-answer]")) {
    link.addEventListener("click", async (click) => {
      click.preventDefault();
      if (busy) return;
      busy = true;
      const step = link.closest(".step").dataset.step;
      try {
        await recordEvent("incident.step", { flow: flow.dataset.flow, step, answer: link.dataset.answer });
        from = step;
        showBar();
      } catch (error) {
        // The cashier goes on with the checks either way, but must see that this was not saved.
        bar.textContent = errorMessage(error);
        bar.classList.add("error");
        bar.hidden = false;
      } finally {
        busy = false;
      }
      window.location.hash = link.hash;
    });
  }
}

async function showLearned() {
  const learned = (await getMeta("learned", [])).find((known) => known.flow === flow.dataset.flow);
  if (!learned) return;
  for (const { step, percent } of learned.steps) {
    const title = flow.querySelector(`[data-step="${CSS.escape(step)}"] h2`);
    if (!title) continue; // a step the content on this phone no longer has
    const line = document.createElement("p");
    line.className = "learned";
    line.textContent = flow.dataset.learned.replace("{percent}", percent)
      .replace("{code}", flow.dataset.code).replace("{incidents}", learned.incidents);
    title.after(line);
  }
}

window.addEventListener("hashchange", async () => {
  const section = current();
  section.focus();
  await show(section);
});
if (state) for (const step of state.steps) trail.push(`step-${step.payload.step}`);
showBar();
recordAnswers();
await show(current());
await showLearned(); // after the step shows: a tap while it loads must meet a page already set up
