/**
 * Inputs for the compliance benchmark, drawn from a seeded generator so every
 * run measures the same work: fraud check inputs of varied shapes (some
 * signals unknown), and a sanctions list of made-up names with aliases, plus
 * the names screened against it (listed names, typos of them, strangers).
 */
import type { FraudCheckInput, SanctionsEntry, SanctionsList } from '../../src/compliance/index.ts';
import { seededRandom } from '../support/zipf.ts';

const SYLLABLES = ['al', 'an', 'bar', 'ben', 'cor', 'da', 'del', 'dri', 'el', 'fa', 'gor', 'ha', 'ib', 'ka', 'kov', 'lan', 'li', 'mar', 'mo', 'nas', 'no', 'or', 'pet', 'ra', 'rin', 'sa', 'sel', 'ta', 'tor', 'ul', 'va', 'vic', 'yan', 'za', 'zel'];

function word(random: () => number): string {
  const count = 2 + Math.floor(random() * 2);
  let text = '';
  for (let i = 0; i < count; i++) text += SYLLABLES[Math.floor(random() * SYLLABLES.length)]!;
  return text.toUpperCase();
}

function personName(random: () => number): string {
  const given = random() < 0.4 ? `${word(random)} ${word(random)}` : word(random);
  return `${word(random)}, ${given}`;
}

/** `size` entries, about one in three with one or two aliases. */
export function generatedSanctionsList(size: number, seed = 13): SanctionsList {
  const random = seededRandom(seed);
  const entries: SanctionsEntry[] = [];
  for (let i = 0; i < size; i++) {
    const entity = random() < 0.25;
    const name = entity ? `${word(random)} ${word(random)} TRADING LLC` : personName(random);
    const aliasCount = random() < 0.33 ? 1 + Math.floor(random() * 2) : 0;
    const aliases = Array.from({ length: aliasCount }, (_, a) => ({ altNum: i * 10 + a, type: 'aka' as const, name: entity ? `${word(random)} TRADING` : personName(random) }));
    entries.push({ entNum: i + 1, name, type: entity ? 'entity' : 'individual', programs: ['BENCH'], title: null, remarks: null, aliases });
  }
  return { entries };
}

function typo(name: string, random: () => number): string {
  const at = 1 + Math.floor(random() * (name.length - 2));
  return random() < 0.5 ? name.slice(0, at) + name.slice(at + 1) : name.slice(0, at) + name[at + 1] + name[at] + name.slice(at + 2);
}

/** A third listed names (word order swapped), a third typos of them, a third strangers. */
export function screenedNames(list: SanctionsList, count: number, seed = 17): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const listed = list.entries[Math.floor(random() * list.entries.length)]!.name;
    const swapped = listed.split(', ').reverse().join(' ');
    if (i % 3 === 0) return swapped;
    if (i % 3 === 1) return typo(swapped, random);
    return `${word(random)} ${word(random)}`;
  });
}

export function fraudInputs(count: number, seed = 11): FraudCheckInput[] {
  const random = seededRandom(seed);
  const maybe = <T>(value: T): T | null => (random() < 0.1 ? null : value);
  return Array.from({ length: count }, (_, i) => ({
    subjectRef: `pi_${i}`,
    amountMinor: BigInt(100 + Math.floor(random() ** 3 * 500_000)),
    currencyExponent: 2,
    atMs: maybe(1_718_000_000_000 + Math.floor(random() * 86_400_000)),
    history: random() < 0.1 ? null : { paymentsLastHour: maybe(Math.floor(random() * 8)), averageAmountMinor: BigInt(500 + Math.floor(random() * 20_000)), paymentCount: Math.floor(random() * 40) },
    newPaymentMethod: maybe(random() < 0.15),
    cardCountry: random() < 0.1 ? 'NG' : 'US',
    customerCountry: maybe('US'),
  }));
}
