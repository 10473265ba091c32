import { type Command, Option } from 'commander';
import { checkRoleFitsStore, loadConfig, SERVER_ROLES, type ServerRole } from '../../edge/index.ts';
import type { CliRun } from '../cliIo.ts';

/**
 * `daybook serve [--role api|projections|all]`: what `npm start` runs.
 * Configured by the environment (DESIGN.md §5); `--role` overrides
 * DAYBOOK_ROLE. `api` serves HTTP only, `projections` runs the projection
 * workers, webhook delivery and the sealer (HTTP only on DAYBOOK_HEALTH_PORT),
 * `all` both; the first two need PostgreSQL.
 */
export function registerServe(program: Command, run: CliRun): void {
  program
    .command('serve')
    .description('start the HTTP server (what npm start runs); configured by PORT, DAYBOOK_HOST, DAYBOOK_DATA_DIR, DAYBOOK_DATABASE_URL, DAYBOOK_READ_DATABASE_URL, DAYBOOK_ROLE, DAYBOOK_HEALTH_PORT, LOG_LEVEL, DAYBOOK_API_KEY, DAYBOOK_API_KEY_PEPPER, DAYBOOK_RATE_LIMIT_PER_S, DAYBOOK_RATE_LIMIT_BURST, DAYBOOK_PROJECTION_MAX_LAG_SECONDS')
    .addOption(new Option('--role <role>', 'api: HTTP only; projections: projection workers, webhook delivery and the sealer; all: both (default: DAYBOOK_ROLE, else all)').choices(SERVER_ROLES))
    .action(async (options: { role?: ServerRole }) => {
      const loaded = loadConfig(run.io.env);
      const config = options.role === undefined ? loaded : { ...loaded, role: options.role };
      checkRoleFitsStore(config.role, config.databaseUrl, options.role === undefined ? 'DAYBOOK_ROLE' : '--role');
      // Loaded here so that the other commands start without Fastify and prom-client.
      const { runServer } = await import('../../main.ts');
      run.exitCode = await runServer(config, run.io);
    });
}
