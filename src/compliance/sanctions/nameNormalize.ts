/**
 * Names made comparable (pure): Unicode NFKD with the combining marks
 * dropped (é → e), letters NFKD leaves alone transliterated (ß → ss,
 * ø → o, Cyrillic and Greek to Latin), lower case, punctuation to spaces,
 * legal forms (LLC, Ltd, JSC…) dropped, then tokens. A phonetic key per
 * token (Soundex-like, vowels dropped, similar consonants grouped) lets the
 * index find "Mohammed" from "Muhammad" and "Usama" from "Osama".
 *
 * @example
 * normalizeName('AL-ZAWAHIRI, Ayman'); // { tokens: ['al', 'zawahiri', 'ayman'], sorted: ['al', 'ayman', 'zawahiri'], compact: 'alzawahiriayman' }
 */

const LATIN: Readonly<Record<string, string>> = {
  ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ħ: 'h', ŋ: 'n', ĸ: 'k', ſ: 's', ŀ: 'l',
};

const CYRILLIC: Readonly<Record<string, string>> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o',
  п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu',
  я: 'ya', і: 'i', ї: 'yi', є: 'ye', ґ: 'g',
};

const GREEK: Readonly<Record<string, string>> = {
  α: 'a', β: 'v', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n', ξ: 'x', ο: 'o', π: 'p',
  ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'f', χ: 'ch', ψ: 'ps', ω: 'o',
};

/** Legal forms and fillers that say nothing about who is named. */
const NOISE = new Set(['ltd', 'llc', 'inc', 'corp', 'co', 'company', 'limited', 'gmbh', 'sa', 'jsc', 'ojsc', 'pjsc', 'cjsc', 'ooo', 'oao', 'zao', 'the', 'of', 'and', 'plc', 'llp', 'bv', 'ag']);

export interface NormalizedName {
  /** Tokens in the name's order. */
  readonly tokens: readonly string[];
  /** The same tokens sorted: word order stops mattering. */
  readonly sorted: readonly string[];
  /** The tokens joined without spaces, in order: "alzawahiri" meets "al zawahiri". */
  readonly compact: string;
}

function transliterate(char: string): string {
  return LATIN[char] ?? CYRILLIC[char] ?? GREEK[char] ?? char;
}

/** Lower-case ASCII letters and digits separated by single spaces. */
export function foldName(name: string): string {
  const decomposed = name.normalize('NFKD').toLowerCase().replace(/\p{M}+/gu, '');
  let out = '';
  for (const char of decomposed) {
    const latin = char.charCodeAt(0) < 128 ? char : transliterate(char);
    out += /^[a-z0-9]+$/.test(latin) ? latin : latin === '' ? '' : ' ';
  }
  return out.replace(/\s+/g, ' ').trim();
}

export function normalizeName(name: string): NormalizedName {
  // Apostrophes join (O'Brien → obrien) rather than split.
  const folded = foldName(name.replace(/['’`´]/g, ''));
  const all = folded === '' ? [] : folded.split(' ');
  const meaningful = all.filter((token) => !NOISE.has(token));
  const tokens = meaningful.length > 0 ? meaningful : all;
  const sorted = [...tokens].sort();
  return { tokens, sorted, compact: tokens.join('') };
}

const SOUND_GROUP: Readonly<Record<string, string>> = {
  b: '1', f: '1', p: '1', v: '1', w: '1',
  c: '2', g: '2', j: '2', k: '2', q: '2', s: '2', x: '2', z: '2',
  d: '3', t: '3', l: '4', m: '5', n: '5', r: '6',
};

/**
 * A Soundex-like key of up to three consonant groups (the first letter
 * included, so c/k/q and j/g share one), adjacent repeats collapsed;
 * vowels, h and y are dropped, a vowel start kept as `v`. Tokens with no
 * consonant keep their letters.
 */
export function phoneticKey(token: string): string {
  let key = /^[aeiouhy]/.test(token) ? 'v' : '';
  let last = '';
  for (const char of token) {
    const group = SOUND_GROUP[char];
    if (group === undefined) {
      // h and y do not separate repeats ("ahmmed" and "ahmed"); vowels do, as in Soundex.
      if (char !== 'h' && char !== 'y') last = '';
      continue;
    }
    if (group !== last) key += group;
    last = group;
    if (key.length >= 4) break;
  }
  return key === 'v' || key === '' ? token : key;
}
