/**
 * Reading lists in OFAC's SDN CSV layout: the fixture (no header, `-0-`
 * empties, the trailing 0x1A byte, several programs, aliases attached to
 * their entries), a header row, and malformed files refused whole with the
 * file and line named: wrong field counts, an open quote, a bad ent_num or
 * type, duplicates, aliases of unknown entries, an empty list.
 */
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../../kernel/index.ts';
import { fixtureSanctionsList } from './fixtures/fixtureList.ts';
import { parseSdnList } from './sdnCsv.ts';

const ROW = (ent: string, name: string, type = 'individual') => `${ent},"${name}",${type},"DEMO",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- `;
const wrap = (source: { name: string; text: string }) => ({ sdn: source });
const sdn = (...rows: string[]) => ({ name: 'sdn.csv', text: `${rows.join('\n')}\n` });

function refusal(files: Parameters<typeof parseSdnList>[0]): string {
  try {
    parseSdnList(files);
  } catch (error) {
    if (isDaybookError(error, 'sanctions_list_invalid')) return error.message;
    throw error;
  }
  throw new Error('the list was accepted');
}

describe('the fixture list', () => {
  const list = fixtureSanctionsList();

  it('has its 30 entries and 13 aliases', () => {
    expect(list.entries).toHaveLength(30);
    expect(list.entries.flatMap((entry) => entry.aliases)).toHaveLength(13);
  });

  it('reads -0- as empty, types, several programs and remarks', () => {
    const byNum = new Map(list.entries.map((entry) => [entry.entNum, entry]));
    expect(byNum.get(9005)).toEqual({ entNum: 9005, name: 'QUUXLEY, Archibald Ignatius', type: 'individual', programs: ['DEMO-SDGT', 'DEMO-CYBER'], title: null, remarks: null, aliases: [] });
    expect(byNum.get(9006)).toMatchObject({ type: 'entity', remarks: 'Front company, made up.', aliases: [{ altNum: 106, type: 'aka', name: 'NOT A REAL TRADING CO' }] });
    expect(byNum.get(9008)).toMatchObject({ type: 'vessel', aliases: [{ type: 'fka' }] });
    expect(byNum.get(9001)!.aliases.map((alias) => alias.name)).toEqual(['FAKENAMOV, Boris', 'ФЕЙКНЕЙМ, Борис']);
  });
});

describe('a list', () => {
  it('may start with a header row', () => {
    const list = parseSdnList(wrap(sdn('ent_num,SDN_Name,SDN_Type,Program,Title,Call_Sign,Vess_type,Tonnage,GRT,Vess_flag,Vess_owner,Remarks', ROW('1', 'A, B'))));
    expect(list.entries.map((entry) => entry.entNum)).toEqual([1]);
  });

  it('is refused with the line of a row with too few or too many fields', () => {
    expect(refusal(wrap(sdn(ROW('1', 'A, B'), ROW('2', 'C, D'), '3,"E, F",individual')))).toBe('sdn.csv, line 3: expected 12 fields, got 3');
    expect(refusal(wrap(sdn(ROW('1', 'A, B'), `${ROW('2', 'C, D')},extra`)))).toMatch(/^sdn.csv, line 2: /);
  });

  it('is refused with the line of an unclosed or stray quote', () => {
    expect(refusal(wrap(sdn(ROW('1', 'A, B'), '2,"C, D,individual')))).toMatch(/^sdn.csv, line 2: Quote Not Closed/);
    expect(refusal(wrap(sdn(ROW('1', 'A, B'), ROW('2', 'C "D" E').replace('"C', 'x"C'))))).toMatch(/^sdn.csv, line 2: /);
  });

  it('is refused with the line of a bad ent_num, type or name, or a duplicate', () => {
    expect(refusal(wrap(sdn(ROW('1', 'A'), ROW('x2', 'B'))))).toBe('sdn.csv, line 2: ent_num "x2" is not a positive integer');
    expect(refusal(wrap(sdn(ROW('1', 'A', 'spaceship'))))).toBe('sdn.csv, line 1: SDN_Type "spaceship" is not individual, vessel, aircraft or -0-');
    expect(refusal(wrap(sdn(ROW('1', '-0- '))))).toBe('sdn.csv, line 1: SDN_Name is empty');
    expect(refusal(wrap(sdn(ROW('1', 'A'), ROW('1', 'B'))))).toBe('sdn.csv, line 2: ent_num 1 appears twice');
  });

  it('is refused when empty', () => expect(refusal(wrap(sdn()))).toBe('sdn.csv: no entries'));

  it('refuses aliases of unknown entries, of unknown types, or badly shaped', () => {
    const base = sdn(ROW('1', 'A, B'));
    expect(refusal({ sdn: base, aliases: { name: 'alt.csv', text: '1,10,"aka","AA, B",-0- \n2,11,"aka","C",-0- \n' } })).toBe('alt.csv, line 2: ent_num 2 is not in the SDN list');
    expect(refusal({ sdn: base, aliases: { name: 'alt.csv', text: '1,10,"nick","AA",-0- \n' } })).toBe('alt.csv, line 1: alt_type "nick" is not aka, fka or nka');
    expect(refusal({ sdn: base, aliases: { name: 'alt.csv', text: '1,10,"aka"\n' } })).toBe('alt.csv, line 1: expected 5 fields, got 3');
  });
});
