/**
 * The projections this build of Daybook defines: the server runs them, and
 * `daybook rebuild | replay | dlq` know them by name. Kept apart from
 * `projections/index.ts` (the engine), which the domain modules defining
 * these projections import.
 *
 * @example
 * const engine = createProjectionEngine({ store, readModels, projections: builtinProjections() });
 */
import { bankingProjection } from '../../banking/index.ts';
import { paymentEventsProjection, paymentsProjection } from '../../payments/index.ts';
import type { ProjectionDefinition } from '../projection.ts';
import { ledgerBalancesProjection } from './ledgerBalances.projection.ts';

export { LEDGER_BALANCES_PROJECTION_NAME, LEDGER_BALANCES_TABLE, ledgerBalancesProjection } from './ledgerBalances.projection.ts';

/** Every built-in projection, in a fixed order. */
export function builtinProjections(): ProjectionDefinition[] {
  return [bankingProjection, ledgerBalancesProjection, paymentsProjection, paymentEventsProjection];
}
