import { readdirSync, readFileSync } from 'node:fs';

export interface ProjectionMigration {
  version: number;
  name: string;
  sql: string;
}

/** The numbered `.sql` files of a backend's `migrations/` folder, in order (STYLE.md §7: never edited once merged). */
export function loadMigrations(folderUrl: URL): ProjectionMigration[] {
  const folder = folderUrl.pathname.endsWith('/') ? folderUrl : new URL(`${folderUrl.href}/`);
  return readdirSync(folder)
    .filter((file) => /^\d{4}_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), name: file, sql: readFileSync(new URL(file, folder), 'utf8') }));
}
