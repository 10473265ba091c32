import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ApiKeyRecord, ApiKeyRegistry, createApiKeyHasher, isRole, loadPepper, ROLES } from '../../auth/index.ts';
import { EXIT, loadApiKeyConfig, loadStoreConfig } from '../../edge/index.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { isDaybookError } from '../../kernel/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

/**
 * `daybook keys create --role <role> [--mode test|live] [--name <text>]`,
 * `daybook keys list`, `daybook keys revoke <id>`: API keys, written to the
 * store as events, hashed with the same pepper as the server's
 * (DAYBOOK_API_KEY_PEPPER, else the file in DAYBOOK_DATA_DIR). The secret is
 * printed once, by `create`. On SQLite the running server holds the store:
 * stop it first, or use `POST /v1/api_keys` with an admin key.
 */
export function registerKeys(program: Command, run: CliRun): void {
  const keys = program.command('keys').description('create, list and revoke API keys');

  keys.command('create')
    .description('create an API key and print its secret (shown this once)')
    .addOption(new Option('--role <role>', `one of ${ROLES.join(', ')}`).makeOptionMandatory().argParser((value: string) => {
      if (!isRole(value)) throw new InvalidArgumentError(`use one of ${ROLES.join(', ')}.`);
      return value;
    }))
    .addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).default('test'))
    .option('--name <text>', 'what the key is for')
    .option('--owner <who>', 'whose key it is: keys of one owner are one person for maker-checker (default: the key itself)')
    .option('--json', 'print the key as JSON')
    .addOption(databaseUrlOption())
    .action(async (options: { role: ApiKeyRecord['role']; mode: 'test' | 'live'; name?: string; owner?: string; json?: boolean; databaseUrl?: string }) => {
      await withRegistry(run, options, async (registry) => {
        const { key, secret } = await registry.create({ role: options.role, mode: options.mode, name: options.name, owner: options.owner, createdBy: 'cli' });
        run.io.stdout.write(options.json ? `${JSON.stringify({ ...key, secret })}\n` : `${key.keyId} ${key.role} ${key.mode}\n${secret}\n(the secret is shown this once; only its hash is stored)\n`);
      });
    });

  keys.command('list')
    .description('list API keys (never their secrets)')
    .option('--json', 'print the keys as JSON lines')
    .addOption(databaseUrlOption())
    .action(async (options: { json?: boolean; databaseUrl?: string }) => {
      await withRegistry(run, options, async (registry) => {
        for (const key of registry.list()) {
          run.io.stdout.write(options.json ? `${JSON.stringify(key)}\n` : `${describeKey(key)}\n`);
        }
      });
    });

  keys.command('revoke')
    .description('revoke an API key at once, for good')
    .argument('<id>', 'the key id (key_…)')
    .addOption(databaseUrlOption())
    .action(async (keyId: string, options: { databaseUrl?: string }) => {
      await withRegistry(run, options, async (registry) => {
        const key = await registry.revoke(keyId, 'cli');
        run.io.stdout.write(`revoked ${describeKey(key)}\n`);
      });
    });
}

function describeKey(key: ApiKeyRecord): string {
  const state = key.revokedAtMs === null ? 'active' : `revoked ${new Date(key.revokedAtMs).toISOString()}`;
  return [key.keyId, key.role, key.mode, key.hint, state, new Date(key.createdAtMs).toISOString(), JSON.stringify(key.name)].join('  ');
}

async function withRegistry(run: CliRun, options: { databaseUrl?: string }, action: (registry: ApiKeyRegistry) => Promise<void>): Promise<void> {
  const url = storeUrlFrom(options, run.io);
  const { dataDir } = loadStoreConfig(run.io.env);
  const { apiKeyPepper } = loadApiKeyConfig(run.io.env);
  let store: EventStore;
  try {
    store = await openEventStore(url);
  } catch (error) {
    if (isDaybookError(error, 'store_locked')) {
      throw new CliError('the store is in use by a running server: stop it, or create and revoke keys with POST /v1/api_keys and an admin key', EXIT.tempfail);
    }
    throw error;
  }
  try {
    const registry = await ApiKeyRegistry.open(store, { hasher: createApiKeyHasher(loadPepper(dataDir, apiKeyPepper)) });
    await action(registry);
  } finally {
    await store.close();
  }
}
