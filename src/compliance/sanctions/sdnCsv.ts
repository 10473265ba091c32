/**
 * Sanctions lists in the layout of OFAC's SDN files (pure): `sdn.csv`
 * (ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type,
 * Tonnage, GRT, Vess_flag, Vess_owner, Remarks) and optionally `alt.csv`
 * (ent_num, alt_num, alt_type, alt_name, alt_remarks). As OFAC publishes
 * them: no header row (one is accepted), `-0-` for an empty field, and a
 * last line holding only the DOS end-of-file byte (0x1A).
 *
 * Anything malformed is refused whole with `sanctions_list_invalid` naming
 * the file and line, so a bad download never replaces a good list.
 *
 * @example
 * const list = parseSdnList({ sdn: { name: 'sdn.csv', text }, aliases: { name: 'alt.csv', text: altText } });
 * list.entries[0]; // { entNum: 36, name: 'AEROCARIBBEAN AIRLINES', type: 'entity', programs: ['CUBA'], … }
 */
import { CsvError, parse } from 'csv-parse/sync';
import { DaybookError } from '../../kernel/errors.ts';
import { SANCTIONS_ENTRIES_MAX, SANCTIONS_NAME_LENGTH_MAX } from '../../kernel/limits.ts';

export type SanctionsEntryType = 'individual' | 'entity' | 'vessel' | 'aircraft';
export type AliasType = 'aka' | 'fka' | 'nka';

export interface SanctionsAlias {
  readonly altNum: number;
  readonly type: AliasType;
  readonly name: string;
}

export interface SanctionsEntry {
  readonly entNum: number;
  readonly name: string;
  readonly type: SanctionsEntryType;
  readonly programs: readonly string[];
  readonly title: string | null;
  readonly remarks: string | null;
  readonly aliases: readonly SanctionsAlias[];
}

export interface SanctionsList {
  readonly entries: readonly SanctionsEntry[];
}

export interface CsvSource {
  /** Shown in errors (a file name). */
  readonly name: string;
  readonly text: string;
}

const SDN_COLUMNS = 12;
const ALT_COLUMNS = 5;
const ENTRY_TYPES: Readonly<Record<string, SanctionsEntryType>> = { individual: 'individual', vessel: 'vessel', aircraft: 'aircraft', '': 'entity', entity: 'entity' };
const ALIAS_TYPES: readonly string[] = ['aka', 'fka', 'nka'];

type Row = { fields: string[]; line: number };

function invalid(source: string, line: number | null, message: string): DaybookError {
  return new DaybookError('sanctions_list_invalid', `${source}${line === null ? '' : `, line ${line}`}: ${message}`, { source, line });
}

/** `-0-` (OFAC's empty) and blanks are null. */
function field(value: string | undefined): string | null {
  const trimmed = (value ?? '').trim();
  return trimmed === '' || trimmed === '-0-' ? null : trimmed;
}

function readRows(source: CsvSource, columns: number, headerFirst: string): Row[] {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(source.text.replace(/\u001a\s*$/, ''), { info: true, skip_empty_lines: true, bom: true, relax_column_count: true }) as unknown as typeof records;
  } catch (error) {
    if (error instanceof CsvError) throw invalid(source.name, (error as CsvError & { lines?: number }).lines ?? null, error.message.replace(/ (on|at) line \d+/, ''));
    throw error;
  }
  const rows = records.map(({ record, info }) => ({ fields: record, line: info.lines }));
  if (rows[0]?.fields[0]?.trim().toLowerCase() === headerFirst) rows.shift();
  for (const row of rows) {
    if (row.fields.length !== columns) throw invalid(source.name, row.line, `expected ${columns} fields, got ${row.fields.length}`);
  }
  return rows;
}

function positiveInteger(text: string | undefined, source: string, line: number, column: string): number {
  const value = (text ?? '').trim();
  if (!/^[1-9][0-9]{0,9}$/.test(value)) throw invalid(source, line, `${column} ${JSON.stringify(value)} is not a positive integer`);
  return Number.parseInt(value, 10);
}

function nameField(text: string | undefined, source: string, line: number, column: string): string {
  const name = field(text);
  if (name === null) throw invalid(source, line, `${column} is empty`);
  if (name.length > SANCTIONS_NAME_LENGTH_MAX) throw invalid(source, line, `${column} is longer than ${SANCTIONS_NAME_LENGTH_MAX} characters`);
  return name;
}

type MutableEntry = Omit<SanctionsEntry, 'aliases'> & { aliases: SanctionsAlias[] };

function readEntry({ fields, line }: Row, source: string): MutableEntry {
  const entNum = positiveInteger(fields[0], source, line, 'ent_num');
  const typeText = (field(fields[2]) ?? '').toLowerCase();
  const type = ENTRY_TYPES[typeText];
  if (type === undefined) throw invalid(source, line, `SDN_Type ${JSON.stringify(fields[2]?.trim())} is not individual, vessel, aircraft or -0-`);
  const programs = (field(fields[3]) ?? '').split(/\]\s*\[|[;\]\[]/).map((part) => part.trim()).filter((part) => part !== '');
  return { entNum, name: nameField(fields[1], source, line, 'SDN_Name'), type, programs, title: field(fields[4]), remarks: field(fields[11]), aliases: [] };
}

function addAlias({ fields, line }: Row, source: string, byNum: Map<number, MutableEntry>): void {
  const entNum = positiveInteger(fields[0], source, line, 'ent_num');
  const entry = byNum.get(entNum);
  if (entry === undefined) throw invalid(source, line, `ent_num ${entNum} is not in the SDN list`);
  const type = (field(fields[2]) ?? '').toLowerCase();
  if (!ALIAS_TYPES.includes(type)) throw invalid(source, line, `alt_type ${JSON.stringify(fields[2]?.trim())} is not aka, fka or nka`);
  entry.aliases.push({ altNum: positiveInteger(fields[1], source, line, 'alt_num'), type: type as AliasType, name: nameField(fields[3], source, line, 'alt_name') });
}

/** Parses and checks a list: unique ent_num, every alias naming a listed entry, at most SANCTIONS_ENTRIES_MAX entries. */
export function parseSdnList(files: { sdn: CsvSource; aliases?: CsvSource }): SanctionsList {
  const rows = readRows(files.sdn, SDN_COLUMNS, 'ent_num');
  if (rows.length === 0) throw invalid(files.sdn.name, null, 'no entries');
  if (rows.length > SANCTIONS_ENTRIES_MAX) throw new DaybookError('limit_exceeded', `${files.sdn.name}: ${rows.length} entries, more than ${SANCTIONS_ENTRIES_MAX}`);
  const byNum = new Map<number, MutableEntry>();
  for (const row of rows) {
    const entry = readEntry(row, files.sdn.name);
    if (byNum.has(entry.entNum)) throw invalid(files.sdn.name, row.line, `ent_num ${entry.entNum} appears twice`);
    byNum.set(entry.entNum, entry);
  }
  if (files.aliases) for (const row of readRows(files.aliases, ALT_COLUMNS, 'ent_num')) addAlias(row, files.aliases.name, byNum);
  return { entries: [...byNum.values()] };
}
