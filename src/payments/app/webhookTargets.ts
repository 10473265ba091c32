/**
 * Where webhooks may go. Deliveries are POSTs the server makes to URLs its
 * API users chose: server-side request forgery (SSRF) towards the server's
 * own network (loopback, private ranges, link-local cloud metadata such as
 * 169.254.169.254) is the risk. Only `http:` and `https:` URLs are ever
 * delivered to, without credentials. Private and loopback targets follow
 * DAYBOOK_WEBHOOK_PRIVATE_TARGETS: `test` (default: allowed for test-mode
 * endpoints only, for local development), `none`, or `all`. The check runs
 * when an endpoint is created or updated (the URL's host as written) and
 * again before every delivery (every address the host resolves to), which
 * narrows DNS rebinding to the gap between that lookup and fetch's own.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DaybookError } from '../../kernel/index.ts';

export type PrivateTargets = 'none' | 'test' | 'all';
export const PRIVATE_TARGETS: readonly PrivateTargets[] = ['none', 'test', 'all'];

export function privateAllowed(policy: PrivateTargets, mode: string): boolean {
  return policy === 'all' || (policy === 'test' && mode === 'test');
}

/**
 * Loopback, private, link-local, unspecified, CGNAT, unique-local: anything
 * that is not the public internet. IPv6 is judged by allowing, not by
 * refusing: only global unicast (2000::/3) passes, so every form that embeds
 * an IPv4 address (mapped `::ffff:…` however written, compatible, NAT64
 * `64:ff9b::`) is refused, as are 6to4 (2002::/16) addresses that embed a
 * private IPv4 one, Teredo (2001::/32) and documentation ranges.
 */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  const words = ipv6Words(address);
  if (words === null) return true;
  const [first, second] = words as [number, number];
  if ((first & 0xe000) !== 0x2000) return true;
  if (first === 0x2002) return isPrivateAddress(`${second >> 8}.${second & 0xff}.${words[2]! >> 8}.${words[2]! & 0xff}`);
  return first === 0x2001 && (second === 0 || second === 0x0db8);
}

/** The eight 16-bit words of an IPv6 address (a dotted IPv4 tail taken as two), or null when it is not one. */
function ipv6Words(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((word) => Number.parseInt(word, 16)));
  const start = parse(head);
  const end = parse(tail);
  const words = tail === undefined ? start : [...start, ...Array.from({ length: 8 - start.length - end.length }, () => 0), ...end];
  return words.length === 8 && words.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffff) ? words : null;
}

/** Checks a URL as written; answers Stripe's `url_invalid`-style 400 on `url`. */
export function checkWebhookUrl(url: string, mode: string, policy: PrivateTargets): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DaybookError('validation_failed', `Invalid URL: ${url}. A webhook endpoint needs an absolute http:// or https:// URL.`, {}, 'url');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DaybookError('validation_failed', `Invalid URL: webhooks are delivered over http:// or https:// only, not ${parsed.protocol}`, {}, 'url');
  }
  if (parsed.username !== '' || parsed.password !== '') throw new DaybookError('validation_failed', 'Invalid URL: it must not carry credentials (user:password@); the signature authenticates deliveries.', {}, 'url');
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const literalPrivate = host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host));
  if (literalPrivate && !privateAllowed(policy, mode)) {
    throw new DaybookError('validation_failed', `Invalid URL: ${host} is a private or loopback address, refused in ${mode} mode (DAYBOOK_WEBHOOK_PRIVATE_TARGETS=${policy}).`, {}, 'url');
  }
  return parsed;
}

/** Before a delivery: the URL again, and every address its host resolves to. Throws a reason (the attempt fails and is retried). */
export async function checkDeliveryTarget(url: string, mode: string, policy: PrivateTargets): Promise<URL> {
  const parsed = checkWebhookUrl(url, mode, policy);
  if (privateAllowed(policy, mode)) return parsed;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) !== 0 ? [{ address: host }] : await lookup(host, { all: true });
  const blocked = addresses.find((entry) => isPrivateAddress(entry.address));
  if (blocked !== undefined) throw new Error(`${host} resolves to the private address ${blocked.address}, refused in ${mode} mode`);
  return parsed;
}
