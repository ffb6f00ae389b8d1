/**
 * Target-based overlap policies: which copy of overlapping TCP data a host
 * would keep, so that the IDS reassembles what the receiver saw
 * (Novak & Sturges, "Target-Based TCP Stream Reassembly", 2007).
 *
 * Decisions follow Suricata's IDS-mode rules (stream-tcp-list.c) for a new
 * segment N overlapping a segment O already held, by where N starts and ends
 * relative to O:
 *  - first, vista: keep O.         - last: take N.
 *  - bsd, hpux10, irix, macos, windows, windows2k3: take N only when it starts
 *    before O.
 *  - linux: take N when it starts before O, or starts with O and ends beyond.
 *  - old-linux: as linux, and also when it starts with O and ends with it.
 *  - solaris, hpux11: take N when it starts before O and ends at/after O's end,
 *    starts with O and ends at/after O's end, or starts after O and ends
 *    beyond it.
 * Data already delivered to the application is never replaced (what a parser
 * has seen cannot be unseen); overlaps with it keep the first copy.
 *
 * The default is 'bsd', Suricata's default policy (OS_POLICY_DEFAULT) and
 * the closest to what `tshark -z follow,tcp,raw` shows: Wireshark appends a
 * segment that starts at the next expected byte whole (so an earlier-starting
 * segment wins over held data), keeps the first copy of bytes already shown,
 * and among held segments starting at the same byte takes the first to
 * arrive. (One case still differs: when a held segment was partly overwritten
 * by a later one and a third covers the rest, tshark resumes with the oldest
 * held segment where we resolved the overlap pairwise on arrival.)
 */

export type OverlapPolicy =
  | 'first'
  | 'last'
  | 'bsd'
  | 'linux'
  | 'old-linux'
  | 'windows'
  | 'windows2k3'
  | 'vista'
  | 'solaris'
  | 'hpux10'
  | 'hpux11'
  | 'irix'
  | 'macos';

export const OVERLAP_POLICIES: readonly OverlapPolicy[] = [
  'first',
  'last',
  'bsd',
  'linux',
  'old-linux',
  'windows',
  'windows2k3',
  'vista',
  'solaris',
  'hpux10',
  'hpux11',
  'irix',
  'macos',
];

/** Policies grouped by identical decisions (numeric for the hot path). */
export const enum PolicyGroup {
  FIRST = 0,
  LAST = 1,
  BSD = 2,
  LINUX = 3,
  OLD_LINUX = 4,
  SOLARIS = 5,
}

export function policyGroup(p: OverlapPolicy): PolicyGroup {
  switch (p) {
    case 'first':
    case 'vista':
      return PolicyGroup.FIRST;
    case 'last':
      return PolicyGroup.LAST;
    case 'linux':
      return PolicyGroup.LINUX;
    case 'old-linux':
      return PolicyGroup.OLD_LINUX;
    case 'solaris':
    case 'hpux11':
      return PolicyGroup.SOLARIS;
    default:
      return PolicyGroup.BSD;
  }
}

/**
 * True when the new segment [ns, ne) wins over the held one [os, oe) in their
 * overlap. Positions are offsets relative to one base (no wrap-around).
 */
export function newDataWins(g: PolicyGroup, ns: number, ne: number, os: number, oe: number): boolean {
  switch (g) {
    case PolicyGroup.FIRST:
      return false;
    case PolicyGroup.LAST:
      return true;
    case PolicyGroup.BSD:
      return ns < os;
    case PolicyGroup.LINUX:
      return ns < os || (ns === os && ne > oe);
    case PolicyGroup.OLD_LINUX:
      return ns < os || (ns === os && ne >= oe);
    case PolicyGroup.SOLARIS:
      return ne > oe || (ne === oe && ns <= os);
    default:
      return false;
  }
}
