/**
 * The live lab end to end: `lab/run.sh --short` builds the two-node cluster from
 * namespaces, runs benign traffic, an nmap SYN scan, the IP reuse, a Log4Shell
 * attack and a reschedule, captures, writes snapshot and ground truth, and tears
 * down. Then the ground truth is checked against the capture, `harrier analyze`
 * runs on it, and nothing of the lab may be left on the machine.
 *
 * Needs root and the lab's packages (lab/install.sh); skipped otherwise, and in
 * CI (HARRIER_REQUIRE_TOOLS=1) a missing tool fails instead. Takes 30-90 s
 * depending on the machine's load; set HARRIER_SKIP_LAB=1 to skip it locally.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, skipUnlessRoot, skipWithoutProgram } from '../support/shared.js';
import { checkGroundTruth, ipToInt, loadGroundTruth, matcher, readPackets } from './gt-check.js';

function skipReason(): string | false {
  if (process.env.HARRIER_SKIP_LAB === '1') return 'skipped: HARRIER_SKIP_LAB=1';
  const root = skipUnlessRoot();
  if (root) return root;
  for (const p of ['ip', 'iptables', 'tcpdump', 'tshark', 'mergecap', 'nmap', 'dnsmasq', 'redis-server', 'dig', 'curl']) {
    const s = skipWithoutProgram(p);
    if (s) return `${s} (run lab/install.sh)`;
  }
  if (!existsSync(join(REPO_ROOT, 'dist', 'lab', 'finalize.js'))) return 'skipped: dist/lab/finalize.js missing (build first)';
  return false;
}

function labLeftovers(): string[] {
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith('hl-'));
  const procs = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n')
    .filter((l) => /labsrv\.py|\/run\/harrier-lab|hl-(p-|node-|underlay|internet)/.test(l) && !/ps -eo/.test(l));
  return [...ns.map((n) => `namespace ${n}`), ...procs.map((p) => `process ${p.trim()}`),
    ...(existsSync('/run/harrier-lab') ? ['/run/harrier-lab'] : [])];
}

test('lab --short: set-up, scan + Log4Shell, capture, ground truth, analyze, teardown', { skip: skipReason(), timeout: 480_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'harrier-lab-'));
  try {
    const t0 = Date.now();
    // Another lab run on the machine (one at a time): wait for it up to 3 min.
    const run = spawnSync('bash', [join(REPO_ROOT, 'lab', 'run.sh'), '--short', '--out', out],
      { encoding: 'utf8', timeout: 460_000, env: { ...process.env, LAB_LOCK_WAIT: '180' } });
    const secs = (Date.now() - t0) / 1000;
    assert.equal(run.status, 0, `lab/run.sh --short failed (${run.signal ?? run.status}):\n${run.stderr.slice(-3000)}`);
    process.stderr.write(`# lab --short took ${secs.toFixed(1)} s\n`);

    // Outputs.
    for (const f of ['cluster.pcap', 'ground-truth.json', 'snapshot/pods.json', 'snapshot/endpointslices.json', 'captures/underlay-node-1.pcap', 'captures/pod-frontend-lo.pcap']) {
      assert.ok(existsSync(join(out, f)), `${f} missing`);
    }
    const gt = loadGroundTruth(out);
    const names = gt.scenarios.map((s) => s.name);
    assert.ok(names.includes('log4shell') && names.includes('nmap-syn-scan'), `scenarios: ${names.join(', ')}`);
    const packets = readPackets(join(out, 'cluster.pcap'));
    assert.deepEqual(checkGroundTruth(gt, packets), []);
    // The underlay carries the overlay: VXLAN (UDP 8472) between the node addresses.
    const vx = spawnSync('tshark', ['-r', join(out, 'captures', 'underlay-node-1.pcap'), '-n', '-Y', 'udp.dstport == 8472 && ip.src == 172.30.0.11 && ip.dst == 172.30.0.12',
      '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.ok(vx.stdout.trim() !== '', 'no VXLAN packet on the underlay');

    // Harrier on the capture: flow records between the Log4Shell attacker and target.
    const bin = join(REPO_ROOT, 'bin', 'harrier.js');
    if (!existsSync(bin) || !existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'))) {
      process.stderr.write('# skipped harrier analyze: bin/harrier.js or dist/src/cli/main.js not built\n');
    } else {
      const eveFile = join(out, 'eve.json');
      const a = spawnSync(process.execPath, [bin, 'analyze', join(out, 'cluster.pcap'), '--eve', eveFile], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(a.status, 0, `harrier analyze failed: ${a.stderr.slice(-2000)}`);
      const l4s = gt.scenarios.find((s) => s.name === 'log4shell')!;
      const isSrc = matcher(l4s.src), isDst = matcher(l4s.dst);
      const records = readFileSync(eveFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event_type: string; src_ip?: string; dest_ip?: string });
      const between = records.filter((r) => r.src_ip && r.dest_ip && /^\d+\.\d+\.\d+\.\d+$/.test(r.src_ip) && /^\d+\.\d+\.\d+\.\d+$/.test(r.dest_ip) &&
        ((isSrc(ipToInt(r.src_ip)) && isDst(ipToInt(r.dest_ip))) || (isDst(ipToInt(r.src_ip)) && isSrc(ipToInt(r.dest_ip)))));
      assert.ok(between.some((r) => r.event_type === 'flow'), `no EVE flow record between ${l4s.src.ip} and ${l4s.dst.ip} (${records.length} records)`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
    // Teardown must have left nothing, even if an assertion above failed.
    const left = labLeftovers();
    if (left.length > 0) spawnSync('bash', [join(REPO_ROOT, 'lab', 'teardown.sh')]);
    assert.deepEqual(left, [], 'lab/run.sh left things behind');
  }
});
