/**
 * The rule front end's public surface: parse one rule, load rule files and
 * folders with their classification/reference/threshold files.
 */
export type * from './ast.js';
export { parseRule, HEADER_PROTOCOLS } from './parser.js';
export type { RuleParseContext, ClassType } from './builder.js';
export { RuleParseError } from './errors.js';
export { resolveAddress, resolvePorts } from './address.js';
export type { VarTable } from './address.js';
export { splitRuleFile } from './lexer.js';
export type { RuleRecord } from './lexer.js';
export { translatePcre } from './regex.js';
export { loadRules } from './loader.js';
export type { LoadRulesOptions, RuleSet } from './loader.js';
export { parseClassificationConfig, parseReferenceConfig, parseThresholdConfig, emptyThresholdConfig } from './config-files.js';
export type { ThresholdConfig, SuppressEntry, ThresholdEntry, RateFilterEntry } from './config-files.js';
