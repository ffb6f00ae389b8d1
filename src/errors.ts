/**
 * Errors with stable codes.
 *
 * Users script against Harrier's messages, so every error the product reports
 * carries a code that never changes meaning (`HARRIER_ERR_*`), listed with its
 * meaning in docs/reference/errors.md; a test keeps the two in sync. The CLI
 * prints `harrier: <message>` on one line and exits non-zero; it never prints
 * a stack trace for a HarrierError.
 */
export const ERROR_CODES = {
  HARRIER_ERR_USAGE: 'bad command-line usage (unknown option, missing argument)',
  HARRIER_ERR_INPUT_OPEN: 'an input file could not be opened or read',
  HARRIER_ERR_CAPTURE_FORMAT: 'the input is not a pcap or pcapng capture, or its header is corrupt',
  HARRIER_ERR_LINKTYPE: 'the capture uses a link type Harrier does not decode',
  HARRIER_ERR_CONFIG: 'the configuration file is unreadable or invalid',
  HARRIER_ERR_OUTPUT: 'an output (EVE file, pcap folder) could not be written',
  HARRIER_ERR_INTEL_STORE: 'a compiled intel store file is not a Harrier store, has another version, or is truncated',
  HARRIER_ERR_WORKER: 'a pipeline worker thread failed (its message says which and why); the run stops',
  HARRIER_ERR_K8S_SNAPSHOT: 'a Kubernetes snapshot path is unreadable or a snapshot file is not JSON',
  HARRIER_ERR_K8S_KUBECONFIG: 'a kubeconfig file is unreadable or invalid, or names no current cluster with a server',
  HARRIER_ERR_RULE_PARSE: 'a rule could not be parsed or uses something Harrier cannot evaluate (message gives the reason)',
  HARRIER_ERR_BEHAVIOUR_STATE: 'the behaviour baseline state file is not JSON, not a Harrier baseline file, of a newer version, or learned with another bucket size',
  HARRIER_ERR_RULES_UPDATE: 'a rule update failed (download, size limit, unpacking, or the new set does not load); the current rule set is kept',
  HARRIER_ERR_INTEL_UPDATE: 'an intel update could compile no feed at all (every download failed or was refused and no earlier copy exists); the current store is kept',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HarrierError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'HarrierError';
  }
}
