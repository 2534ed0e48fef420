// Offline search over the index the server builds from the content (precached with the pages).
// Pure (no DOM): Node runs it against tests/cases/search.json. Chinese is matched by substring,
// no pinyin. A query is normalised as the index's words were (content/load.py's normalise):
// "Ｔ２", "T-2" and "t 2" are the code "t2". The guide's own code wins, then its synonyms (words
// that mean this guide only), then its keywords, title and text.

const KIND_ORDER = { terminal: 0, fault: 1, host: 2, checklist: 3 };
// A lone letter, then spaces or dashes, then a digit.
const SPLIT_CODE = /(^|[^a-z])([a-z])[\s-]+(?=[0-9])/g;

/** Text as the search compares it: NFKC (full-width as ASCII), lower case, single spaces, "t-2" as "t2". */
export function normalise(text) {
  return text.normalize("NFKC").toLowerCase().split(/\s+/).filter(Boolean).join(" ").replace(SPLIT_CODE, "$1$2");
}

function fieldScore(value, term, base, startsBonus) {
  if (!value.includes(term)) return 0;
  // Of two matches, the one where the term covers more of the field is the closer one:
  // "密码" is closer to "密码错" than to "密码错误次数超限".
  const cover = term.length / value.length;
  return base + (value.startsWith(term) ? startsBonus : 0) + 10 * cover;
}

// Exact, then the term within the word, then the word within the term ("断网了" holds "断网").
function wordsScore(words, term, exact, within, holds) {
  let best = 0;
  for (const word of words) {
    if (word === term) return exact;
    best = Math.max(best, fieldScore(word, term, within, 5), word.length > 1 && term.includes(word) ? holds : 0);
  }
  return best;
}

function termScore(entry, term) {
  if (entry.code === term) return 100;
  let best = Math.max(wordsScore(entry.synonyms, term, 95, 45, 40), wordsScore(entry.keys, term, 90, 40, 35));
  if (entry.code && entry.code.startsWith(term)) best = Math.max(best, 60);
  best = Math.max(best, fieldScore(entry.title_n, term, 50, 5));
  return Math.max(best, fieldScore(entry.text, term, 20, 0));
}

/** Rank the prepared index entries that match every word of the query (or the whole query as
 * one phrase, "no signal"), best first. */
export function search(index, query) {
  const phrase = normalise(query);
  if (!phrase) return [];
  const terms = phrase.split(" ");
  const scored = [];
  index.forEach((entry, position) => {
    let total = 0;
    for (const term of terms) {
      const score = termScore(entry, term);
      if (score === 0) { total = 0; break; }
      total += score;
    }
    // A phrase the guide names as a whole counts as a match of each of its words.
    if (terms.length > 1) total = Math.max(total, termScore(entry, phrase) * terms.length);
    if (total > 0) scored.push({ entry, total, position });
  });
  scored.sort((a, b) => b.total - a.total
    || KIND_ORDER[a.entry.kind] - KIND_ORDER[b.entry.kind]
    || a.position - b.position);
  return scored.map((s) => s.entry);
}

/** The index as the server wrote it (empty lists left out), each title normalised for matching. */
export function prepare(entries) {
  return entries.map((entry) => ({ synonyms: [], keys: [], ...entry, title_n: normalise(entry.title) }));
}

export async function loadIndex(lang) {
  const response = await fetch(`/${lang}/search-index.json`);
  return prepare(await response.json());
}

/** A code's title ("51 余额不足") as the index has it, for read-outs; the code itself if unknown. */
export async function codeTitle(lang, code) {
  const wanted = normalise(code);
  return (await loadIndex(lang)).find((entry) => entry.code === wanted)?.title ?? code;
}
