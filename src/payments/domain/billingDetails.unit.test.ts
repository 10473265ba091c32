/** A payment method's billing details: created from what is given, then patched field by field (null clears, absent keeps). */
import { describe, expect, it } from 'vitest';
import { paymentMethodDecider } from './paymentMethod.decider.ts';
import { EMPTY_BILLING_DETAILS, patchBillingDetails } from './paymentMethod.events.ts';

const CARD = { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, fingerprint: 'fp', funding: 'credit', country: 'US' } as never;

describe('billing details', () => {
  it('patches the fields given and keeps the others', () => {
    const first = patchBillingDetails(EMPTY_BILLING_DETAILS, { name: 'Ada', address: { line1: '1 Road', country: 'GB' } });
    expect(first).toEqual({ name: 'Ada', email: null, phone: null, address: { line1: '1 Road', line2: null, city: null, state: null, postalCode: null, country: 'GB' } });
    const second = patchBillingDetails(first, { phone: '+44 1', address: { line1: null } });
    expect(second).toEqual({ ...first, phone: '+44 1', address: { ...first.address, line1: null } });
  });

  it('records them at creation and after an update, folded into the state', () => {
    const created = paymentMethodDecider.decide({
      type: 'CreatePaymentMethod', data: { paymentMethodId: 'pm_1', card: CARD, behavior: 'succeed' as never, billingDetails: { email: 'a@b.example' }, atMs: 1 },
    }, paymentMethodDecider.initialState());
    const state = created.reduce(paymentMethodDecider.evolve, paymentMethodDecider.initialState());
    const updated = paymentMethodDecider.decide({ type: 'UpdatePaymentMethod', data: { paymentMethodId: 'pm_1', billingDetails: { name: 'Ada' }, atMs: 2 } }, state);
    const after = updated.reduce(paymentMethodDecider.evolve, state);
    expect(after).toMatchObject({ billingDetails: { name: 'Ada', email: 'a@b.example', phone: null } });
  });

  it('reads a payment method created before billing details were kept as having none', () => {
    const state = paymentMethodDecider.evolve(paymentMethodDecider.initialState(), {
      type: 'PaymentMethodCreated', data: { paymentMethodId: 'pm_0', card: CARD, behavior: 'succeed' as never, customerId: null, metadata: {}, atMs: 0 },
    });
    expect(state).toMatchObject({ billingDetails: EMPTY_BILLING_DETAILS });
  });
});
