import { FailedError } from '../errors.js';
import type { SecretInfo, SecretRecord } from './types.js';

/** Builds a record from raw bytes: UTF-8 text stays text, anything else is kept as base64. */
export function newRecord(value: Uint8Array | string, kind: string, now: Date, fields: Record<string, string> = {}): SecretRecord {
  const at = now.toISOString();
  return { kind, ...encodeValue(value), fields, created: at, updated: at };
}

export function encodeValue(value: Uint8Array | string): Pick<SecretRecord, 'value' | 'encoding'> {
  if (typeof value === 'string') return { value };
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const text = buf.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buf) ? { value: text } : { value: buf.toString('base64'), encoding: 'base64' };
}

/** The record's value as the exact bytes that were stored. */
export function valueBytes(record: Pick<SecretRecord, 'value' | 'encoding'>): Buffer {
  return Buffer.from(record.value, record.encoding === 'base64' ? 'base64' : 'utf8');
}

export function info(name: string, record: SecretRecord): SecretInfo {
  return { name, kind: record.kind, created: record.created, updated: record.updated };
}

/** Checks the shape of a record read from storage (a file or keychain item someone may have edited). */
export function parseRecord(raw: unknown, where: string): SecretRecord {
  const r = raw as Partial<SecretRecord> | null;
  if (
    !r || typeof r !== 'object' || typeof r.value !== 'string' || typeof r.kind !== 'string' ||
    (r.encoding !== undefined && r.encoding !== 'base64') ||
    (r.fields !== undefined && (typeof r.fields !== 'object' || r.fields === null || Object.values(r.fields).some((v) => typeof v !== 'string')))
  ) {
    throw new FailedError(`${where} is not a keysmith record`, undefined, 'ERR_VAULT_BAD_RECORD');
  }
  const created = typeof r.created === 'string' ? r.created : new Date(0).toISOString();
  const record: SecretRecord = {
    kind: r.kind,
    value: r.value,
    fields: r.fields ?? {},
    created,
    updated: typeof r.updated === 'string' ? r.updated : created,
  };
  if (r.encoding) record.encoding = r.encoding;
  if (r.meta && typeof r.meta === 'object') record.meta = r.meta;
  return record;
}
