/**
 * `harrier analyze CAPTURE --kubeconfig FILE` end to end: the real CLI in a
 * child process, the fake API server in this process, a capture built here.
 * The watch's initial list completes before packets are read, so the flow
 * records name the pods; with the API server down the run still succeeds,
 * with one clear warning line and `unknown` identities.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/shared.js';
import { FakeApiServer, node, pod, replicaSet, service } from './fake-apiserver.js';
import { tcpSession, type TimedFrame } from './packets.js';

function pcap(frames: TimedFrame[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const recs = frames.map(({ frame, t }) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(t), 0);
    r.writeUInt32LE(Math.round((t - Math.floor(t)) * 1e6), 4);
    r.writeUInt32LE(frame.length, 8);
    r.writeUInt32LE(frame.length, 12);
    return Buffer.concat([r, frame]);
  });
  return Buffer.concat([head, ...recs]);
}

function harrier(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'harrier.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

interface Rec {
  event_type: string;
  src_ip: string;
  k8s?: { cluster: string; src: Record<string, unknown>; dest: Record<string, unknown> };
}

test('analyze --kubeconfig: identities from a live list/watch; API server down → one warning, unknown, exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-cli-live-'));
  const server = new FakeApiServer();
  try {
    await server.start();
    const now = Math.floor(Date.now() / 1000);
    server.apply(node('node-1', '172.30.0.11', '10.244.1.0/24'));
    server.apply(service('cart', '10.96.0.10'));
    server.apply(replicaSet('web-6f7d8', 'web'));
    server.apply(pod({ name: 'web-6f7d8-q2x9z', uid: 'u-web', ip: '10.244.1.7', created: now - 300, owner: { kind: 'ReplicaSet', name: 'web-6f7d8' } }));
    const kubeconfig = server.writeKubeconfig(dir);
    const cap = join(dir, 'in.pcap');
    writeFileSync(cap, pcap([...tcpSession('10.244.1.7', 43000, '10.96.0.10', 80, now - 60), ...tcpSession('10.244.1.7', 43001, '10.99.1.1', 80, now - 59)]));
    const cfg = join(dir, 'harrier.yaml');
    writeFileSync(cfg, 'k8s:\n  cluster: live-test\n  service-cidrs: [10.96.0.0/12]\n  sync-timeout: 2\n');
    const eve = join(dir, 'eve.json');
    const stats = join(dir, 'stats.json');
    const ok = await harrier(['analyze', cap, '--kubeconfig', kubeconfig, '--config', cfg, '--eve', eve, '--stats', stats, '--quiet']);
    assert.equal(ok.code, 0, ok.stderr);
    const flows = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec).filter((r) => r.event_type === 'flow');
    assert.equal(flows.length, 2);
    for (const f of flows) {
      assert.equal(f.k8s!.cluster, 'live-test');
      assert.equal(f.k8s!.src.pod, 'web-6f7d8-q2x9z');
      assert.deepEqual(f.k8s!.src.workload, { kind: 'Deployment', name: 'web' });
    }
    assert.deepEqual(flows.map((f) => f.k8s!.dest).sort((a, b) => String(a.service).localeCompare(String(b.service))), [{ kind: 'service' }, { kind: 'service', namespace: 'shop', service: 'cart' }].sort((a, b) => String(a.service).localeCompare(String(b.service))));
    // The list happened before any packet; watches were opened; counters reported.
    assert.ok(server.requests.some((r) => r.path === '/api/v1/pods' && r.query.limit));
    const c = JSON.parse(readFileSync(stats, 'utf8')) as Record<string, number>;
    assert.equal(c['harrier.k8s.watch.synced'], 1);
    assert.ok(c['harrier.k8s.watch.pods.stale_sec'] >= 0);

    // Down: nothing listens on the kubeconfig's port any more.
    await server.stop();
    writeFileSync(join(dir, 'fast.yaml'), 'k8s:\n  sync-timeout: 1\n');
    const d = await harrier(['analyze', cap, '--kubeconfig', kubeconfig, '--config', join(dir, 'fast.yaml'), '--eve', eve, '--quiet']);
    assert.equal(d.code, 0, d.stderr);
    const lines = d.stderr.trim().split('\n');
    assert.ok(lines.some((l) => /^harrier: warning: k8s: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+ \(econnrefused\)/.test(l)), d.stderr);
    assert.ok(lines.some((l) => /did not complete within 1 s/.test(l)), d.stderr);
    assert.ok(!/\n\s+at /.test(d.stderr), 'no stack trace');
    const recs = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec).filter((r) => r.event_type === 'flow');
    assert.ok(recs.length === 2 && recs.every((r) => r.k8s!.src.kind === 'unknown' && r.k8s!.dest.kind === 'unknown'));

    // A kubeconfig that cannot be read: a one-line error with its code, exit 1.
    const bad = await harrier(['analyze', cap, '--kubeconfig', join(dir, 'missing.yaml'), '--quiet']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^harrier: cannot load kubeconfig .*\[HARRIER_ERR_K8S_KUBECONFIG\]\n$/);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
