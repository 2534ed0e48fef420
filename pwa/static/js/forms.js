// What every recording form shares: required fields named in the error, the shop's terminals
// and staff offered as choices, photos picked and shrunk, and storage errors shown rather than
// swallowed.
import { photoPicker } from "/static/js/camera.js";
import { getAll, getMeta } from "/static/js/db.js";
import { t } from "/static/js/i18n.js";

export function showError(form, message) {
  const box = form.querySelector("#form-error") || document.getElementById("form-error");
  box.textContent = message;
  box.hidden = !message;
  if (message) box.focus?.();
}

/** The first empty required field's label as an error message, or "" when all are filled. */
export function missingField(form) {
  for (const input of form.querySelectorAll("[required]")) {
    if (input.matches(":disabled") || input.type === "radio") continue;  // :disabled covers a disabled fieldset
    if (!input.value.trim() || !input.checkValidity()) {
      input.focus();
      const label = form.querySelector(`label[for="${input.id}"]`);
      return t("js.err_required", { field: label ? label.textContent.replace(/\s*\*$/, "") : input.name });
    }
  }
  return "";
}

export function errorMessage(error) {
  if (error.kind === "quota") return t("js.err_quota");
  if (error.kind === "undecodable") return error.message;
  return t("js.err_storage", { message: error.message });
}

/** Fill the terminal and staff choices from the shop (once enrolled) and from past records. */
export async function fillChoices() {
  const shop = await getMeta("shop");
  const events = await getAll("events");
  const terminals = new Set((shop?.terminals || []).map((x) => x.name));
  const staff = new Set(shop?.staff || []);
  for (const event of events) {
    if (event.payload.terminal) terminals.add(event.payload.terminal);
    staff.add(event.recorded_by);
  }
  const fill = (id, values) => {
    const list = document.getElementById(id);
    if (list) list.replaceChildren(...[...values].map((v) => Object.assign(document.createElement("option"), { value: v })));
  };
  fill("terminals", terminals);
  fill("staff", staff);
  const who = document.getElementById("f-who");
  if (who && !who.value) who.value = (await getMeta("me")) || "";
  const terminal = document.getElementById("f-terminal");
  if (terminal && !terminal.value && shop?.terminals?.length === 1) terminal.value = shop.terminals[0].name;
}

/** Wire the form's photos field, if any; returns a function resolving to the photos picked. */
export function photosField() {
  const input = document.getElementById("f-photos");
  if (!input) return async () => [];
  return photoPicker(input, document.getElementById("f-photos-preview"), (error) => {
    showError(input.form, t("js.err_photo", { name: error.message.replace(/^cannot decode /, "") }));
  });
}

/** Call handler on submit once every required field is filled; show its error if it throws. */
export function onValidSubmit(form, handler) {
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const missing = missingField(form);
    if (missing) return showError(form, missing);
    showError(form, "");
    try {
      await handler();
    } catch (error) {
      showError(form, errorMessage(error));
    }
  });
}

/** Hide the "needs JavaScript" notes: this page's script is running. */
export function reveal() {
  for (const el of document.querySelectorAll("[data-js-hide]")) el.hidden = true;
}
