// The maintenance page: a terminal's maintenance logged by kind (each kind with its own fields),
// with photos and a note; then back to the records.
import { fillChoices, onValidSubmit, photosField, reveal } from "/static/js/forms.js";
import { lang, localInputValue } from "/static/js/i18n.js";
import { record } from "/static/js/outbox.js";

const params = new URL(window.location.href).searchParams;
const form = document.getElementById("maintenance-form");

// Only the chosen kind's fields show, and only they are sent.
function showKind() {
  for (const set of form.querySelectorAll(".kind-fields")) {
    const on = set.dataset.kind === form.kind.value;
    set.hidden = !on;
    set.disabled = !on;
  }
}

function kindFields() {
  const fields = {};
  for (const input of form.querySelectorAll(`.kind-fields[data-kind="${form.kind.value}"] input`)) {
    if (input.value.trim()) fields[input.name] = input.value.trim();
  }
  return fields;
}

form.hidden = false;
reveal();
form.when.value = localInputValue();
if (params.get("kind")) form.kind.value = params.get("kind");
form.kind.addEventListener("change", showKind);
showKind();
await fillChoices();
const photos = photosField();
onValidSubmit(form, async () => {
  await record("maintenance.logged", {
    terminal: form.terminal.value.trim(),
    kind: form.kind.value,
    done_at: new Date(form.when.value).toISOString(),
    fields: kindFields(),
    note: form.note.value.trim(),
  }, form.who.value, await photos());
  window.location.href = `/${lang}/records`;
});
