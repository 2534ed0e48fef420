// Enrollment: a one-time code (typed, or in the URL of a scanned QR code) gives this phone its
// token for the shop; then the first sync runs at once.
import { getMeta } from "/static/js/db.js";
import { onValidSubmit, reveal, showError } from "/static/js/forms.js";
import { t } from "/static/js/i18n.js";
import { enroll, syncNow } from "/static/js/sync.js";

const form = document.getElementById("enroll-form");
const done = document.getElementById("enrolled");

async function showEnrolled() {
  const shop = await getMeta("shop");
  if (!shop || !(await getMeta("token"))) return;
  done.textContent = done.dataset.template.replace("{shop}", shop.name);
  done.hidden = false;
}

form.hidden = false;
reveal();
form.code.value = new URL(window.location.href).searchParams.get("code") || "";
form.name.value = navigator.userAgentData?.platform || "";
await showEnrolled();
onValidSubmit(form, async () => {
  try {
    await enroll(form.code.value, form.name.value);
  } catch (error) {
    return showError(form, error.kind === "network" ? t("js.enroll_offline") : t("js.enroll_refused", { reason: error.message }));
  }
  await showEnrolled();
  // The code is used up: drop it from the address bar so a reload does not try it again.
  history.replaceState(null, "", window.location.pathname);
  await syncNow();
});
