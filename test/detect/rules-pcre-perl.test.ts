// Differential test of the PCRE → JavaScript translation: every pcre of ET
// Open 2024-04 (flags i s m x) is run by Perl (whose regex dialect PCRE
// follows) and by the translated JavaScript RegExp on the same subjects —
// the pattern's own literal text, the rule's contents, and generic HTTP-ish
// strings — and the match positions must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitRuleFile, translatePcre } from '../../src/detect/rules/index.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';

const PERL = `
use strict; use warnings; no warnings; use JSON::PP;
local $/; my $j = decode_json(<STDIN>); my @res;
for my $c (@$j) {
  my $f = $c->{flags}; my $p = $c->{pat};
  my $re = eval { $f ne '' ? qr/(?$f)$p/ : qr/$p/ };
  if (!$re) { push @res, undef; next; }
  my @r;
  for my $s (@{$c->{subjects}}) {
    my $b = $s; utf8::downgrade($b, 1) or do { push @r, 'wide'; next };
    push @r, ($b =~ $re) ? "$-[0]:$+[0]" : '-';
  }
  push @res, \\@r;
}
print encode_json(\\@res);`;

const GENERIC = [
  'GET /index.php?id=1&user=admin HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n',
  '/wp-admin/admin-ajax.php?action=test',
  '\x00\x01\x02ABCDEFabcdef0123456789',
  'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)',
  'cmd.exe /c whoami',
  '${jndi:ldap://x.y/a}',
];

interface Case {
  pat: string;
  flags: string;
  src: string;
  jsFlags: string;
  subjects: string[];
}

test('translated ET Open pcres match where Perl matches, at the same positions', { skip: skipWithoutShared('rules/et-open-2024-04') || skipWithoutProgram('perl') }, () => {
  const dir = sharedPath('rules/et-open-2024-04')!;
  const cases: Case[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.rules'))) {
    for (const rec of splitRuleFile(readFileSync(join(dir, f), 'latin1'))) {
      if (rec.disabled) continue;
      const contents = [...rec.text.matchAll(/content:!?"((?:[^"\\]|\\.)*)"/g)].map((m) =>
        m[1]!.replace(/\|([0-9a-fA-F ]+)\|/g, (_, h: string) => Buffer.from(h.replace(/ /g, ''), 'hex').toString('latin1')).replace(/\\(.)/g, '$1'),
      );
      for (const m of rec.text.matchAll(/pcre:!?"\/((?:[^"\\]|\\.)*)\/([a-zA-Z]*)"/g)) {
        const pat = m[1]!;
        const flags = m[2]!;
        if (/[AEG]/.test(flags)) continue; // no Perl counterpart in a qr// prefix
        const opt = { caseless: flags.includes('i'), dotall: flags.includes('s'), multiline: flags.includes('m'), extended: flags.includes('x'), dollarEndOnly: false, ungreedy: false };
        let t;
        try {
          t = translatePcre(pat, opt);
        } catch {
          continue; // refused patterns are counted by rules-et-open
        }
        const lit = pat
          .replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
          .replace(/\\(.)/g, '$1')
          .replace(/[\^$()?*+[\]{}|]/g, '');
        const subjects = [lit, contents.join(''), contents.join('\r\n'), `${lit}\n`, `x${lit.toUpperCase()}`, lit.replace(/[0-9]/g, '7'), ...GENERIC];
        cases.push({ pat, flags: flags.replace(/[^imsx]/g, ''), src: t.source, jsFlags: t.jsFlags, subjects });
      }
    }
  }
  const r = spawnSync('perl', ['-e', PERL], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const perl = JSON.parse(r.stdout) as (string[] | null)[];
  let agree = 0;
  let matched = 0;
  const differ: string[] = [];
  cases.forEach((c, i) => {
    const p = perl[i];
    if (p === null || p === undefined) return;
    const re = new RegExp(c.src, c.jsFlags);
    c.subjects.forEach((s, k) => {
      if (p[k] === 'wide') return;
      const mm = re.exec(s);
      const js = mm === null ? '-' : `${mm.index}:${mm.index + mm[0].length}`;
      if (js === p[k]) {
        agree++;
        if (js !== '-') matched++;
      } else differ.push(`/${c.pat}/${c.flags} on ${JSON.stringify(s).slice(0, 80)}: js ${js}, perl ${p[k]}`);
    });
  });
  console.log(`pcre differential: ${cases.length} patterns, ${agree} subject runs agree (${matched} of them matches), ${differ.length} differ`);
  assert.ok(matched > 1000, 'the subjects exercise matches, not only misses');
  assert.deepEqual(differ.slice(0, 20), []);
});
