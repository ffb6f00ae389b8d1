/**
 * The one table of behaviour detector signature ids (gid 9000002,
 * HARRIER_GID.BEHAVIOUR). Sids 1–99 are the detectors that need no baseline
 * (this folder); 100–199 are left to the baseline anomalies. A sid never
 * changes meaning once released: SIEM rules key on it. Categories are
 * Suricata's classification texts and the severity their priority, so
 * behaviour alerts sort with signature alerts.
 */
export interface SidEntry {
  readonly sid: number;
  readonly signature: string;
  readonly category: string;
  readonly severity: number;
}

const SCAN = 'Detection of a Network Scan';
const RECON = 'Attempted Information Leak';
const DOS = 'Attempted Denial of Service';
const USER = 'Unsuccessful User Privilege Gain';
const BAD = 'Potentially Bad Traffic';
const POLICY = 'Potential Corporate Privacy Violation';
const MINING = 'Crypto Currency Mining Activity Detected';
const C2 = 'Malware Command and Control Activity Detected';

export const SIDS = {
  'scan.vertical': { sid: 1, signature: 'HARRIER BEHAVIOUR vertical port scan', category: SCAN, severity: 3 },
  'scan.horizontal': { sid: 2, signature: 'HARRIER BEHAVIOUR horizontal sweep (one port, many hosts)', category: SCAN, severity: 3 },
  'scan.probe': { sid: 3, signature: 'HARRIER BEHAVIOUR stealth or OS-fingerprint TCP probes', category: RECON, severity: 2 },
  'scan.web': { sid: 4, signature: 'HARRIER BEHAVIOUR web content probing (many distinct URIs not found, or path traversal)', category: RECON, severity: 2 },
  'flood.syn': { sid: 10, signature: 'HARRIER BEHAVIOUR SYN flood (half-open connections)', category: DOS, severity: 2 },
  'flood.udp': { sid: 11, signature: 'HARRIER BEHAVIOUR UDP flood', category: DOS, severity: 2 },
  'flood.icmp': { sid: 12, signature: 'HARRIER BEHAVIOUR ICMP flood', category: DOS, severity: 2 },
  'bruteforce.http': { sid: 20, signature: 'HARRIER BEHAVIOUR HTTP authentication failures burst', category: USER, severity: 1 },
  'bruteforce.ssh': { sid: 21, signature: 'HARRIER BEHAVIOUR SSH brute force (short sessions after key exchange)', category: USER, severity: 1 },
  'bruteforce.login': { sid: 22, signature: 'HARRIER BEHAVIOUR FTP/SMTP login failures burst', category: USER, severity: 1 },
  'dns.tunnel': { sid: 30, signature: 'HARRIER BEHAVIOUR DNS tunnelling', category: C2, severity: 1 },
  'icmp.tunnel': { sid: 31, signature: 'HARRIER BEHAVIOUR ICMP tunnelling', category: C2, severity: 1 },
  beacon: { sid: 40, signature: 'HARRIER BEHAVIOUR periodic beaconing', category: C2, severity: 2 },
  'p2p.bittorrent': { sid: 50, signature: 'HARRIER BEHAVIOUR BitTorrent peer-to-peer', category: POLICY, severity: 3 },
  'p2p.fanout': { sid: 51, signature: 'HARRIER BEHAVIOUR peer-to-peer UDP fan-out', category: POLICY, severity: 3 },
  'mining.stratum': { sid: 60, signature: 'HARRIER BEHAVIOUR crypto-mining protocol (stratum / getwork)', category: MINING, severity: 2 },
  'exfil.volume': { sid: 70, signature: 'HARRIER BEHAVIOUR large outbound volume to one external destination', category: BAD, severity: 2 },
} as const satisfies Record<string, SidEntry>;

export type BehaviourDetectorName = keyof typeof SIDS;
