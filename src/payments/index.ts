/**
 * Payments, Stripe's objects as event-sourced aggregates with real ledger
 * postings. `domain/` is pure (commands, events, deciders, fee, card, fraud
 * and amount rules); `app/` runs it (service, ledger plan, repository,
 * projection and read model). The Stripe-compatible HTTP listener lives in
 * `src/api/stripe/`.
 */
export * from './domain/payments.rules.ts';
export * from './domain/fees.rules.ts';
export * from './domain/cards.rules.ts';
export * from './domain/fraud.rules.ts';
export * from './domain/customer.events.ts';
export * from './domain/customer.commands.ts';
export * from './domain/customer.decider.ts';
export * from './domain/paymentMethod.events.ts';
export * from './domain/paymentMethod.commands.ts';
export * from './domain/paymentMethod.decider.ts';
export * from './domain/paymentIntent.events.ts';
export * from './domain/paymentIntent.commands.ts';
export * from './domain/paymentIntent.state.ts';
export * from './domain/paymentIntent.decider.ts';
export * from './domain/dispute.events.ts';
export * from './domain/dispute.rules.ts';
export * from './domain/payout.events.ts';
export * from './domain/payout.rules.ts';
export * from './domain/payout.decider.ts';
export * from './domain/account.events.ts';
export * from './domain/account.rules.ts';
export * from './domain/account.decider.ts';
export * from './app/payments.ledgerPlan.ts';
export * from './app/payments.projection.ts';
export * from './app/payments.readModel.ts';
export * from './app/payments.service.ts';
export { AggregateRepository, type Decided, type Loaded } from './app/payments.repository.ts';
export * from './domain/stripeEvents.rules.ts';
export * from './domain/webhookEndpoint.events.ts';
export * from './domain/webhookEndpoint.commands.ts';
export * from './domain/webhookEndpoint.decider.ts';
export * from './app/paymentEvents.projection.ts';
export * from './app/paymentEvents.readModel.ts';
export * from './app/webhookEndpoints.service.ts';
export * from './app/webhookDispatcher.ts';
export * from './app/webhookTargets.ts';
