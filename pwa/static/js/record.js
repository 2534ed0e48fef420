// The record page: an incident opened with its code, terminal, time, who, photos and a note;
// then on into the code's flow (when it came from one) or to the incident page.
import { fillChoices, onValidSubmit, photosField, reveal } from "/static/js/forms.js";
import { lang, localInputValue } from "/static/js/i18n.js";
import { record } from "/static/js/outbox.js";

const params = new URL(window.location.href).searchParams;
const form = document.getElementById("incident-form");
form.hidden = false;
reveal();
form.code.value = params.get("code") || "";
form.when.value = localInputValue();
await fillChoices();
const photos = photosField();
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
