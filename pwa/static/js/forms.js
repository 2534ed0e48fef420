// What every recording form shares: required fields named in the error (which goes once the field
// is filled), the shop's terminals and staff offered as one-tap choices (free text stays
// possible; nobody's name is filled in for them), photos picked and shrunk, and storage errors
// shown rather than swallowed.
import { photoPicker } from "/static/js/camera.js";
import { getAll, getMeta } from "/static/js/db.js";
import { t } from "/static/js/i18n.js";

export function showError(form, message, field = null) {
  const box = form.querySelector("#form-error") || document.getElementById("form-error");
  box.textContent = message;
  box.hidden = !message;
  box.dataset.field = field ? field.id : "";
  if (field) clearWhenFilled(form);
  if (message && !field) box.focus?.();
}

// A message about one field goes away as soon as that field is filled.
function clearWhenFilled(form) {
  if (form.dataset.clears) return;
  form.dataset.clears = "1";
  const clear = (event) => {
    const box = form.querySelector("#form-error") || document.getElementById("form-error");
    const field = box.dataset.field && document.getElementById(box.dataset.field);
    if (!field || box.hidden) return;
    if (event.target === field || field.contains?.(event.target)) {
      if (field.type === "radio" ? field.form.querySelector(`[name="${field.name}"]:checked`) : field.value.trim()) {
        showError(form, "");
      }
    }
  };
  form.addEventListener("input", clear);
  form.addEventListener("change", clear);
}

/** The first empty required field's label as an error message, or "" when all are filled. */
export function missingField(form) {
  for (const input of form.querySelectorAll("[required]")) {
    if (input.matches(":disabled") || input.type === "radio") continue;  // :disabled covers a disabled fieldset
    if (!input.value.trim() || !input.checkValidity()) {
      input.focus();
      const label = form.querySelector(`label[for="${input.id}"]`);
      return { message: t("js.err_required", { field: label ? label.textContent.replace(/\s*\*$/, "") : input.name }), field: input };
    }
  }
  return null;
}

export function errorMessage(error) {
  if (error.kind === "quota") return t("js.err_quota");
  if (error.kind === "undecodable") return error.message;
  return t("js.err_storage", { message: error.message });
}

function chip(text, input, group) {
  const button = Object.assign(document.createElement("button"), { type: "button", className: "chip", textContent: text });
  button.setAttribute("aria-pressed", String(input.value === text));
  button.addEventListener("click", () => {
    input.value = text;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  group.append(button);
}

// The chips show which one the field holds, typed or tapped.
function wireChips(kind, values) {
  const group = document.querySelector(`[data-choices="${kind}"]`);
  if (!group) return;
  const input = group.parentElement.querySelector("input");
  group.replaceChildren();
  for (const value of values) chip(value, input, group);
  group.hidden = !values.length;
  const mark = () => {
    for (const button of group.children) button.setAttribute("aria-pressed", String(button.textContent === input.value.trim()));
  };
  input.addEventListener("input", mark);
  mark();
}

/** Offer the shop's terminals and staff (once enrolled, else those of past records) as choices. */
export async function fillChoices() {
  const shop = await getMeta("shop");
  const terminals = new Set((shop?.terminals || []).map((x) => x.name));
  const staff = new Set(shop?.staff || []);
  if (!terminals.size || !staff.size) {
    for (const event of await getAll("events")) {
      if (!shop?.terminals?.length && event.payload.terminal) terminals.add(event.payload.terminal);
      if (!shop?.staff?.length && event.recorded_by) staff.add(event.recorded_by);
    }
  }
  wireChips("terminal", [...terminals]);
  wireChips("staff", [...staff]);
  const terminal = document.getElementById("f-terminal");
  if (terminal && !terminal.value && shop?.terminals?.length === 1) {
    terminal.value = shop.terminals[0].name;
    terminal.dispatchEvent(new Event("input", { bubbles: true }));
  }
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
    if (missing) return showError(form, missing.message, missing.field);
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
