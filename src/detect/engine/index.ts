/** The signature engine's public surface. */
export { SignatureEngine } from './engine.js';
export type { SignatureEngineOptions, EngineLoadStats, EngineInput } from './engine.js';
export { compileRuleSet } from './compile.js';
export type { CompiledRule, CompiledRuleSet, EngineRules } from './compile.js';
export { loadSignatureEngine, loadSummaryLine } from './load.js';
export type { LoadedSignatures } from './load.js';
export { BUFFERS, bufferDecl, appProtoMatches } from './buffers.js';
export type { BufferDecl, BufferSide } from './buffers.js';
