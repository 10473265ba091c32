import type { Command } from 'commander';
import { loadConfig } from '../../edge/index.ts';
import type { CliRun } from '../cliIo.ts';

/** `daybook serve`: what `npm start` runs. Configured by the environment only (DESIGN.md §5). */
export function registerServe(program: Command, run: CliRun): void {
  program
    .command('serve')
    .description('start the HTTP server (what npm start runs); configured by PORT, DAYBOOK_HOST, DAYBOOK_DATA_DIR, DAYBOOK_DATABASE_URL, LOG_LEVEL, DAYBOOK_API_KEY, DAYBOOK_API_KEY_PEPPER, DAYBOOK_RATE_LIMIT_PER_S, DAYBOOK_RATE_LIMIT_BURST, DAYBOOK_PROJECTION_MAX_LAG_SECONDS')
    .action(async () => {
      const config = loadConfig(run.io.env);
      // Loaded here so that the other commands start without Fastify and prom-client.
      const { runServer } = await import('../../main.ts');
      run.exitCode = await runServer(config, run.io);
    });
}
