// One checklist run or maintenance entry, read only (?id=): events are never edited, so a past
// run opens as it was recorded, in words, with its photos.
import { get } from "/static/js/db.js";
import { reveal } from "/static/js/forms.js";
import { checklistName, formatWhen, kindName, names, periodText, t } from "/static/js/i18n.js";

const root = document.getElementById("entry");

function fact(list, label, value) {
  const dt = Object.assign(document.createElement("dt"), { textContent: label });
  const dd = Object.assign(document.createElement("dd"), { textContent: value });
  list.append(dt, dd);
}

async function photo(sha) {
  const row = await get("blobs", sha);
  if (!row) return null;
  return Object.assign(document.createElement("img"), { src: URL.createObjectURL(row.blob), className: "thumb", alt: t("js.photos_one", { count: 1 }) });
}

async function photos(shas, into) {
  for (const sha of shas) {
    const img = await photo(sha);
    if (img) into.append(img);
  }
}

async function showRun(event, facts) {
  const { checklist, period, items, signed_by: who } = event.payload;
  const about = names.checklists[checklist];
  document.getElementById("entry-title").textContent = checklistName(checklist);
  fact(facts, t("js.entry_period"), periodText(about?.frequency, period));
  fact(facts, t("js.entry_signed_by"), who);
  fact(facts, t("js.entry_completed"), formatWhen(event.at));
  const list = root.querySelector("[data-items]");
  for (const item of items) {
    const li = document.createElement("li");
    const title = Object.assign(document.createElement("strong"), { textContent: about?.items[item.item] ?? t("js.step_unknown") });
    const result = Object.assign(document.createElement("span"), { className: `result result-${item.result}`, textContent: t(`js.run_${item.result}`) });
    li.append(title, " ", result);
    if (item.note) li.append(Object.assign(document.createElement("p"), { textContent: item.note }));
    list.append(li);
  }
  await photos(event.blobs, root.querySelector("[data-photos]"));
}

async function showLog(event, facts) {
  const { terminal, kind, done_at: doneAt, fields, note } = event.payload;
  document.getElementById("entry-title").textContent = kindName(kind);
  fact(facts, t("js.entry_terminal"), terminal);
  fact(facts, t("js.entry_done_at"), formatWhen(doneAt));
  for (const [field, value] of Object.entries(fields || {})) fact(facts, names.kinds[kind]?.fields[field] ?? field, value);
  if (note) fact(facts, t("js.entry_note"), note);
  fact(facts, t("js.entry_recorded_by"), event.recorded_by);
  await photos(event.blobs, root.querySelector("[data-photos]"));
}

reveal();
const id = new URL(window.location.href).searchParams.get("id");
const event = id && await get("events", id);
if (event && (event.type === "checklist.completed" || event.type === "maintenance.logged")) {
  const facts = root.querySelector("[data-facts]");
  await (event.type === "checklist.completed" ? showRun : showLog)(event, facts);
  fact(facts, t("js.entry_sync"), t(`js.sync_${event.sync}`));
  root.hidden = false;
} else {
  document.getElementById("entry-missing").hidden = false;
}
