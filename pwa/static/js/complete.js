// Completing an incident walked from a flow: the terminal (one tap on the shop's list), who
// recorded it (one tap on the staff list, or typed), a photo, a note, and what the slip says of
// the transaction if the cashier has it; then every event of it goes into the outbox (outbox.js
// completeIncident). Shown at the end of a flow and on the incident page while the incident is a
// draft. The same form tells a saved incident's transaction later (only that part of it shows).
import { completeIncident, discardDraft, recordTransaction } from "/static/js/outbox.js";
import { fillChoices, onValidSubmit, photosField, showError } from "/static/js/forms.js";
import { lang } from "/static/js/i18n.js";
import { transactionField } from "/static/js/transaction.js";

// The transaction's fields are checked before anything is stored: a wrong one is named, and
// nothing is saved until it is right or left empty.
async function readTransaction(form, read) {
  const { transaction, photos, error } = await read();
  if (error) {
    showError(form, error.message, error.field);
    return null;
  }
  return { transaction, photos };
}

/** Wire the form for the incident id; onChange(terminal, who) as they are chosen, onSaved() after. */
export async function wireCompletion(form, id, { onChange, onSaved }) {
  const saved = document.getElementById("incident-saved");
  form.hidden = false;
  saved.hidden = true;
  if (form.dataset.wired === id) return;
  form.dataset.wired = id;
  await fillChoices();
  const photos = photosField();
  const transaction = transactionField(form.querySelector("#tx"));
  const changed = () => onChange(form.terminal.value.trim(), form.who.value.trim());
  form.terminal.addEventListener("input", changed);
  form.who.addEventListener("input", changed);
  changed();
  onValidSubmit(form, async () => {
    const told = await readTransaction(form, transaction);
    if (!told) return;
    await completeIncident(id, {
      terminal: form.terminal.value, who: form.who.value, note: form.note.value,
      photos: [...await photos(), ...told.photos], transaction: told.transaction,
    });
    form.hidden = true;
    saved.hidden = false;
    await onSaved();
  });
  form.querySelector("[data-discard]").addEventListener("click", async () => {
    await discardDraft(id);
    window.location.href = `/${lang}`;
  });
}

/** Wire the form to tell the transaction of a saved incident (an incident.transaction event). */
export function wireTransaction(form, state, { onSaved }) {
  for (const part of form.querySelectorAll("[data-draft-only]")) part.hidden = true;
  for (const [selector, attribute] of [["h2", "later"], ["[type=submit]", "later"]]) {
    const element = form.querySelector(selector);
    element.textContent = element.dataset[attribute];
  }
  for (const input of form.querySelectorAll("[data-draft-only] [required]")) input.required = false;
  form.hidden = false;
  const transaction = transactionField(form.querySelector("#tx"));
  onValidSubmit(form, async () => {
    const told = await readTransaction(form, transaction);
    if (!told || !told.transaction) return;
    await recordTransaction(state.opened.id, told.transaction, state.opened.recorded_by, told.photos);
    form.hidden = true;
    document.getElementById("incident-saved").hidden = false;
    await onSaved();
  });
}
