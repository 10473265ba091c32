import { Option } from 'commander';
import { EXIT, isStoreUrl, loadStoreConfig, redactUrlText } from '../edge/index.ts';
import type { CliIo } from './cliIo.ts';
import { CliError } from './failure.ts';

/**
 * `--database-url <url>`: checked while parsing, so a bad url is a usage error (exit 64) before anything opens.
 * Refused with a CliError, not commander's InvalidArgumentError, whose message would quote the url, password and all.
 */
export function databaseUrlOption(): Option {
  return new Option('--database-url <url>', 'store to open: sqlite:<path> or postgres://… (default: DAYBOOK_DATABASE_URL, else sqlite:$DAYBOOK_DATA_DIR/daybook.db)')
    .argParser((value: string) => {
      if (!isStoreUrl(value)) {
        throw new CliError(`--database-url must be sqlite:<path> or postgres://user@host:port/database (got ${JSON.stringify(redactUrlText(value))}) (see daybook --help)`, EXIT.usage);
      }
      return value;
    });
}

/** The option when given, else the store the server would open. */
export function storeUrlFrom(options: { databaseUrl?: string }, io: CliIo): string {
  return options.databaseUrl ?? loadStoreConfig(io.env).storeUrl;
}
