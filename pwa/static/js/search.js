// Offline search over the index the server builds from the content (precached with the pages).
// Chinese is matched by substring, no pinyin; a code typed exactly ("t2", "51") wins.

const KIND_ORDER = { terminal: 0, fault: 1, host: 2, checklist: 3 };

function fieldScore(value, term, base, startsBonus) {
  if (!value.includes(term)) return 0;
  // Of two matches, the one where the term covers more of the field is the closer one:
  // "密码" is closer to "密码错" than to "密码错误次数超限".
  const cover = term.length / value.length;
  return base + (value.startsWith(term) ? startsBonus : 0) + 10 * cover;
}

function termScore(entry, term) {
  if (entry.code === term) return 100;
  let best = 0;
  for (const key of entry.keys) {
    if (key === term) best = Math.max(best, 80 + 10 * 1);
    else best = Math.max(best, fieldScore(key, term, 40, 5), key.length > 1 && term.includes(key) ? 35 : 0);
  }
  if (entry.code && entry.code.startsWith(term)) best = Math.max(best, 60);
  best = Math.max(best, fieldScore(entry.title_lc, term, 50, 5));
  best = Math.max(best, fieldScore(entry.text, term, 20, 0));
  return best;
}

/** Rank the index entries that match every word of the query, best first. */
export function search(index, query) {
  const terms = query.toLowerCase().trim().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return [];
  const scored = [];
  index.forEach((entry, position) => {
    let total = 0;
    for (const term of terms) {
      const score = termScore(entry, term);
      if (score === 0) return;
      total += score;
    }
    scored.push({ entry, total, position });
  });
  scored.sort((a, b) => b.total - a.total
    || KIND_ORDER[a.entry.kind] - KIND_ORDER[b.entry.kind]
    || a.position - b.position);
  return scored.map((s) => s.entry);
}

export async function loadIndex(lang) {
  const response = await fetch(`/${lang}/search-index.json`);
  // Titles are shown as written but matched lower-cased, like the query.
  return (await response.json()).map((entry) => ({ ...entry, title_lc: entry.title.toLowerCase() }));
}
