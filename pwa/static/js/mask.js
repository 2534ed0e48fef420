// Card numbers never reach storage: the phone masks free text before an event is written, and the
// server masks it again with the same rule (sync/pan.py, whose docstring states it), so both are
// driven by one case file, tests/cases/pan.json.

export const MIN_DIGITS = 13;
export const MAX_DIGITS = 19;
export const KEEP_FIRST = 6;
export const KEEP_LAST = 4;
const MAX_GAP = 3; // separators between two digits of one run: "4111 / 1111" is one number

// Every character with a Unicode digit value, as [first code point, last, value of the first]; the
// value counts up by one, modulo 10, through a range. JS has no unicodedata, so this table was
// generated from Python 3.11's (Unicode 14.0) by digit_ranges() in tests/pwa/test_mask.py, whose
// test compares it with unicodedata for every code point and prints the table anew if it drifts.
const DIGIT_RANGES = [
  [0x30, 0x39, 0], [0xb2, 0xb3, 2], [0xb9, 0xb9, 1], [0x660, 0x669, 0], [0x6f0, 0x6f9, 0],
  [0x7c0, 0x7c9, 0], [0x966, 0x96f, 0], [0x9e6, 0x9ef, 0], [0xa66, 0xa6f, 0], [0xae6, 0xaef, 0],
  [0xb66, 0xb6f, 0], [0xbe6, 0xbef, 0], [0xc66, 0xc6f, 0], [0xce6, 0xcef, 0], [0xd66, 0xd6f, 0],
  [0xde6, 0xdef, 0], [0xe50, 0xe59, 0], [0xed0, 0xed9, 0], [0xf20, 0xf29, 0], [0x1040, 0x1049, 0],
  [0x1090, 0x1099, 0], [0x1369, 0x1371, 1], [0x17e0, 0x17e9, 0], [0x1810, 0x1819, 0],
  [0x1946, 0x194f, 0], [0x19d0, 0x19d9, 0], [0x19da, 0x19da, 1], [0x1a80, 0x1a89, 0],
  [0x1a90, 0x1a99, 0], [0x1b50, 0x1b59, 0], [0x1bb0, 0x1bb9, 0], [0x1c40, 0x1c49, 0],
  [0x1c50, 0x1c59, 0], [0x2070, 0x2070, 0], [0x2074, 0x2079, 4], [0x2080, 0x2089, 0],
  [0x2460, 0x2468, 1], [0x2474, 0x247c, 1], [0x2488, 0x2490, 1], [0x24ea, 0x24ea, 0],
  [0x24f5, 0x24fd, 1], [0x24ff, 0x24ff, 0], [0x2776, 0x277e, 1], [0x2780, 0x2788, 1],
  [0x278a, 0x2792, 1], [0xa620, 0xa629, 0], [0xa8d0, 0xa8d9, 0], [0xa900, 0xa909, 0],
  [0xa9d0, 0xa9d9, 0], [0xa9f0, 0xa9f9, 0], [0xaa50, 0xaa59, 0], [0xabf0, 0xabf9, 0],
  [0xff10, 0xff19, 0], [0x104a0, 0x104a9, 0], [0x10a40, 0x10a43, 1], [0x10d30, 0x10d39, 0],
  [0x10e60, 0x10e68, 1], [0x11052, 0x1105a, 1], [0x11066, 0x1106f, 0], [0x110f0, 0x110f9, 0],
  [0x11136, 0x1113f, 0], [0x111d0, 0x111d9, 0], [0x112f0, 0x112f9, 0], [0x11450, 0x11459, 0],
  [0x114d0, 0x114d9, 0], [0x11650, 0x11659, 0], [0x116c0, 0x116c9, 0], [0x11730, 0x11739, 0],
  [0x118e0, 0x118e9, 0], [0x11950, 0x11959, 0], [0x11c50, 0x11c59, 0], [0x11d50, 0x11d59, 0],
  [0x11da0, 0x11da9, 0], [0x16a60, 0x16a69, 0], [0x16ac0, 0x16ac9, 0], [0x16b50, 0x16b59, 0],
  [0x1d7ce, 0x1d7ff, 0], [0x1e140, 0x1e149, 0], [0x1e2f0, 0x1e2f9, 0], [0x1e950, 0x1e959, 0],
  [0x1f100, 0x1f100, 0], [0x1f101, 0x1f10a, 0], [0x1fbf0, 0x1fbf9, 0],
];
const VALUES = new Map(DIGIT_RANGES.flatMap(([first, last, value]) =>
  Array.from({ length: last - first + 1 }, (_, k) => [String.fromCodePoint(first + k), (value + k) % 10])));

const codePoint = (cp) => `\\u{${cp.toString(16)}}`;
/** Regex class bodies (for the u flag) of the characters that count as digits and as separators. */
export const DIGITS = DIGIT_RANGES.map(([first, last]) => `${codePoint(first)}-${codePoint(last)}`).join("");
// Written out rather than \s, whose set follows the JS engine's Unicode version, not Python's.
export const SEPARATORS =
  "\t-\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000" + // Python's str.isspace()
  "\u200b-\u200d\u2060\ufeff\xad" + // zero-width
  "\\-\u058a\u05be\u1400\u1806\u2010-\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0" +
  "\ufe31\ufe32\ufe58\ufe63\uff0d\u{10ead}\u2212" + // dashes: category Pd, and the minus sign
  "./_,\u3002\uff0f\uff0c";

const GAP_DIGIT = `[${SEPARATORS}]{0,${MAX_GAP}}[${DIGITS}]`;
const RUN = `[${DIGITS}](?:${GAP_DIGIT})*`;
// The lookahead skips runs too short to hold a card number (dates, amounts) inside the regex
// engine: only a run can start there, as a later digit of the same run sees fewer digits ahead.
const LONG_RUN = new RegExp(`[${DIGITS}](?=(?:${GAP_DIGIT}){${MIN_DIGITS - 1}})(?:${GAP_DIGIT})*`, "gu");
const EDGE_RUN = new RegExp(`^[${SEPARATORS}]*(${RUN})`, "u");
const ENOUGH_DIGITS = new RegExp(`^(?:[^${DIGITS}]*[${DIGITS}]){${MIN_DIGITS}}`, "u");
const PAN = `[${DIGITS}]{${MIN_DIGITS},${MAX_DIGITS}}`;
const TRACK = new RegExp(
  `;?${PAN}[=D][${DIGITS}]{4,}\\??` + // track 2: expiry, service code, discretionary data
  `|%?B${PAN}\\^[^^]{0,26}\\^[${DIGITS}]{4,}\\??`, // track 1: a name of 26 chars at most (ISO 7813)
  "gu",
);
const DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]; // a doubled digit's Luhn contribution

/** The value of a digit character (one code point) in any script; undefined for other characters. */
export function digitValue(ch) {
  return VALUES.get(ch);
}

/** True when the digits, in any script, pass the Luhn check that every card number passes. */
export function luhn(digits) {
  const values = Array.from(digits, digitValue).reverse();
  return values.reduce((sum, value, i) => sum + (i % 2 ? DOUBLED[value] : value), 0) % 10 === 0;
}

/** text with every card number in it masked to its first 6 and last 4 digits, track data whole. */
export function maskPans(text) {
  let masked;
  while (ENOUGH_DIGITS.test(text) && (masked = maskOnce(text)) !== text) text = masked;
  return text;
}

/** Each value masked, and so is a card number split between the end of one and the start of another. */
export function maskFields(values) {
  let masked = values.map(maskPans);
  for (;;) {
    const again = maskAcross(masked).map(maskPans);
    if (again.every((value, i) => value === masked[i])) return again;
    masked = again;
  }
}

function maskOnce(text) {
  return text.replace(TRACK, (track) => "*".repeat(Array.from(track).length)).replace(LONG_RUN, maskRun);
}

function maskRun(text) {
  const chars = Array.from(text); // by code point: a mathematical bold digit is two UTF-16 units
  const run = readRun(chars, 0, chars.length);
  return star(chars, [...hidden(passingWindows(run))].map((i) => run.positions[i]));
}

function maskAcross(values) {
  const chars = values.map((value) => Array.from(value));
  const heads = chars.map(leadingRun);
  const tails = chars.map(trailingRun);
  const hiddenAt = chars.map(() => []);
  tails.forEach((tail, i) => {
    if (!tail) return;
    const split = tail.values.length;
    heads.forEach((head, j) => {
      if (!head || i === j) return;
      const joined = joinRuns(tail, head);
      // A window within one value was that value's own to judge (maskPans did).
      const crossing = passingWindows(joined).filter(([first, end]) => first < split && split < end);
      for (const k of hidden(crossing)) hiddenAt[k < split ? i : j].push(joined.positions[k]);
    });
  });
  return chars.map((valueChars, i) => star(valueChars, hiddenAt[i]));
}

function joinRuns(tail, head) {
  const split = tail.values.length;
  return {
    positions: [...tail.positions, ...head.positions],
    values: [...tail.values, ...head.values],
    groupStarts: [...tail.groupStarts, ...head.groupStarts.map((k) => split + k)],
    groupEnds: [...tail.groupEnds, ...head.groupEnds.map((k) => split + k)],
  };
}

function leadingRun(chars) {
  const span = edgeSpan(chars);
  return span && readRun(chars, span[0], span[1]);
}

function trailingRun(chars) {
  // A run reads the same both ways, so the reversed text's leading run is the trailing run.
  const span = edgeSpan([...chars].reverse());
  return span && readRun(chars, chars.length - span[1], chars.length - span[0]);
}

// Where the run of digits that starts chars, past any separators, begins and ends (code points).
function edgeSpan(chars) {
  const match = EDGE_RUN.exec(chars.join(""));
  if (!match) return null;
  const end = Array.from(match[0]).length;
  return [end - Array.from(match[1]).length, end];
}

// The digits of a run: where each sits in chars, its value, and which begin or end a group.
function readRun(chars, start, end) {
  const run = { positions: [], values: [], groupStarts: [], groupEnds: [] };
  for (let i = start; i < end; i++) {
    const value = VALUES.get(chars[i]);
    if (value === undefined) continue;
    if (run.positions.at(-1) !== i - 1) {
      if (run.positions.length) run.groupEnds.push(run.values.length);
      run.groupStarts.push(run.values.length);
    }
    run.positions.push(i);
    run.values.push(value);
  }
  run.groupEnds.push(run.values.length);
  return run;
}

// [first, end) digit indices of each of the run's candidates that passes Luhn.
function passingWindows({ values, groupStarts, groupEnds }) {
  const long = values.length > MAX_DIGITS;
  const isStart = long ? () => true : (index) => groupStarts.includes(index);
  const ends = long
    ? Array.from({ length: values.length - MIN_DIGITS + 1 }, (_, k) => MIN_DIGITS + k)
    : groupEnds.filter((end) => end >= MIN_DIGITS);
  const windows = [];
  for (const end of ends) {
    // Luhn sums from the right: growing the window leftwards adds one digit to the sum, so all
    // the windows ending here cost 19 steps, and a long run of digits stays linear.
    let total = 0;
    for (let length = 1; length <= Math.min(end, MAX_DIGITS); length++) {
      const value = values[end - length];
      total += length % 2 === 0 ? DOUBLED[value] : value;
      if (length >= MIN_DIGITS && total % 10 === 0 && isStart(end - length)) windows.push([end - length, end]);
    }
  }
  return windows;
}

// The digit indices that the windows mask: all but each window's first 6 and last 4.
function hidden(windows) {
  const indices = new Set();
  for (const [first, end] of windows) for (let i = first + KEEP_FIRST; i < end - KEEP_LAST; i++) indices.add(i);
  return indices;
}

function star(chars, positions) {
  const starred = [...chars];
  for (const position of positions) starred[position] = "*";
  return starred.join("");
}
