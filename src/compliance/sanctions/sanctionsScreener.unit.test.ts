/**
 * Screening names against the fixture list: true positives despite typos,
 * transliteration (Cyrillic, diacritics), word order, joined tokens and
 * aliases; true negatives for ordinary names and for one common token; the
 * normalisation and similarity functions underneath; and refused inputs.
 */
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../../kernel/index.ts';
import { fixtureSanctionsList } from './fixtures/fixtureList.ts';
import { foldName, normalizeName, phoneticKey } from './nameNormalize.ts';
import { buildSanctionsScreener, SCREENING_THRESHOLD_DEFAULT } from './sanctionsScreener.ts';
import { jaroWinkler, tokenSetSimilarity } from './similarity.ts';

const screener = buildSanctionsScreener(fixtureSanctionsList());
const top = (name: string) => screener.screen(name).hits[0];

describe('true positives', () => {
  it.each([
    ['Boris Testovich Fakename', 9001, 'name'],
    ['Borris Fakenmae', 9001, 'name'],
    ['Борис Фейкнейм', 9001, 'alias'],
    ['Boris Fakenamov', 9001, 'alias'],
    ['Jurgen Muller-Fictivus', 9004, 'name'],
    ['JÜRGEN MÜLLER FICTIVUS', 9004, 'name'],
    ['Yusuf al Placeholderi', 9003, 'name'],
    ['Youssef Al-Placeholdery', 9003, 'alias'],
    ['Dmitri Xylophonov', 9011, 'name'],
    ['Дмитрий Ксилофонов', 9011, 'alias'],
    ['Ahmad Faux Muhammad', 9014, 'alias'],
    ['Siobhan OFiction', 9017, 'name'],
    ['Zydrunas Testavicius', 9018, 'name'],
    ['Tadeusz Lukasz Shamski', 9013, 'name'],
    ['Yevgeny Kvetchinsky', 9026, 'name'],
    ['Evgeni Kvechinski', 9026, 'alias'],
    ['Notareal Trading LLC', 9006, 'name'],
    ['Pretended Dawn', 9008, 'alias'],
    ['Penelope Counterfit', 9030, 'name'],
    ['Reginald Spurious', 9024, 'name'],
  ] as const)('finds %s', (name, entNum, matchedOn) => {
    const hit = top(name);
    expect(hit).toMatchObject({ entNum, matchedOn });
    expect(hit!.score).toBeGreaterThanOrEqual(SCREENING_THRESHOLD_DEFAULT);
  });

  it('finds a name whatever its word order', () => {
    expect(top('Fakename Boris')).toMatchObject({ entNum: 9001 });
    expect(top('Olga Zanzibarova')?.score).toBe(top('Zanzibarova, Olga')?.score);
  });

  it('answers one hit per entry, with its primary name and what matched', () => {
    const hits = screener.screen('Boris Fakename').hits;
    expect(hits.filter((hit) => hit.entNum === 9001)).toHaveLength(1);
    expect(hits[0]).toMatchObject({ name: 'FAKENAME, Boris Testovich', type: 'individual', programs: ['DEMO-RU'] });
  });
});

describe('true negatives', () => {
  it.each(['John Smith', 'Boris Johnson', 'Olga Petrova', 'Muhammad Ali', 'Maria Garcia', 'Ivan Petrov', 'Carlos Santana', 'Pretend', 'Trading', 'Helga Schmidt', 'Sven Svensson'])('finds nothing for %s', (name) => {
    expect(screener.screen(name).hits).toEqual([]);
  });

  it('finds weaker matches below a lower threshold', () => {
    expect(screener.screen('Boris Johnson', { threshold: 0.2 }).hits[0]).toMatchObject({ entNum: 9001 });
  });
});

describe('refused inputs', () => {
  const code = (fn: () => unknown) => {
    try { fn(); } catch (error) { return isDaybookError(error) ? error.code : 'other'; }
    return 'accepted';
  };
  it('refuses a name without letters, too long a name, or a threshold outside (0, 1]', () => {
    expect(code(() => screener.screen(' ,.- '))).toBe('validation_failed');
    expect(code(() => screener.screen('a'.repeat(501)))).toBe('limit_exceeded');
    expect(code(() => screener.screen('Boris', { threshold: 1.5 }))).toBe('validation_failed');
  });
});

describe('normalisation and similarity', () => {
  it('folds case, diacritics, punctuation and other scripts', () => {
    expect(foldName('  Żydrūnas  ŁUKASZ-Straße ')).toBe('zydrunas lukasz strasse');
    expect(foldName('Ксилофонов')).toBe('ksilofonov');
    expect(foldName('Ωμέγα')).toBe('omega');
    expect(normalizeName("O'Fiction Trading Co., Ltd.")).toEqual({ tokens: ['ofiction', 'trading'], sorted: ['ofiction', 'trading'], compact: 'ofictiontrading' });
  });

  it('gives similar-sounding tokens one phonetic key', () => {
    expect(phoneticKey('mohammed')).toBe(phoneticKey('muhammad'));
    expect(phoneticKey('usama')).toBe(phoneticKey('osama'));
    expect(phoneticKey('smith')).not.toBe(phoneticKey('jones'));
  });

  it('computes Jaro-Winkler as published (MARTHA/MARHTA 0.961, DIXON/DICKSONX 0.813)', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.813, 3);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
    expect(jaroWinkler('same', 'same')).toBe(1);
  });

  it('scores a name inside another high only when two tokens carry it', () => {
    expect(tokenSetSimilarity(['ayman', 'zawahiri'], ['ayman', 'muhammad', 'rabi', 'zawahiri'])).toBeGreaterThan(0.9);
    expect(tokenSetSimilarity(['muhammad'], ['ayman', 'muhammad', 'rabi', 'zawahiri'])).toBeLessThan(0.7);
  });
});

describe('common keys', () => {
  // 600 entities share TRADING and 600 share MOHAMMED: both keys are common in a list of 1,201 entries.
  const entry = (entNum: number, name: string) => ({ entNum, name, type: 'entity' as const, programs: [], title: null, remarks: null, aliases: [] });
  const list = {
    entries: [
      ...Array.from({ length: 600 }, (_, i) => entry(i + 1, `Q${i} TRADING`)),
      ...Array.from({ length: 600 }, (_, i) => entry(i + 601, `Z${i} MOHAMMED`)),
      entry(9999, 'MOHAMMED TRADING'),
    ],
  };
  const crowded = buildSanctionsScreener(list);

  it('still find a name through its specific token', () => {
    expect(crowded.screen('Q17 Trading').hits[0]).toMatchObject({ entNum: 18, score: 1 });
  });

  it('are consulted when the name has no other key', () => {
    expect(crowded.screen('Mohammed Trading').hits.map((hit) => hit.entNum)).toEqual([9999]);
    expect(crowded.screen('Trading').hits).toEqual([]);
  });
});
