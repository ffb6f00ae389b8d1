/**
 * Validation of EVE records against Suricata's own JSON schema
 * (../shared/data/eve-schema). Harrier's `k8s` block is set aside first: it is
 * Harrier's addition and the only field Suricata's schema does not know.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { sharedPath } from './shared.js';

let validator: ValidateFunction | null = null;

export const EVE_SCHEMA = 'eve-schema/suricata-7.0.4.schema.json';

/** Returns the schema errors of one record as text, or [] when it validates. */
export function eveSchemaErrors(record: Record<string, unknown>): string[] {
  if (!validator) {
    const path = sharedPath(EVE_SCHEMA);
    if (!path) throw new Error(`${EVE_SCHEMA} missing`);
    const ajv = new Ajv({ strict: false, allErrors: true });
    validator = ajv.compile(JSON.parse(readFileSync(path, 'utf8')) as object);
  }
  const { k8s: _k8s, ...rest } = record;
  if (validator(rest)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${e.params ? JSON.stringify(e.params) : ''}`);
}
