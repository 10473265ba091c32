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
import { amlMonitorProjection } from '../../compliance/aml/index.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { paymentEventsProjection, paymentsProjection } from '../../payments/index.ts';
import { subjectIndexProjection } from '../../privacy/index.ts';
import type { ProjectionDefinition } from '../projection.ts';
import { ledgerBalancesProjection } from './ledgerBalances.projection.ts';

export { LEDGER_BALANCES_PROJECTION_NAME, LEDGER_BALANCES_TABLE, ledgerBalancesProjection } from './ledgerBalances.projection.ts';

/**
 * Every built-in projection, in a fixed order. The AML monitor appends its
 * alerts to `store`; without one (a registry that only names projections)
 * it is listed with a store that refuses use.
 */
export function builtinProjections(store: EventStore = NO_STORE): ProjectionDefinition[] {
  return [bankingProjection, ledgerBalancesProjection, paymentsProjection, paymentEventsProjection, amlMonitorProjection(store), subjectIndexProjection];
}

const NO_STORE = new Proxy({} as EventStore, {
  get(_target, key) {
    if (key === 'then') return undefined;
    throw new Error(`builtinProjections() was given no store, and the AML monitor needs one (it used ${String(key)})`);
  },
});
