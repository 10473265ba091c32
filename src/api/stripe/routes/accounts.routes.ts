/**
 * Connected accounts, the onboarding (KYC) flow: create, retrieve, update,
 * list. `requirements.currently_due` names what is still owed (business
 * profile, business type, the individual's or company's details, an
 * external test bank account, terms of service acceptance); once nothing
 * is due the identity is checked (KycVerificationCompleted) and
 * `charges_enabled` / `payouts_enabled` turn true. Accounts hold personal
 * data, so their routes need `customers:read` / `customers:write`.
 *
 * Accounts gate nothing else: charges, disputes and payouts are the
 * platform's own (its balance is the merchant's), and a `Stripe-Account`
 * header is refused with `account_invalid` rather than silently ignored.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PAYMENT_TEXT_LENGTH_MAX } from '../../../kernel/index.ts';
import { type AccountPii, type AccountProfile, EMPTY_ACCOUNT_PII, EMPTY_ACCOUNT_PROFILE, payoutDestinationOf, type PostalAddress } from '../../../payments/index.ts';
import { contextOf, type PaymentsApi } from '../stripeObjects.ts';
import { expandParam, idParams, listParams, metadataParam, metadataPatchOf, retrieveQuery } from '../stripeParams.ts';
import { newId, listQueryOf, objectsOf, typed, writeConfig } from './routeKit.ts';

const text = z.string().max(PAYMENT_TEXT_LENGTH_MAX);
const addressParam = z.strictObject({
  line1: text.optional(), line2: text.optional(), city: text.optional(), state: text.optional(), postal_code: text.optional(), country: text.optional(),
}).optional();
const bankAccountParam = z.union([
  z.string().max(255),
  z.strictObject({
    object: z.literal('bank_account'), country: z.string().max(2), currency: z.string().max(3), account_number: z.string().max(34),
    routing_number: z.string().max(34).optional(), account_holder_name: text.optional(), account_holder_type: z.enum(['individual', 'company']).optional(),
  }),
]).optional();
const capabilityParam = z.strictObject({ requested: z.boolean() }).optional();

const profileFields = {
  email: text.optional(), business_type: z.enum(['individual', 'company']).optional(),
  business_profile: z.strictObject({ mcc: z.string().regex(/^\d{4}$/, 'must be four digits').optional(), url: text.optional(), name: text.optional(), product_description: text.optional() }).optional(),
  individual: z.strictObject({
    first_name: text.optional(), last_name: text.optional(), email: text.optional(), phone: text.optional(), address: addressParam,
    dob: z.strictObject({ day: z.number().int().min(1).max(31), month: z.number().int().min(1).max(12), year: z.number().int().min(1900).max(2100) }).optional(),
  }).optional(),
  company: z.strictObject({ name: text.optional(), tax_id: z.string().max(64).optional(), address: addressParam }).optional(),
  external_account: bankAccountParam,
  tos_acceptance: z.strictObject({ date: z.number().int().min(0).optional(), ip: z.string().max(64).optional() }).optional(),
  capabilities: z.strictObject({ card_payments: capabilityParam, transfers: capabilityParam }).optional(),
  metadata: metadataParam, expand: expandParam,
};
const createBody = z.strictObject({
  type: z.enum(['custom', 'express', 'standard']).optional(), country: z.string().length(2).optional(), default_currency: z.string().length(3).optional(), ...profileFields,
});
const updateBody = z.strictObject(profileFields);
type ProfileBody = z.infer<typeof updateBody>;

function addressOf(current: PostalAddress | null, patch: z.infer<typeof addressParam>): PostalAddress | null {
  if (patch === undefined) return current;
  const base = current ?? { line1: null, line2: null, city: null, state: null, postalCode: null, country: null };
  return {
    line1: patch.line1 ?? base.line1, line2: patch.line2 ?? base.line2, city: patch.city ?? base.city, state: patch.state ?? base.state,
    postalCode: patch.postal_code ?? base.postalCode, country: patch.country ?? base.country,
  };
}

/** The submitted fields over the current ones (a field left out keeps its value). */
export function accountChange(body: ProfileBody) {
  return (pii: AccountPii, profile: AccountProfile): { pii: AccountPii; profile: AccountProfile } => {
    const person = body.individual;
    const business = body.business_profile;
    const external = body.external_account;
    const bank = external === undefined ? undefined : payoutDestinationOf(typeof external === 'string' ? external : external.account_number);
    return {
      pii: {
        email: body.email ?? pii.email,
        individual: person === undefined ? pii.individual : {
          firstName: person.first_name ?? pii.individual.firstName, lastName: person.last_name ?? pii.individual.lastName, email: person.email ?? pii.individual.email,
          phone: person.phone ?? pii.individual.phone, dob: person.dob ?? pii.individual.dob, address: addressOf(pii.individual.address, person.address),
        },
      },
      profile: {
        businessType: body.business_type ?? profile.businessType,
        businessProfile: business === undefined ? profile.businessProfile : {
          mcc: business.mcc ?? profile.businessProfile.mcc, url: business.url ?? profile.businessProfile.url, name: business.name ?? profile.businessProfile.name,
          productDescription: business.product_description ?? profile.businessProfile.productDescription,
        },
        company: body.company === undefined ? profile.company : {
          name: body.company.name ?? profile.company.name, taxIdProvided: profile.company.taxIdProvided || body.company.tax_id !== undefined,
          address: addressOf(profile.company.address, body.company.address),
        },
        externalAccount: bank === undefined ? profile.externalAccount : { bankAccountId: bank.bankAccountId, last4: bank.last4, routingNumber: bank.routingNumber },
        tosAcceptance: { dateS: body.tos_acceptance?.date ?? profile.tosAcceptance.dateS, ip: body.tos_acceptance?.ip ?? profile.tosAcceptance.ip },
      },
    };
  };
}

export function accountRoutes(api: PaymentsApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['Accounts'];

    app.post('/v1/accounts', { config: writeConfig(api, 'customers:write'), schema: { tags, summary: 'Create a connected account (onboarding)', body: createBody } }, async (request) => {
      const { body } = request;
      const accountId = newId(request, 'acct');
      const { pii, profile } = accountChange(body)(EMPTY_ACCOUNT_PII, EMPTY_ACCOUNT_PROFILE);
      await api.payments.createAccount(contextOf(request), {
        accountId, accountType: body.type ?? 'custom', country: body.country ?? 'US', defaultCurrency: (body.default_currency ?? 'usd').toLowerCase(), pii, profile,
        metadata: metadataPatchOf(body.metadata),
      });
      const objects = objectsOf(api, request);
      return objects.expand(await objects.account(accountId), body.expand);
    });

    app.get('/v1/accounts/:id', { config: { permission: 'customers:read', pii: 'answer' }, schema: { tags, summary: 'Retrieve a connected account', params: idParams, querystring: retrieveQuery } }, async (request) => {
      const objects = objectsOf(api, request);
      return objects.expand(await objects.account(request.params.id), request.query.expand);
    });

    app.post('/v1/accounts/:id', { config: writeConfig(api, 'customers:write'), schema: { tags, summary: 'Update a connected account (submit onboarding details)', params: idParams, body: updateBody } }, async (request) => {
      const { body } = request;
      await api.payments.updateAccount(contextOf(request), { accountId: request.params.id, change: accountChange(body), metadata: metadataPatchOf(body.metadata) });
      const objects = objectsOf(api, request);
      return objects.expand(await objects.account(request.params.id), body.expand);
    });

    app.get('/v1/accounts', { config: { permission: 'customers:read', pii: 'answer' }, schema: { tags, summary: 'List connected accounts, newest first', querystring: z.strictObject(listParams) } }, async (request) =>
      objectsOf(api, request).list(listQueryOf('account', request.query), '/v1/accounts', request.query.expand));
  };
}
