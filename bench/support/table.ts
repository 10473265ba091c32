import type { BenchRow, TargetCheck } from './bench.ts';

/** Extra fields worth a glance, shown in the table's last column when a row has them. */
const NOTE_FIELDS: ReadonlyArray<[field: string, label: string, unit: string]> = [
  ['connections', 'conns', ''],
  ['conflicts_per_s', 'conflicts/s', ''],
  ['lag_p50_ms', 'lag p50', ' ms'],
  ['lag_p99_ms', 'lag p99', ' ms'],
  ['rss_growth_mb', 'RSS growth', ' MB'],
  ['recovery_ms', 'recovery', ' ms'],
  ['child_boot_ms', 'boot', ' ms'],
  ['child_open_ms', 'import+open', ' ms'],
  ['events_rebuilt', 'events', ''],
  ['takeover_ms', 'takeover', ' ms'],
  ['heap_mb', 'heap', ' MB'],
  ['held_transfers', 'held transfers', ''],
  ['disk_mb', 'disk', ' MB'],
  ['replayed_events', 'replayed', ''],
  ['requests_per_s', 'requests/s', ''],
  ['transfers_per_request', 'transfers/request', ''],
  ['processes', 'processes', ''],
];

export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return Math.round(value).toLocaleString('en-US');
}

/** 18,234 → "18K"; 1,234,567 → "1.2M": for target lines. */
export function formatShortRate(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}K`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}K`;
  return String(Math.round(value));
}

export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (value < 10) return value.toFixed(2);
  if (value < 1000) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

/** `isBaseline`: some row of the run is measured against this one. */
export function formatRatio(row: BenchRow, isBaseline = true): string {
  if (row.baseline === null) return isBaseline ? 'baseline' : '-';
  // A row timed, not rated (a start-up, say): compare its milliseconds with the baseline's.
  if (row.ratio === null && row.events_per_s === null && (row.ops_per_s ?? null) === null) return `vs ${row.baseline} (ms)`;
  if (row.ratio === null) return `? ${row.baseline}`;
  return `${row.ratio.toFixed(2)}x ${row.baseline}`;
}

function notes(row: BenchRow): string {
  const parts: string[] = [];
  for (const [field, label, unit] of NOTE_FIELDS) {
    const value = row[field];
    if (typeof value === 'number') parts.push(`${label} ${unit === ' ms' ? formatMs(value) : formatRate(value)}${unit}`);
  }
  return parts.join(', ');
}

export function renderTable(rows: readonly BenchRow[]): string {
  const header = ['workload', 'backend', 'events/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'RSS MB', 'ratio to baseline', 'notes'];
  const baselines = new Set(rows.map((row) => `${row.backend} ${row.baseline}`));
  const body = rows.map((row) => [
    row.workload,
    row.backend,
    row.events_per_s === null && typeof row.ops_per_s === 'number' ? `${formatRate(row.ops_per_s)} ops` : formatRate(row.events_per_s),
    formatMs(row.p50_ms),
    formatMs(row.p99_ms),
    formatMs(row.p999_ms),
    row.peak_rss_mb === null ? '-' : row.peak_rss_mb.toFixed(0),
    formatRatio(row, baselines.has(`${row.backend} ${row.workload}`) || row.workload.startsWith('raw ')),
    notes(row),
  ]);
  const numeric = new Set([2, 3, 4, 5, 6]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n');
}

export function renderTargets(checks: readonly TargetCheck[]): string {
  return checks.map((check) => `${check.label}: ${check.info ? 'INFO' : check.pass === null ? 'NOT MEASURED' : check.pass ? 'PASS' : 'MISS'} (${check.actual})`).join('\n');
}
