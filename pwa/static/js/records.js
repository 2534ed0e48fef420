// The records page: what this phone recorded (incidents, checklist runs, maintenance), each with
// whether it has reached the server. Old records the server holds are pruned (outbox.js).
import { reveal } from "/static/js/forms.js";
import { formatWhen, lang, t } from "/static/js/i18n.js";
import { readIncidents } from "/static/js/incidents.js";
import { eventsOfType } from "/static/js/outbox.js";

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

// Open incidents first (they can be resumed), then newest first.
const openFirst = (a, b) => (b.status === "open") - (a.status === "open") || (a.opened.id < b.opened.id ? 1 : -1);

function incidentItem(state) {
  const { opened } = state;
  return listItem(`/${lang}/incident?id=${opened.id}`,
    `${opened.payload.code} · ${opened.payload.terminal}`,
    `${formatWhen(opened.payload.occurred_at)} · ${t(`js.status_${state.status}`)} · ${t("js.photos", { count: state.blobs.length })}`,
    opened);
}

function runItem(run) {
  const counts = { ok: 0, problem: 0, na: 0 };
  for (const item of run.payload.items) counts[item.result] += 1;
  return listItem(`/${lang}/checklists/${run.payload.checklist}`,
    `${run.payload.checklist} · ${run.payload.period}`,
    `${formatWhen(run.at)} · ${run.payload.signed_by} · ${t("js.run_summary", counts)}`, run);
}

function maintenanceItem(log) {
  return listItem(`/${lang}/maintenance`,
    `${log.payload.terminal} · ${log.payload.kind}`,
    `${formatWhen(log.payload.done_at)} · ${log.recorded_by} · ${t("js.photos", { count: log.blobs.length })}`, log);
}

reveal();
fillList("list-incidents", (await readIncidents()).sort(openFirst).map(incidentItem));
fillList("list-runs", (await eventsOfType("checklist.completed")).map(runItem));
fillList("list-maintenance", (await eventsOfType("maintenance.logged")).map(maintenanceItem));
