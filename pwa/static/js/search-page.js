// The search page: reads ?q=, searches the offline index as the user types, lists the results.
import { lang } from "/static/js/i18n.js";
import { loadIndex, search } from "/static/js/search.js";

const form = document.getElementById("search-form");
const input = document.getElementById("q");
const results = document.getElementById("results");
const summary = document.getElementById("results-summary");
const all = document.getElementById("all-guides");
const noResults = document.getElementById("no-results");

function render(index) {
  const query = input.value;
  const found = search(index, query);
  results.replaceChildren(...found.slice(0, 20).map((entry) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = entry.url;
    const strong = document.createElement("strong");
    strong.textContent = entry.title;
    const span = document.createElement("span");
    span.textContent = entry.summary;
    a.append(strong, span);
    li.append(a);
    return li;
  }));
  const hasQuery = query.trim() !== "";
  summary.textContent = !hasQuery ? "" : found.length
    ? summary.dataset.found.replace("{count}", found.length)
    : summary.dataset.none;
  // Nothing found: the T2 guide and every code, rather than an empty page.
  noResults.hidden = !hasQuery || found.length > 0;
  all.hidden = hasQuery && found.length > 0;
  const url = new URL(window.location.href);
  if (hasQuery) url.searchParams.set("q", query); else url.searchParams.delete("q");
  history.replaceState(null, "", url);
}

const index = await loadIndex(lang);
input.value = new URL(window.location.href).searchParams.get("q") || "";
form.addEventListener("submit", (event) => { event.preventDefault(); render(index); });
input.addEventListener("input", () => render(index));
render(index);
