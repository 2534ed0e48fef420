// Enrollment: a one-time code (scanned with the camera, in the URL of a scanned QR code, or typed)
// gives this phone its token for the shop; then the first sync runs at once, and the page says
// what happens next instead of keeping the used form.
import { getMeta } from "/static/js/db.js";
import { onValidSubmit, reveal, showError } from "/static/js/forms.js";
import { t } from "/static/js/i18n.js";
import { enroll, syncNow } from "/static/js/sync.js";

const form = document.getElementById("enroll-form");
const done = document.getElementById("enrolled");
const params = new URL(window.location.href).searchParams;

async function showEnrolled() {
  const shop = await getMeta("shop");
  if (!shop || !(await getMeta("token")) || (await getMeta("authError"))) return false;
  const title = done.querySelector("[data-template]");
  title.textContent = title.dataset.template.replace("{shop}", shop.name);
  done.hidden = false;
  form.hidden = true;
  return true;
}

/** What the phone is, as a person names it: the model where the browser says, else the platform. */
async function model() {
  const data = navigator.userAgentData;
  if (data?.getHighEntropyValues) {
    const { model: name, platform } = await data.getHighEntropyValues(["model"]).catch(() => ({}));
    if (name) return name;
    if (platform || data.platform) return platform || data.platform;
  }
  const ua = navigator.userAgent;
  const android = ua.match(/Android [\d.]+; ([^;)]+?)(?: Build|\))/);
  if (android && android[1] !== "K") return android[1].trim();
  return ua.match(/iPhone|iPad|Android|Windows|Mac OS X|Linux/)?.[0].replace("Mac OS X", "Mac") || t("js.phone");
}

/** "Model · shop": the shop named by the enrollment link or known from before, when there is one. */
async function defaultName(shop) {
  return [await model(), shop || (await getMeta("shop"))?.name].filter(Boolean).join(" · ").slice(0, 80);
}

/** The code and the shop's name (when the link carries it) from what the camera read. */
function fromScan(text) {
  try {
    const url = new URL(text);
    return { code: url.searchParams.get("code"), shop: url.searchParams.get("shop") };
  } catch {
    return { code: /^[A-Za-z0-9-]{6,64}$/.test(text.trim()) ? text.trim() : null, shop: null };
  }
}

// The camera's frames go to BarcodeDetector where the browser has it, else to jsQR (vendored,
// loaded only now: never precached, as enrolling needs the network anyway).
async function decoder() {
  if ("BarcodeDetector" in window) {
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    return async (video) => (await detector.detect(video))[0]?.rawValue ?? null;
  }
  await import("/static/vendor/jsqr/jsQR.js");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return async (video) => {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    if (!canvas.width) return null;
    context.drawImage(video, 0, 0);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    return window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" })?.data ?? null;
  };
}

async function scan() {
  const box = form.querySelector("[data-scan]");
  const video = box.querySelector("[data-scan-video]");
  const status = box.querySelector("[data-scan-status]");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch {
    status.textContent = t("js.scan_no_camera");
    return;
  }
  status.textContent = t("js.scan_looking");
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const read = await decoder();
  const stop = () => { stream.getTracks().forEach((track) => track.stop()); video.hidden = true; };
  for (const started = Date.now(); Date.now() - started < 60_000;) {
    const text = await read(video).catch(() => null);
    const { code, shop } = text ? fromScan(text) : {};
    if (code) {
      stop();
      form.code.value = code;
      if (form.name.value === suggested) form.name.value = suggested = await defaultName(shop);
      status.textContent = t("js.scan_found");
      form.querySelector("button[type=submit]").focus();
      return;
    }
    if (text) status.textContent = t("js.scan_not_code");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  stop();
}

// The server's refusal in the page's language: a bad code, too many tries, or its status.
function refusal(error) {
  if (error.kind === "network") return t("js.enroll_offline");
  if ([400, 403, 404, 409, 410].includes(error.status)) return t("js.enroll_bad_code");
  if (error.status === 429) return t("js.enroll_too_many");
  return t("js.enroll_refused", { status: error.status || "?" });
}

reveal();
form.code.value = params.get("code") || "";
let suggested = await defaultName(params.get("shop")); // replaced by a scan unless the user typed a name
form.name.value = suggested;
if (navigator.mediaDevices?.getUserMedia) {
  const box = form.querySelector("[data-scan]");
  box.hidden = false;
  box.querySelector("[data-scan-start]").addEventListener("click", scan);
}
// A phone enrolled already shows so, unless it came with a new code to use.
if (params.get("code") || !(await showEnrolled())) form.hidden = false;
done.querySelector("[data-enroll-again]").addEventListener("click", () => {
  done.hidden = true;
  form.hidden = false;
  form.code.focus();
});
onValidSubmit(form, async () => {
  try {
    await enroll(form.code.value, form.name.value);
  } catch (error) {
    return showError(form, refusal(error));
  }
  // The code is used up: drop it from the address bar so a reload does not try it again.
  history.replaceState(null, "", window.location.pathname);
  await showEnrolled();
  done.querySelector("[data-template]").focus?.();
  await syncNow();
});
