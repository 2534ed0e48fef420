// Card numbers never reach storage. The same rule as the server's sync/pan.py: in a run of
// digits (single spaces or dashes may separate groups), the longest span of whole groups holding
// 13-19 digits that passes the Luhn check, leftmost first, keeps its first 6 and last 4 digits;
// every other digit becomes "*" and separators stay where they were. Full-width digits, as a
// Chinese input method types them, count too.

const D = "[0-9\\uFF10-\\uFF19]";
const RUN = new RegExp(`(?<!${D})${D}+(?:[ -]${D}+)*(?!${D})`, "g");
const GROUP = new RegExp(`${D}+`, "g");
const IS_DIGIT = new RegExp(`^${D}$`);

function value(ch) {
  const code = ch.charCodeAt(0);
  return code >= 0xff10 ? code - 0xff10 : code - 48;
}

export function luhn(digits) {
  let sum = 0;
  const chars = [...digits];
  for (let i = 0; i < chars.length; i++) {
    let d = value(chars[chars.length - 1 - i]);
    if (i % 2 === 1) d = d > 4 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

function longestCard(run, groups, first) {
  let digits = "";
  const ends = [];
  for (let j = first; j < groups.length; j++) {
    digits += run.slice(groups[j][0], groups[j][1]);
    if (digits.length > 19) break;
    ends.push([j, digits]);
  }
  for (let k = ends.length - 1; k >= 0; k--) {
    const [j, candidate] = ends[k];
    if (candidate.length >= 13 && luhn(candidate)) return j;
  }
  return null;
}

function maskRun(run) {
  const groups = [...run.matchAll(GROUP)].map((m) => [m.index, m.index + m[0].length]);
  const chars = [...run];
  let i = 0;
  while (i < groups.length) {
    const last = longestCard(run, groups, i);
    if (last === null) { i += 1; continue; }
    const positions = [];
    for (let k = groups[i][0]; k < groups[last][1]; k++) if (IS_DIGIT.test(chars[k])) positions.push(k);
    for (const k of positions.slice(6, positions.length - 4)) chars[k] = "*";
    i = last + 1;
  }
  return chars.join("");
}

/** text with every card number in it masked to its first 6 and last 4 digits. */
export function maskPans(text) {
  return text.length < 13 ? text : text.replace(RUN, maskRun);
}
