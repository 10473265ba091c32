import { DaybookError } from '../kernel/index.ts';
import { parseApiKeySecret } from './apiKey.ts';
import type { ApiKeyRecord, ApiKeyRegistry } from './apiKeyRegistry.ts';

export interface BootstrapResult {
  /** A key made now, if any. */
  created: ApiKeyRecord | undefined;
  /** The secret to print once: only for a generated key (a seeded one is known to whoever set it). */
  secretToPrint: string | undefined;
}

/**
 * Makes sure someone can get in. With `DAYBOOK_API_KEY` set, that secret is
 * registered as an admin key of its mode unless it was registered before
 * (a revoked seed stays revoked). Otherwise, on a store without any key, an
 * admin test key is generated and handed back to be printed once.
 */
export async function ensureBootstrapKey(registry: ApiKeyRegistry, seedSecret: string | undefined): Promise<BootstrapResult> {
  if (seedSecret !== undefined && seedSecret !== '') {
    const parsed = parseApiKeySecret(seedSecret);
    if (parsed === null) throw new DaybookError('validation_failed', 'DAYBOOK_API_KEY must be sk_test_… or sk_live_… with 16 to 128 letters and digits', {}, 'DAYBOOK_API_KEY');
    if (registry.knows(seedSecret)) return { created: undefined, secretToPrint: undefined };
    const { key } = await registry.create({ role: 'admin', mode: parsed.mode, name: 'seeded from DAYBOOK_API_KEY', createdBy: 'bootstrap', secret: seedSecret });
    return { created: key, secretToPrint: undefined };
  }
  if (registry.size > 0) return { created: undefined, secretToPrint: undefined };
  const { key, secret } = await registry.create({ role: 'admin', mode: 'test', name: 'bootstrap admin', createdBy: 'bootstrap' });
  return { created: key, secretToPrint: secret };
}
