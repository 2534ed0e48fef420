// The records page: this phone's incidents, checklist runs and maintenance, in words (what the
// content calls each step, checklist and kind, never their ids), each opening read only; and how
// much room is left for more.
import { reveal } from "/static/js/forms.js";
import { checklistName, formatWhen, kindName, lang, names, periodText, t, tn } from "/static/js/i18n.js";
import { readIncidents } from "/static/js/incidents.js";
import { eventsOfType } from "/static/js/outbox.js";
import { loadIndex, normalise } from "/static/js/search.js";

function listItem(href, title, detail, event) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = href;
  const strong = document.createElement("strong");
  strong.textContent = title;
  const span = document.createElement("span");
  span.textContent = `${detail} · ${t(`js.sync_${event.sync}`)}`;
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

// Drafts first (they wait for a terminal and a name), then open incidents, then newest first.
const rank = (state) => (state.draft ? 2 : state.status === "open" ? 1 : 0);
const order = (a, b) => rank(b) - rank(a) || (a.opened.id < b.opened.id ? 1 : -1);

function incidentItem(state, titles) {
  const { opened } = state;
  const code = titles.get(normalise(opened.payload.code)) ?? opened.payload.code;
  const title = [code, opened.payload.terminal].filter(Boolean).join(" · ");
  const status = t(`js.status_${state.draft ? "draft" : state.status}`);
  return listItem(`/${lang}/incident?id=${opened.id}`, title,
    `${formatWhen(opened.payload.occurred_at)} · ${status} · ${tn("js.photos", state.blobs.length)}`, opened);
}

function runItem(run) {
  const counts = { ok: 0, problem: 0, na: 0 };
  for (const item of run.payload.items) counts[item.result] += 1;
  const frequency = names.checklists[run.payload.checklist]?.frequency;
  return listItem(`/${lang}/entry?id=${run.id}`,
    `${checklistName(run.payload.checklist)} · ${periodText(frequency, run.payload.period)}`,
    `${formatWhen(run.at)} · ${run.payload.signed_by} · ${t("js.run_summary", counts)}`, run);
}

function maintenanceItem(log) {
  return listItem(`/${lang}/entry?id=${log.id}`,
    `${log.payload.terminal} · ${kindName(log.payload.kind)}`,
    `${formatWhen(log.payload.done_at)} · ${log.recorded_by} · ${tn("js.photos", log.blobs.length)}`, log);
}

async function showStorage() {
  if (!navigator.storage?.estimate) return;
  const { quota = 0, usage = 0 } = await navigator.storage.estimate();
  const left = Math.max(0, quota - usage);
  const [unit, size] = left >= 1e9 ? ["gigabyte", left / 1e9] : ["megabyte", left / 1e6];
  const free = new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en-GB", { style: "unit", unit, maximumFractionDigits: 1 })
    .format(size);
  const kept = navigator.storage.persisted ? await navigator.storage.persisted() : false;
  const line = document.getElementById("storage");
  line.textContent = `${t("js.storage_left", { free })} ${t(kept ? "js.storage_kept" : "js.storage_not_kept")}`;
  line.hidden = false;
}

reveal();
const titles = new Map((await loadIndex(lang)).map((entry) => [entry.code, entry.title]));
fillList("list-incidents", (await readIncidents()).sort(order).map((state) => incidentItem(state, titles)));
fillList("list-runs", (await eventsOfType("checklist.completed")).map(runItem));
fillList("list-maintenance", (await eventsOfType("maintenance.logged")).map(maintenanceItem));
await showStorage();
