import { v7 as uuidv7, validate as uuidValidate, version as uuidVersion } from 'uuid';

/** Generates time-ordered ids (UUIDv7); injected where ids are made. */
export interface IdGenerator {
  next(): string;
}

export const uuidV7Generator: IdGenerator = { next: () => uuidv7() };

export function newEventId(): string {
  return uuidv7();
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

export function bytesToUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
