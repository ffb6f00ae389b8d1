/**
 * The one error the rule front end throws for a rule it cannot load. Its
 * message is the reason alone (no file or line): `rules check` and the loader
 * add where the rule came from.
 */
import { HarrierError } from '../../errors.js';

export class RuleParseError extends HarrierError {
  constructor(reason: string) {
    super('HARRIER_ERR_RULE_PARSE', reason);
    this.name = 'RuleParseError';
  }
}

/** Throws a RuleParseError; typed `never` so callers can use it in expressions. */
export function fail(reason: string): never {
  throw new RuleParseError(reason);
}
