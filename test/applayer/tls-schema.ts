/**
 * A minimal JSON-schema checker for the subset Suricata's EVE schema uses
 * under `tls` (type, properties, additionalProperties:false, items, pattern,
 * $ref into $defs). Returns the list of violations (empty = valid).
 */
import { readFileSync } from 'node:fs';

type Schema = Record<string, unknown>;

export function loadEveTlsSchema(path: string): { root: Schema; tls: Schema } {
  const root = JSON.parse(readFileSync(path, 'utf8')) as Schema;
  const props = root.properties as Record<string, Schema>;
  return { root, tls: props.tls! };
}

export function validate(root: Schema, schema: Schema, value: unknown, at = '$'): string[] {
  const errs: string[] = [];
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/$defs/', '');
    const def = (root.$defs as Record<string, Schema>)[name];
    if (def === undefined) return [`${at}: unknown $ref ${schema.$ref}`];
    return validate(root, def, value, at);
  }
  const t = schema.type;
  const typeOf = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  if (typeof t === 'string' && !(t === typeOf || (t === 'number' && typeOf === 'integer'))) {
    return [`${at}: expected ${t}, got ${typeOf}`];
  }
  if (typeof schema.pattern === 'string' && typeof value === 'string' && !new RegExp(schema.pattern).test(value)) {
    errs.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
  if (typeOf === 'object') {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const ps = props[k];
      if (ps === undefined) {
        if (schema.additionalProperties === false) errs.push(`${at}.${k}: not allowed by the schema`);
        continue;
      }
      errs.push(...validate(root, ps, v, `${at}.${k}`));
    }
  }
  if (typeOf === 'array' && schema.items !== undefined) {
    (value as unknown[]).forEach((v, i) => errs.push(...validate(root, schema.items as Schema, v, `${at}[${i}]`)));
  }
  return errs;
}
