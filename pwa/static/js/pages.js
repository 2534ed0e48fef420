// Recording on the pages that need it: the incident form, the guided flow, the support card,
// the maintenance log and the local lists. Everything reads and writes IndexedDB only.
import { photoPicker } from "/static/js/camera.js";
import { get, getAll, getMeta } from "/static/js/db.js";
import { errorMessage, fillChoices, onValidSubmit, reveal, showError } from "/static/js/forms.js";
import { formatWhen, lang, localInputValue, t } from "/static/js/i18n.js";
import { eventsOfType, record } from "/static/js/outbox.js";
import { loadIndex } from "/static/js/search.js";

const params = new URL(window.location.href).searchParams;

function wirePhotos() {
  const input = document.getElementById("f-photos");
  if (!input) return () => [];
  return photoPicker(input, document.getElementById("f-photos-preview"), (error) => {
    showError(input.form, t("js.err_photo", { name: error.message.replace(/^cannot decode /, "") }));
  });
}

/** Everything recorded about one incident, from its events; null if it is not on this phone. */
async function incidentState(id) {
  const opened = await get("events", id);
  if (!opened || opened.type !== "incident.opened") return null;
  const all = await getAll("events");
  const related = all.filter((e) => e.payload.incident === id).sort((a, b) => (a.id < b.id ? -1 : 1));
  const steps = related.filter((e) => e.type === "incident.step");
  const closed = related.find((e) => e.type === "incident.closed");
  const blobs = [...opened.blobs, ...related.flatMap((e) => e.blobs)];
  return { opened, steps, closed, blobs, status: closed ? closed.payload.outcome : "open" };
}

async function renderSummary(root, state) {
  const shop = await getMeta("shop");
  const facts = {
    code: state.opened.payload.code,
    terminal: state.opened.payload.terminal,
    shop: shop ? shop.name : "—",
    when: formatWhen(state.opened.payload.occurred_at),
    who: state.opened.recorded_by,
    status: t(`js.status_${state.status}`),
    note: state.opened.payload.note || "—",
  };
  for (const [name, value] of Object.entries(facts)) root.querySelector(`[data-fact="${name}"]`).textContent = value;
  root.querySelector('[data-fact="steps"]').replaceChildren(...state.steps.map((step) => {
    const li = document.createElement("li");
    li.textContent = `${step.payload.step}: ${t(`js.answer_${step.payload.answer}`)}`;
    return li;
  }));
  const photos = root.querySelector('[data-fact="photos"]');
  photos.replaceChildren();
  for (const sha of state.blobs) {
    const blob = await get("blobs", sha);
    if (!blob) continue;
    const img = document.createElement("img");
    img.src = URL.createObjectURL(blob.blob);
    img.alt = `${t("js.photos", { count: 1 })} ${sha.slice(0, 8)}`;
    img.className = "thumb";
    photos.append(img);
  }
}

async function recordPage() {
  const form = document.getElementById("incident-form");
  form.hidden = false;
  reveal();
  form.code.value = params.get("code") || "";
  form.when.value = localInputValue();
  await fillChoices();
  const photos = wirePhotos();
  onValidSubmit(form, async () => {
    const event = await record("incident.opened", {
      code: form.code.value.trim(),
      terminal: form.terminal.value.trim(),
      occurred_at: new Date(form.when.value).toISOString(),
      note: form.note.value.trim(),
    }, form.who.value, await photos());
    const flow = params.get("flow");
    window.location.href = flow
      ? `/${lang}/flows/${flow}?incident=${event.id}`
      : `/${lang}/incident?id=${event.id}`;
  });
}

function withIncident(href, incident) {
  const url = new URL(href, window.location.href);
  url.searchParams.set("incident", incident);
  return url.pathname + url.search;
}

async function flowPage() {
  const flow = document.querySelector(".flow");
  const current = () => flow.querySelector(".step:target") || flow.querySelector(".step.start");
  const incident = params.get("incident");
  let state = incident && await incidentState(incident);
  let from = null;

  async function show(section) {
    if (!state) return;
    const summary = document.getElementById("flow-incident");
    summary.hidden = !section.dataset.support;
    if (section.id === "fixed" && !state.closed) {
      const step = from || state.steps.at(-1)?.payload.step || null;
      await record("incident.closed", { incident, outcome: "resolved", step }, state.opened.recorded_by);
      state = await incidentState(incident);
    }
    if (section.dataset.support) {
      await renderSummary(summary, state);
      const button = section.querySelector("[data-escalate]");
      button.hidden = Boolean(state.closed);
      button.onclick = async () => {
        const step = from || state.steps.at(-1)?.payload.step || null;
        await record("incident.closed", {
          incident, outcome: "escalated", step, support: section.dataset.support,
        }, state.opened.recorded_by);
        state = await incidentState(incident);
        await show(section);
      };
    }
    const recorded = section.querySelector("[data-recorded]");
    if (recorded) recorded.hidden = !state.closed;
  }

  window.addEventListener("hashchange", async () => {
    const section = current();
    section.focus();
    await show(section);
  });
  if (!state) return;
  const bar = document.getElementById("incident-bar");
  bar.textContent = bar.dataset.template
    .replace("{code}", state.opened.payload.code)
    .replace("{when}", formatWhen(state.opened.payload.occurred_at));
  bar.hidden = false;
  document.getElementById("record-here").hidden = true;
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
        state = await incidentState(incident);
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
  await show(current());
}

async function incidentPage() {
  reveal();
  const id = params.get("id");
  const state = id && await incidentState(id);
  if (!state) {
    document.getElementById("incident-missing").hidden = false;
    return;
  }
  const root = document.getElementById("incident");
  root.hidden = false;
  await renderSummary(root, state);
  const index = await loadIndex(lang);
  const code = state.opened.payload.code;
  const guide = index.find((entry) => entry.code === code.toLowerCase());
  // Back into the checks where they stopped: the flow page at the last step answered.
  const last = state.steps.at(-1);
  document.getElementById("incident-continue").href = guide && guide.flow
    ? `${withIncident(`/${lang}/flows/${guide.flow}`, id)}#step-${last ? last.payload.step : ""}`.replace(/#step-$/, "")
    : withIncident(guide ? guide.url : `/${lang}`, id);
  const close = document.getElementById("incident-close");
  close.hidden = state.status !== "open";
  for (const button of close.querySelectorAll("button")) {
    button.addEventListener("click", async () => {
      const last = state.steps.at(-1);
      await record("incident.closed", {
        incident: id, outcome: button.dataset.outcome, step: last ? last.payload.step : null,
      }, state.opened.recorded_by);
      close.hidden = true;
      await renderSummary(root, await incidentState(id));
    });
  }
}

function listItem(href, title, detail, event) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = href;
  const strong = document.createElement("strong");
  strong.textContent = title;
  const span = document.createElement("span");
  const sync = event.sync === "rejected"
    ? t("js.sync_rejected", { reason: event.reason || "" })
    : t(`js.sync_${event.sync}`);
  span.textContent = `${detail} · ${sync}`;
  a.append(strong, span);
  li.append(a);
  if (event.sync === "rejected") li.classList.add("rejected");
  return li;
}

function fillList(id, items) {
  const list = document.getElementById(id);
  if (items.length) list.replaceChildren(...items);
  else list.replaceChildren(Object.assign(document.createElement("li"), { textContent: list.dataset.empty }));
}

async function recordsPage() {
  reveal();
  const opened = await eventsOfType("incident.opened");
  const states = await Promise.all(opened.map((e) => incidentState(e.id)));
  // Open incidents first (they can be resumed), then newest first.
  states.sort((a, b) => (b.status === "open") - (a.status === "open") || (a.opened.id < b.opened.id ? 1 : -1));
  fillList("list-incidents", states.map((s) => listItem(
    `/${lang}/incident?id=${s.opened.id}`,
    `${s.opened.payload.code} · ${s.opened.payload.terminal}`,
    `${formatWhen(s.opened.payload.occurred_at)} · ${t(`js.status_${s.status}`)} · ${t("js.photos", { count: s.blobs.length })}`,
    s.opened,
  )));
  const runs = await eventsOfType("checklist.completed");
  fillList("list-runs", runs.map((run) => {
    const counts = { ok: 0, problem: 0, na: 0 };
    for (const item of run.payload.items) counts[item.result] += 1;
    return listItem(`/${lang}/checklists/${run.payload.checklist}`,
      `${run.payload.checklist} · ${run.payload.period}`,
      `${formatWhen(run.at)} · ${run.payload.signed_by} · ${t("js.run_summary", counts)}`, run);
  }));
  const logs = await eventsOfType("maintenance.logged");
  fillList("list-maintenance", logs.map((log) => listItem(`/${lang}/maintenance`,
    `${log.payload.terminal} · ${log.payload.kind}`,
    `${formatWhen(log.payload.done_at)} · ${log.recorded_by} · ${t("js.photos", { count: log.blobs.length })}`, log)));
}

async function maintenancePage() {
  const form = document.getElementById("maintenance-form");
  form.hidden = false;
  reveal();
  form.when.value = localInputValue();
  if (params.get("kind")) form.kind.value = params.get("kind");
  const showKind = () => {
    for (const set of form.querySelectorAll(".kind-fields")) {
      const on = set.dataset.kind === form.kind.value;
      set.hidden = !on;
      set.disabled = !on;
    }
  };
  form.kind.addEventListener("change", showKind);
  showKind();
  await fillChoices();
  const photos = wirePhotos();
  onValidSubmit(form, async () => {
    const fields = {};
    for (const input of form.querySelectorAll(`.kind-fields[data-kind="${form.kind.value}"] input`)) {
      if (input.value.trim()) fields[input.name] = input.value.trim();
    }
    await record("maintenance.logged", {
      terminal: form.terminal.value.trim(),
      kind: form.kind.value,
      done_at: new Date(form.when.value).toISOString(),
      fields,
      note: form.note.value.trim(),
    }, form.who.value, await photos());
    window.location.href = `/${lang}/records`;
  });
}

const PAGES = {
  record: recordPage, flow: flowPage,
  incident: incidentPage, records: recordsPage, maintenance: maintenancePage,
};
PAGES[document.body.dataset.page]?.();
