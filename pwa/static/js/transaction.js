// The transaction on an incident (format 2): read from its folded form section, each field checked
// for what it is (the inputs' patterns, said in words), and read out in order on the support card.
import { preparePhoto } from "/static/js/camera.js";
import { t } from "/static/js/i18n.js";

const FIELDS = ["amount", "kind", "entry", "rrn", "trace", "batch", "auth_code", "charged", "card_last4"];

/** Wire the slip photo of the section; returns a function resolving to {transaction, photos, error}:
 * the filled fields (null when none), the slip photo to store, or the first field that is wrong. */
export function transactionField(section) {
  const slip = section.querySelector("#tx-slip");
  let photo = null;
  let preparing = null;
  slip.addEventListener("change", () => {
    const file = slip.files[0];
    if (!file) return;
    preparing = preparePhoto(file).then((prepared) => {
      photo = prepared;
      const img = Object.assign(document.createElement("img"), { src: URL.createObjectURL(prepared.blob), className: "thumb", alt: "" });
      section.querySelector("#tx-slip-preview").replaceChildren(img);
    }, () => { photo = null; });
  });
  return async () => {
    await preparing;
    const transaction = {};
    for (const name of FIELDS) {
      const input = section.querySelector(`[name="${name}"]`);
      const value = input.value.trim();
      if (!value) continue;
      if (!input.checkValidity()) {
        section.open = true;
        input.focus();
        const label = section.querySelector(`label[for="${input.id}"]`).textContent;
        return { error: { message: t("js.err_rule", { field: label, rule: input.dataset.rule }), field: input } };
      }
      transaction[name] = value;
    }
    if (photo) transaction.slip_photo = photo.sha;
    return { transaction: Object.keys(transaction).length ? transaction : null, photos: photo ? [photo] : [] };
  };
}

/** The transaction as lines to read out, in the order the acquirer asks for them. */
export function readOut(transaction) {
  if (!transaction) return [];
  const lines = [];
  if (transaction.amount) lines.push(t("js.tx_amount", { amount: transaction.amount, currency: transaction.currency || "CNY" }));
  for (const name of ["kind", "entry"]) if (transaction[name]) lines.push(t(`js.tx_${name}_${transaction[name]}`));
  for (const name of ["rrn", "trace", "batch", "auth_code", "card_last4"]) {
    if (transaction[name]) lines.push(t(`js.tx_${name}`, { value: transaction[name] }));
  }
  if (transaction.charged) lines.push(t(`js.tx_charged_${transaction.charged}`));
  return lines;
}
