/**
 * Stripe's contact parameters of payment objects: a payment method's
 * `billing_details`, a payment intent's `receipt_email` and `shipping`, and
 * their wire shapes. All of it is personal data, sealed per data subject
 * in the log (src/privacy/piiFields.ts); once erased, each string reads
 * `"[erased]"` and each absent value stays null, so the shapes Stripe's
 * clients expect never change.
 */
import { z } from 'zod';
import { PAYMENT_TEXT_LENGTH_MAX } from '../../kernel/index.ts';
import { type BillingDetails, type BillingDetailsPatch, EMPTY_BILLING_DETAILS, type PostalAddress, type Shipping } from '../../payments/index.ts';
import type { Wire } from './stripeWire.ts';

const text = z.string().max(PAYMENT_TEXT_LENGTH_MAX);
const addressFields = z.strictObject({
  line1: text.optional(), line2: text.optional(), city: text.optional(), state: text.optional(), postal_code: text.optional(), country: text.optional(),
});

/** `billing_details[name]`, `[email]`, `[phone]`, `[address][line1]`…; given fields replace, absent ones are kept. */
export const billingDetailsParam = z.strictObject({ name: text.optional(), email: text.optional(), phone: text.optional(), address: addressFields.optional() }).optional();
/** `shipping[name]` and `shipping[address]` required, as Stripe; '' (a form's null) or null clears it on update. */
export const shippingParam = z.union([z.strictObject({
  name: text, phone: text.optional(), address: addressFields, carrier: text.optional(), tracking_number: text.optional(),
}), z.literal('')]).nullable().optional();
export const receiptEmailParam = text.nullable().optional();

const orNull = (value: string | undefined): string | null => (value === undefined || value === '' ? null : value);

function addressOf(current: PostalAddress, patch: z.infer<typeof addressFields> | undefined): PostalAddress {
  if (patch === undefined) return current;
  const pick = (value: string | undefined, kept: string | null): string | null => (value === undefined ? kept : orNull(value));
  return {
    line1: pick(patch.line1, current.line1), line2: pick(patch.line2, current.line2), city: pick(patch.city, current.city), state: pick(patch.state, current.state),
    postalCode: pick(patch.postal_code, current.postalCode), country: pick(patch.country, current.country),
  };
}

/** The billing details a request changes (a field given replaces, '' clears, absent is kept; undefined: nothing given). */
export function billingDetailsOf(patch: z.infer<typeof billingDetailsParam>): BillingDetailsPatch | undefined {
  if (patch === undefined) return undefined;
  const given = (value: string | undefined): string | null | undefined => (value === undefined ? undefined : orNull(value));
  const address = patch.address;
  return {
    name: given(patch.name), email: given(patch.email), phone: given(patch.phone),
    address: address === undefined ? undefined : {
      line1: given(address.line1), line2: given(address.line2), city: given(address.city), state: given(address.state), postalCode: given(address.postal_code), country: given(address.country),
    },
  };
}

/** The shipping a request sets: undefined (not given), null (cleared) or the new one. */
export function shippingOf(patch: z.infer<typeof shippingParam>): Shipping | null | undefined {
  if (patch === undefined) return undefined;
  if (patch === null || patch === '') return null;
  return {
    name: patch.name, phone: orNull(patch.phone), address: addressOf(EMPTY_BILLING_DETAILS.address, patch.address), carrier: orNull(patch.carrier),
    trackingNumber: orNull(patch.tracking_number),
  };
}

/** The receipt email a request sets: undefined (not given), null (cleared, '' or null) or the new one. */
export function receiptEmailOf(value: string | null | undefined): string | null | undefined {
  return value === undefined ? undefined : orNull(value ?? undefined);
}

export function addressToWire(address: PostalAddress): Wire {
  return { city: address.city, country: address.country, line1: address.line1, line2: address.line2, postal_code: address.postalCode, state: address.state };
}

export function billingDetailsToWire(details: BillingDetails): Wire {
  return { address: addressToWire(details.address), email: details.email, name: details.name, phone: details.phone, tax_id: null };
}

export function shippingToWire(shipping: Shipping | null): Wire | null {
  if (shipping === null) return null;
  return { address: addressToWire(shipping.address), carrier: shipping.carrier, name: shipping.name, phone: shipping.phone, tracking_number: shipping.trackingNumber };
}
