/**
 * Test cards as Stripe documents them (pure): the magic PaymentMethod ids
 * (`pm_card_visa` …), the card tokens (`tok_visa` …) and raw test numbers,
 * each with the card it stands for and how an authorization of it behaves.
 * Only the last four digits of a number are ever kept.
 */
import { DaybookError } from '../../kernel/errors.ts';

export type DeclineCode = 'generic_decline' | 'insufficient_funds' | 'lost_card' | 'stolen_card' | 'fraudulent';

/** What authorizing the card does. */
export type CardBehavior =
  | { readonly kind: 'approve' }
  | { readonly kind: 'decline'; readonly declineCode: DeclineCode }
  /** Approved; the charge is disputed after capture (the disputes issue acts on it). */
  | { readonly kind: 'dispute' }
  /** Approved; the funds go straight to the available balance. */
  | { readonly kind: 'bypass_pending' };

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'unknown';

export type CardDetails = {
  readonly brand: CardBrand;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly funding: 'credit' | 'debit';
  readonly country: string;
  /** Same card number, same fingerprint (derived from brand and last four here: test numbers only). */
  readonly fingerprint: string;
};

export type TestCard = { readonly card: CardDetails; readonly behavior: CardBehavior };

const APPROVE: CardBehavior = { kind: 'approve' };
const decline = (declineCode: DeclineCode): CardBehavior => ({ kind: 'decline', declineCode });

/** Behaviour by full test number; any other valid number is approved. */
const NUMBER_BEHAVIORS: Readonly<Record<string, CardBehavior>> = {
  '4000000000000002': decline('generic_decline'),
  '4000000000009995': decline('insufficient_funds'),
  '4000000000009987': decline('lost_card'),
  '4000000000009979': decline('stolen_card'),
  '4000000000000259': { kind: 'dispute' },
  '4000000000000077': { kind: 'bypass_pending' },
};

/** The magic ids and tokens, by the number they stand for. */
const TOKEN_NUMBERS: Readonly<Record<string, string>> = {
  visa: '4242424242424242',
  visa_debit: '4000056655665556',
  mastercard: '5555555555554444',
  amex: '378282246310005',
  discover: '6011111111111117',
  chargeDeclined: '4000000000000002',
  chargeDeclinedInsufficientFunds: '4000000000009995',
  chargeDeclinedLostCard: '4000000000009987',
  chargeDeclinedStolenCard: '4000000000009979',
  createDispute: '4000000000000259',
  bypassPending: '4000000000000077',
};

export const DECLINE_MESSAGES: Readonly<Record<DeclineCode, string>> = {
  generic_decline: 'Your card was declined.',
  insufficient_funds: 'Your card has insufficient funds.',
  lost_card: 'Your card was declined.',
  stolen_card: 'Your card was declined.',
  fraudulent: 'Your card was declined.',
};

/** The test card of a magic PaymentMethod id (`pm_card_visa`) or token (`tok_visa`), or undefined. */
export function testCardOfToken(token: string, expYear: number): TestCard | undefined {
  const match = /^(?:pm_card_|tok_)(.+)$/.exec(token);
  const number = match === null ? undefined : TOKEN_NUMBERS[match[1]!];
  return number === undefined ? undefined : cardOfDigits(number, 12, expYear);
}

/** The card of a raw number; refuses numbers that fail the Luhn check (`incorrect_number`, a card error). */
export function cardOfDigits(rawNumber: string, expMonth: number, expYear: number): TestCard {
  const number = rawNumber.replaceAll(' ', '');
  if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
    throw new DaybookError('incorrect_number', 'Your card number is incorrect.', {}, 'card[number]');
  }
  if (!Number.isInteger(expMonth) || expMonth < 1 || expMonth > 12) {
    throw new DaybookError('validation_failed', "Your card's expiration month is invalid.", {}, 'card[exp_month]');
  }
  const brand = brandOf(number);
  const last4 = number.slice(-4);
  const card: CardDetails = {
    brand, last4, expMonth, expYear, funding: number === TOKEN_NUMBERS.visa_debit ? 'debit' : 'credit', country: 'US', fingerprint: `fp_${brand}${last4}`,
  };
  return { card, behavior: NUMBER_BEHAVIORS[number] ?? APPROVE };
}

function brandOf(number: string): CardBrand {
  if (number.startsWith('4')) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  if (/^(6011|65)/.test(number)) return 'discover';
  return 'unknown';
}

function luhnValid(number: string): boolean {
  let sum = 0;
  for (let index = 0; index < number.length; index += 1) {
    let digit = number.charCodeAt(number.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
