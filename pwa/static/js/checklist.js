// Prevention checklists: what is due and overdue from each schedule and the runs on this phone,
// and a run recorded item by item, kept as a draft until it is signed off.
import { preparePhoto } from "/static/js/camera.js";
import { get, put, remove } from "/static/js/db.js";
import { errorMessage, fillChoices, missingField, showError } from "/static/js/forms.js";
import { lang, t } from "/static/js/i18n.js";
import { eventsOfType, record } from "/static/js/outbox.js";

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

/** "done", "due" (today), "overdue" or "upcoming" for this period, with the due date. */
export function dueStatus(schedule, runs, today = new Date()) {
  const start = periodStart(schedule.frequency, today);
  const due = dueDate(schedule, start);
  const day = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  const period = isoDate(start);
  if (runs.some((run) => run.payload.checklist === schedule.checklist && run.payload.period === period)) {
    return { status: "done", due, period };
  }
  if (day > due) return { status: "overdue", due, period };
  if (day.getTime() === due.getTime()) return { status: "due", due, period };
  return { status: "upcoming", due, period };
}

function dueText({ status, due }) {
  const date = due.toLocaleDateString(lang === "zh" ? "zh-CN" : "en-GB", { dateStyle: "medium" });
  return t({ done: "js.due_done", due: "js.due_today", overdue: "js.due_overdue", upcoming: "js.due_upcoming" }[status], { date });
}

async function showDue() {
  const runs = await eventsOfType("checklist.completed");
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

async function runForm(checklist, period) {
  const form = document.getElementById("run-form");
  if (!form) return;
  const draftId = `checklist:${checklist}:${period}`;
  const draft = (await get("drafts", draftId)) || { id: draftId, items: {}, photos: {} };
  await fillChoices();
  const items = [...form.querySelectorAll("li[data-item]")];
  const preparing = new Set(); // photos still being shrunk: submitting waits for them

  const showProblemLinks = (li) => {
    const result = draft.items[li.dataset.item]?.result;
    li.querySelector(".problem-links").hidden = result !== "problem";
  };
  const addThumb = (li, photo) => {
    const img = Object.assign(document.createElement("img"), { src: URL.createObjectURL(photo.blob), className: "thumb", alt: "" });
    li.querySelector("[data-thumbs]").replaceChildren(img);
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
    const saved = draft.items[id];
    if (saved) {
      const radio = li.querySelector(`input[type=radio][value="${saved.result}"]`);
      if (radio) radio.checked = true;
      li.querySelector(`#note-${id}`).value = saved.note || "";
    }
    if (draft.photos[id]) addThumb(li, draft.photos[id]);
    showProblemLinks(li);
    li.addEventListener("change", async (change) => {
      const input = change.target;
      if (input.type !== "file" || !input.files.length) return;
      const file = input.files[0];
      input.value = "";
      const job = preparePhoto(file);
      preparing.add(job);
      try {
        draft.photos[id] = await job;
        addThumb(li, draft.photos[id]);
      } catch (error) {
        showError(form, t("js.err_photo", { name: file.name }));
      } finally {
        preparing.delete(job);
      }
      await saveDraft();
    });
    // "input" fires on every keystroke and tick, so a draft never lags what is on the screen.
    li.addEventListener("input", async (event) => {
      if (event.target.type === "file") return;
      const checked = li.querySelector("input[type=radio]:checked");
      draft.items[id] = { result: checked ? checked.value : null, note: li.querySelector(`#note-${id}`).value };
      showProblemLinks(li);
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
      unanswered.querySelector("input[type=radio]").focus();
      return showError(form, t("js.err_required", { field: unanswered.querySelector("h2").textContent }));
    }
    const missing = missingField(form);
    if (missing) return showError(form, missing);
    showError(form, "");
    const photos = Object.values(draft.photos);
    try {
      await record("checklist.completed", {
        checklist,
        period,
        signed_by: form.who.value.trim(),
        items: items.map((li) => {
          const id = li.dataset.item;
          const item = { item: id, result: draft.items[id].result, note: (draft.items[id].note || "").trim() };
          if (draft.photos[id]) item.photo = draft.photos[id].sha;
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

const due = await showDue();
const form = document.getElementById("run-form");
if (form) {
  const checklist = document.querySelector(".checklist-entry").dataset.checklist;
  await runForm(checklist, due[checklist].period);
}
