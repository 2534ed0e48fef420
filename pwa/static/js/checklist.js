// Prevention checklists: what is due and overdue from each schedule and the shop's runs (this
// phone's, and every other phone's as pull brought them), and a run recorded item by item, kept
// as a draft until it is signed off. A period done already asks before a second run.
import { preparePhoto } from "/static/js/camera.js";
import { get, getMeta, put, remove } from "/static/js/db.js";
import { errorMessage, fillChoices, missingField, showError } from "/static/js/forms.js";
import { formatDate, formatWhen, t } from "/static/js/i18n.js";
import { eventsOfType, record } from "/static/js/outbox.js";

const MAX_ITEM_PHOTOS = 5;
const MAX_RUN_PHOTOS = 20; // the most photos one event may name (sync/types.py Blobs)

const isoDate = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/** The first day of the period (day, ISO week, month, quarter) that today falls in. */
export function periodStart(frequency, today) {
  const d = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  if (frequency === "weekly") d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  if (frequency === "monthly") d.setDate(1);
  if (frequency === "quarterly") { d.setDate(1); d.setMonth(d.getMonth() - (d.getMonth() % 3)); }
  return d;
}

/** The day within the period on which the checklist falls due. */
export function dueDate(schedule, start) {
  const d = new Date(start);
  if (schedule.frequency === "weekly") d.setDate(d.getDate() + Number(schedule.weekday) - 1);
  if (schedule.frequency === "monthly") d.setDate(Number(schedule.day));
  if (schedule.frequency === "quarterly") {
    d.setMonth(d.getMonth() + Number(schedule.monthOfQuarter) - 1);
    d.setDate(Number(schedule.day));
  }
  return d;
}

/** "done" (with the run that did it), "due" (today), "overdue" or "upcoming" for this period.
 * runs: {checklist, period, signed_by, completed_at} from any phone of the shop. */
export function dueStatus(schedule, runs, today = new Date()) {
  const start = periodStart(schedule.frequency, today);
  const due = dueDate(schedule, start);
  const day = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  const period = isoDate(start);
  const done = runs.filter((run) => run.checklist === schedule.checklist && run.period === period)
    .sort((a, b) => (a.completed_at < b.completed_at ? -1 : 1))[0];
  if (done) return { status: "done", due, period, run: done };
  if (day > due) return { status: "overdue", due, period };
  if (day.getTime() === due.getTime()) return { status: "due", due, period };
  return { status: "upcoming", due, period };
}

/** The shop's runs as one list: this phone's own events and the runs pull brought, each once. */
export function shopRuns(events, pulled = []) {
  const runs = new Map(pulled.map((run) => [run.id, run]));
  for (const event of events) {
    runs.set(event.id, { id: event.id, checklist: event.payload.checklist, period: event.payload.period,
      signed_by: event.payload.signed_by, completed_at: event.at });
  }
  return [...runs.values()];
}

function dueText({ status, due, run }) {
  if (run) return t("js.done_by", { who: run.signed_by, when: formatWhen(run.completed_at) });
  return t({ due: "js.due_today", overdue: "js.due_overdue", upcoming: "js.due_upcoming" }[status], { date: formatDate(due) });
}

async function showDue() {
  const shop = await getMeta("shop");
  const runs = shopRuns(await eventsOfType("checklist.completed"), shop?.runs || []);
  const result = {};
  for (const entry of document.querySelectorAll(".checklist-entry")) {
    const due = dueStatus(entry.dataset, runs);
    const badge = entry.querySelector("[data-due]");
    badge.textContent = dueText(due);
    badge.className = `due due-${due.status}`;
    result[entry.dataset.checklist] = due;
  }
  return result;
}

// Photos are kept per item in the draft, as prepared blobs: several per item, up to five.
const itemPhotos = (draft, id) => {
  const kept = draft.photos[id];
  return Array.isArray(kept) ? kept : kept ? [kept] : [];
};

async function runForm(form, checklist, period) {
  const draftId = `checklist:${checklist}:${period}`;
  const draft = (await get("drafts", draftId)) || { id: draftId, items: {}, photos: {} };
  await fillChoices();
  const items = [...form.querySelectorAll("li[data-item]")];
  const preparing = new Set(); // photos still being shrunk: submitting waits for them

  // A problem asks for a note, and offers to record an incident or maintenance.
  const showProblem = (li) => {
    const problem = draft.items[li.dataset.item]?.result === "problem";
    li.querySelector(".problem-links").hidden = !problem;
    li.querySelector(".problem-note").hidden = !problem && !li.querySelector("input[id^=note-]").value;
  };
  const showThumbs = (li) => {
    li.querySelector("[data-thumbs]").replaceChildren(...itemPhotos(draft, li.dataset.item).map((photo) =>
      Object.assign(document.createElement("img"), { src: URL.createObjectURL(photo.blob), className: "thumb", alt: "" })));
  };
  const saveDraft = async () => {
    draft.who = form.who.value;
    try {
      await put("drafts", draft);
      document.getElementById("draft-saved").hidden = false;
    } catch (error) {
      showError(form, errorMessage(error));
    }
  };

  for (const li of items) {
    const id = li.dataset.item;
    const note = li.querySelector(`#note-${id}`);
    const saved = draft.items[id];
    if (saved) {
      const radio = li.querySelector(`input[type=radio][value="${saved.result}"]`);
      if (radio) radio.checked = true;
      note.value = saved.note || "";
    }
    showThumbs(li);
    showProblem(li);
    li.addEventListener("change", async (change) => {
      const input = change.target;
      if (input.type !== "file" || !input.files.length) return;
      const files = [...input.files];
      input.value = "";
      for (const file of files) {
        if (itemPhotos(draft, id).length >= MAX_ITEM_PHOTOS) {
          showError(form, t("js.err_item_photos"));
          break;
        }
        const job = preparePhoto(file);
        preparing.add(job);
        try {
          const photo = await job;
          if (!itemPhotos(draft, id).some((p) => p.sha === photo.sha)) draft.photos[id] = [...itemPhotos(draft, id), photo];
          showThumbs(li);
        } catch {
          showError(form, t("js.err_photo", { name: file.name }));
        } finally {
          preparing.delete(job);
        }
      }
      await saveDraft();
    });
    // "input" fires on every keystroke and tick, so a draft never lags what is on the screen.
    li.addEventListener("input", async (event) => {
      if (event.target.type === "file") return;
      const checked = li.querySelector("input[type=radio]:checked");
      draft.items[id] = { result: checked ? checked.value : null, note: note.value };
      showProblem(li);
      await saveDraft();
    });
  }
  if (draft.who) form.who.value = draft.who;
  form.who.addEventListener("input", saveDraft);
  // Shown only once the draft is back in place, so nothing typed can be overwritten by it.
  for (const set of form.querySelectorAll("fieldset.run")) { set.hidden = false; set.disabled = false; }

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    await Promise.allSettled(preparing);
    const unanswered = items.find((li) => !draft.items[li.dataset.item]?.result);
    if (unanswered) {
      const first = unanswered.querySelector("input[type=radio]");
      first.focus();
      return showError(form, t("js.err_required", { field: unanswered.querySelector("h2").textContent }), first);
    }
    const unexplained = items.find((li) => draft.items[li.dataset.item].result === "problem"
      && !(draft.items[li.dataset.item].note || "").trim());
    if (unexplained) {
      const note = unexplained.querySelector("input[id^=note-]");
      note.focus();
      return showError(form, t("js.err_problem_note", { field: unexplained.querySelector("h2").textContent }), note);
    }
    const missing = missingField(form);
    if (missing) return showError(form, missing.message, missing.field);
    const photos = items.flatMap((li) => itemPhotos(draft, li.dataset.item));
    if (new Set(photos.map((p) => p.sha)).size > MAX_RUN_PHOTOS) return showError(form, t("js.err_run_photos"));
    showError(form, "");
    try {
      await record("checklist.completed", {
        checklist,
        period,
        signed_by: form.who.value.trim(),
        items: items.map((li) => {
          const id = li.dataset.item;
          const item = { item: id, result: draft.items[id].result, note: (draft.items[id].note || "").trim() };
          // One photo fits format 1 (item.photo), which every server takes; several need format 2
          // (item.photos), which a server not yet upgraded holds back (outbox.js formatOf).
          const shas = itemPhotos(draft, id).map((photo) => photo.sha);
          if (shas.length === 1) item.photo = shas[0];
          else if (shas.length) item.photos = shas;
          return item;
        }),
      }, form.who.value, photos);
      await remove("drafts", draftId);
      form.hidden = true;
      document.getElementById("run-done").hidden = false;
      await showDue();
    } catch (error) {
      showError(form, errorMessage(error));
    }
  });
}

// A period done already, on this phone or another of the shop: say by whom, and ask first.
function askBeforeAnotherRun(form, due) {
  const ask = document.getElementById("run-again");
  if (due.status !== "done" || ask.dataset.answered) return;
  ask.querySelector("[data-done-by]").textContent = t("js.done_by_again", {
    who: due.run.signed_by, when: formatWhen(due.run.completed_at),
  });
  ask.hidden = false;
  form.hidden = true;
  ask.querySelector("[data-run-again]").addEventListener("click", () => {
    ask.dataset.answered = "1";
    ask.hidden = true;
    form.hidden = false;
    form.querySelector("input[type=radio]")?.focus();
  }, { once: true });
}

const due = await showDue();
// Pull brings the runs of the shop's other phones: what is done may change while the page is open.
window.addEventListener("posaid:sync", (event) => { if (event.detail.state === "done") showDue(); });
const form = document.getElementById("run-form");
if (form) {
  const checklist = document.querySelector(".checklist-entry").dataset.checklist;
  askBeforeAnotherRun(form, due[checklist]);
  await runForm(form, checklist, due[checklist].period);
}
