// The incident summary card (templates/_incident_summary.html), filled from an incident's state:
// on the incident page, and on a flow's support cards to be read out on the phone. Everything in
// it is in words: step titles from the content, the shop's support lines and the chosen
// terminal's ids from the shop register (pull), or a line saying what head office should add.
import { get, getMeta } from "/static/js/db.js";
import { formatWhen, lang, stepName, t, tn } from "/static/js/i18n.js";
import { codeTitle } from "/static/js/search.js";
import { readOut } from "/static/js/transaction.js";

async function thumbnails(shas) {
  const images = [];
  for (const sha of shas) {
    const blob = await get("blobs", sha);
    if (!blob) continue;
    const img = document.createElement("img");
    img.src = URL.createObjectURL(blob.blob);
    img.alt = tn("js.photos", 1);
    img.className = "thumb";
    images.push(img);
  }
  return images;
}

// Said beside the field's own name (the label says what is missing).
const missing = () => Object.assign(document.createElement("span"), { className: "missing", textContent: t("js.missing_register") });

/** A phone number as a link that dials it. */
export function phoneLink(number) {
  const a = document.createElement("a");
  a.href = `tel:${number.replace(/[^0-9+]/g, "")}`;
  a.textContent = number;
  a.className = "tel";
  return a;
}

// The register's value, or what to ask head office for; a terminal's ids need a terminal first.
function registerFacts(shop, terminalName) {
  const terminal = shop?.terminals?.find((x) => x.name === terminalName);
  const fromTerminal = (field) => {
    if (!terminalName) return t("js.choose_terminal");
    if (!terminal) return t("js.not_in_register");
    return terminal[field] || missing();
  };
  return {
    acquirer_phone: !shop ? t("js.no_shop") : shop.acquirer_phone ? phoneLink(shop.acquirer_phone) : missing(),
    vendor_phone: !shop ? t("js.no_shop") : shop.vendor_phone ? phoneLink(shop.vendor_phone) : missing(),
    mid: fromTerminal("mid"),
    tid: fromTerminal("tid"),
    serial: fromTerminal("serial"),
  };
}

/** Fill the summary card under root with the incident's state (see incidents.js); terminal and
 * who, while the incident is a draft, are what the form beside it holds so far. */
export async function renderSummary(root, state, { terminal, who } = {}) {
  const shop = await getMeta("shop");
  const payload = state.opened.payload;
  const chosen = terminal ?? payload.terminal;
  const facts = {
    code: await codeTitle(lang, payload.code),
    terminal: chosen || t("js.not_given"),
    shop: shop ? shop.name : t("js.no_shop"),
    when: formatWhen(payload.occurred_at),
    who: (who ?? state.opened.recorded_by) || t("js.not_given"),
    status: t(`js.status_${state.draft ? "draft" : state.status}`),
    note: payload.note || "—",
    transaction: readOut(state.transaction).join(t("js.list_sep")) || t("js.not_given"),
    ...registerFacts(shop, chosen),
  };
  for (const [name, value] of Object.entries(facts)) root.querySelector(`[data-fact="${name}"]`)?.replaceChildren(value);
  root.querySelector('[data-fact="steps"]').replaceChildren(...state.steps.map((step) => {
    const li = document.createElement("li");
    li.textContent = t("js.step_answer", { step: stepName(step.payload.flow, step.payload.step), answer: t(`js.answer_${step.payload.answer}`) });
    return li;
  }));
  root.querySelector('[data-fact="photos"]').replaceChildren(...await thumbnails(state.blobs));
}

/** Put the incident page's summary card and completion form into root (a flow page's end): one
 * copy of their markup in the precache rather than one in every flow. The summary comes first: it
 * is what the cashier reads out on the phone. */
export async function summaryCard(root) {
  if (root.querySelector(".summary")) return;
  const html = await (await fetch(`/${lang}/incident`)).text();
  const page = new DOMParser().parseFromString(html, "text/html");
  root.append(...["section.summary", "#incident-complete", "#incident-saved"].map((s) => document.adoptNode(page.querySelector(s))));
}
