// `harrier rules check` end to end: one line per rule that cannot be loaded
// (FILE:LINE: sid N: REASON), then "loaded N, failed M"; exit 0 when
// something loaded, 1 when nothing did or a path is unreadable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/shared.js';

const harrier = (args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin/harrier.js'), ...args], { encoding: 'utf8', timeout: 30000 });

test('rules check lists failures as FILE:LINE: sid N: REASON and ends with the summary line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-rules-cli-'));
  try {
    const f = join(dir, 'x.rules');
    writeFileSync(
      f,
      [
        'alert http $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:"ok"; flow:established,to_server; http.uri; content:"/x"; sid:1;)',
        'alert tcp any any -> any any (msg:"bad hex"; content:"|4|"; sid:2;)',
        '',
        'alert tcp $NOT_DEFINED any -> any any (msg:"bad var"; sid:3;)',
        'garbage line without options',
      ].join('\n'),
    );
    const cfg = join(dir, 'vars.yaml');
    writeFileSync(cfg, 'vars:\n  address-groups:\n    HOME_NET: "[10.0.0.0/8]"\n    EXTERNAL_NET: any\n  port-groups:\n    HTTP_PORTS: 80\n');
    const r = harrier(['rules', 'check', f, '--config', cfg]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines, [
      `${f}:2: sid 2: content: odd number of hex digits in "|4|"`,
      `${f}:4: sid 3: unknown address variable $NOT_DEFINED`,
      `${f}:5: sid ?: no option list: a rule needs "(…)" after its header`,
      'loaded 1, failed 3',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs the CLI in this process (spawning a Node per case is slow on a loaded CI machine), capturing its output. */
async function inProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const { main } = await import('../../src/cli/main.js');
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write;
  try {
    const status = await main(['node', 'harrier', ...args]);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

test('rules check exits 1 when nothing loads or a path is unreadable, 2 on bad usage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-rules-cli-'));
  try {
    const f = join(dir, 'bad.rules');
    writeFileSync(f, 'alert tcp any any -> any any (msg:"no sid";)\n');
    const r = await inProcess(['rules', 'check', f]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /sid \?: rule has no sid\nloaded 0, failed 1\n$/);
    assert.match(r.stderr, /^harrier: no rule could be loaded \[HARRIER_ERR_RULE_PARSE\]\n$/);
    const m = await inProcess(['rules', 'check', join(dir, 'missing.rules')]);
    assert.equal(m.status, 1);
    assert.match(m.stderr, /^harrier: cannot read rules .*missing\.rules: ENOENT \[HARRIER_ERR_INPUT_OPEN\]\n$/);
    assert.equal((await inProcess(['rules', 'check'])).status, 2, 'missing argument is a usage error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
