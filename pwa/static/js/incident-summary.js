// The incident summary card (templates/_incident_summary.html), filled from an incident's state:
// on the incident page, and on a flow's support cards to be read out on the phone.
import { get, getMeta } from "/static/js/db.js";
import { formatWhen, t } from "/static/js/i18n.js";

async function thumbnails(shas) {
  const images = [];
  for (const sha of shas) {
    const blob = await get("blobs", sha);
    if (!blob) continue;
    const img = document.createElement("img");
    img.src = URL.createObjectURL(blob.blob);
    img.alt = `${t("js.photos", { count: 1 })} ${sha.slice(0, 8)}`;
    img.className = "thumb";
    images.push(img);
  }
  return images;
}

/** Fill the summary card under root with the incident's state (see incidents.js). */
export async function renderSummary(root, state) {
  const shop = await getMeta("shop");
  const facts = {
    code: state.opened.payload.code,
    terminal: state.opened.payload.terminal,
    shop: shop ? shop.name : "—",
    when: formatWhen(state.opened.payload.occurred_at),
    who: state.opened.recorded_by,
    status: t(`js.status_${state.status}`),
    note: state.opened.payload.note || "—",
  };
  for (const [name, value] of Object.entries(facts)) root.querySelector(`[data-fact="${name}"]`).textContent = value;
  root.querySelector('[data-fact="steps"]').replaceChildren(...state.steps.map((step) => {
    const li = document.createElement("li");
    li.textContent = `${step.payload.step}: ${t(`js.answer_${step.payload.answer}`)}`;
    return li;
  }));
  root.querySelector('[data-fact="photos"]').replaceChildren(...await thumbnails(state.blobs));
}
