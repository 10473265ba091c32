import { randomFillSync } from 'node:crypto';
import { validate as uuidValidate, version as uuidVersion } from 'uuid';

/** Generates time-ordered ids (UUIDv7); injected where ids are made. */
export interface IdGenerator {
  next(): string;
}

export const uuidV7Generator: IdGenerator = { next: () => uuidv7() };

export function newEventId(): string {
  return uuidv7();
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;
let lastMs = -1;
/** 42-bit counter in rand_a and the top of rand_b: ids made in the same millisecond still sort in order. */
let counter = 0;
const COUNTER_MAX = 2 ** 42 - 1;

function random4(): number {
  if (poolOffset + 4 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const value = pool.readUInt32BE(poolOffset);
  poolOffset += 4;
  return value;
}

/**
 * A time-ordered UUIDv7 (RFC 9562, method 1: a counter seeded at random each
 * millisecond keeps ids of one process monotonic). Randomness comes from a
 * pooled CSPRNG buffer: one system call per thousand ids, which is what makes
 * it several times cheaper than a call per id on the append path.
 */
export function uuidv7(): string {
  let ms = Date.now();
  if (ms <= lastMs) {
    ms = lastMs;
    counter += 1;
    if (counter > COUNTER_MAX) {
      ms += 1;
      counter = random4() * 512;
    }
  } else {
    // Seeded below 2^41 so the counter has room to grow within the millisecond.
    counter = random4() * 512 + (random4() & 0x1ff);
  }
  lastMs = ms;
  const high = Math.floor(ms / 0x1000000);
  const low = ms % 0x1000000;
  const tail = random4();
  return HEX[(high >>> 16) & 0xff]! + HEX[(high >>> 8) & 0xff]! + HEX[high & 0xff]! + HEX[(low >>> 16) & 0xff]! + '-'
    + HEX[(low >>> 8) & 0xff]! + HEX[low & 0xff]! + '-'
    + HEX[0x70 | (Math.floor(counter / 2 ** 38) & 0x0f)]! + HEX[Math.floor(counter / 2 ** 30) & 0xff]! + '-'
    + HEX[0x80 | (Math.floor(counter / 2 ** 24) & 0x3f)]! + HEX[Math.floor(counter / 2 ** 16) & 0xff]! + '-'
    + HEX[Math.floor(counter / 256) & 0xff]! + HEX[counter & 0xff]!
    + HEX[(tail >>> 24) & 0xff]! + HEX[(tail >>> 16) & 0xff]! + HEX[(tail >>> 8) & 0xff]! + HEX[tail & 0xff]!;
}

/** True for a lowercase or uppercase RFC 9562 UUID of any version. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && uuidValidate(value);
}

export function isUuidV7(value: unknown): value is string {
  return isUuid(value) && uuidVersion(value) === 7;
}

/** 16 raw bytes of a UUID, for compact storage. */
export function uuidToBytes(id: string): Buffer {
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

export function bytesToUuid(b: Uint8Array): string {
  // No helper closure here: this runs once per event read.
  return HEX[b[0]!]! + HEX[b[1]!]! + HEX[b[2]!]! + HEX[b[3]!]! + '-' + HEX[b[4]!]! + HEX[b[5]!]! + '-' + HEX[b[6]!]! + HEX[b[7]!]! + '-'
    + HEX[b[8]!]! + HEX[b[9]!]! + '-' + HEX[b[10]!]! + HEX[b[11]!]! + HEX[b[12]!]! + HEX[b[13]!]! + HEX[b[14]!]! + HEX[b[15]!]!;
}
