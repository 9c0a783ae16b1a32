import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { AllowedRole } from '../src/broker/role-mapping.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { escapeHtml, html } from '../src/http/html.ts';
import {
  credentialProcessProfile,
  credentialsFileProfile,
  powerShellVariables,
  shellExports,
} from '../src/portal/credential-snippets.ts';
import { groupRolesByAccount } from '../src/portal/role-groups.ts';

/** The portal's building blocks: HTML escaping, the credential snippets' quoting, account grouping, config. */

const HOSTILE = `a'b"c$(touch /tmp/kw-pwned)\`id\`;\n[x]\r<script>&`;

describe('html template', () => {
  it('escapes every interpolated value, nested templates excepted', () => {
    const name = '<img src=x onerror=alert(1)>';
    const page = html`<p title="${`"${name}'`}">${name}</p>${html`<b>${'&'}</b>`}${[1, html`<i>2</i>`, null, false]}`;
    assert.equal(
      page.toString(),
      '<p title="&quot;&lt;img src=x onerror=alert(1)&gt;&#39;">&lt;img src=x onerror=alert(1)&gt;</p><b>&amp;</b>1<i>2</i>',
    );
    assert.equal(escapeHtml('`'), '&#96;');
  });
});

describe('credential snippets', () => {
  const credentials = {
    accessKeyId: 'ASIAEXAMPLE',
    secretAccessKey: HOSTILE,
    sessionToken: 'token/with+chars=',
    expiration: new Date('2030-01-01T00:00:00Z'),
  };

  it('quotes shell export values so that a shell reads them back literally', () => {
    const script = `${shellExports(credentials)}\nprintf '%s' "$AWS_SECRET_ACCESS_KEY"`;
    const echoed = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: {} });
    assert.equal(echoed, HOSTILE);
  });

  it('writes PowerShell single-quoted strings with quotes doubled', () => {
    const text = powerShellVariables({ ...credentials, secretAccessKey: "it's" });
    assert.match(text, /^\$Env:AWS_SECRET_ACCESS_KEY = 'it''s'$/m);
  });

  it('keeps INI profiles on one line per value', () => {
    const text = credentialsFileProfile('my role', credentials);
    assert.equal(text.split('\n').length, 4);
    assert.match(text, /^\[my-role\]\n/);
  });

  it('writes the credential_process profile with shell-safe arguments', () => {
    assert.equal(
      credentialProcessProfile({ command: 'keywarden', url: 'https://kw.example.com', role: 'admin' }),
      '[profile admin]\ncredential_process = keywarden credential-process --url https://kw.example.com --role admin',
    );
  });
});

describe('role groups', () => {
  const role = (name: string, account: string | undefined): AllowedRole => ({
    name,
    arn: `arn:aws:iam::${account ?? '000000000000'}:role/${name}`,
    displayName: name,
    account,
    maxSessionDuration: 3600,
  });

  it('groups by account, names accounts from config, and keeps the roles in preference order', () => {
    const groups = groupRolesByAccount(
      [role('b', '111111111111'), role('a', '222222222222'), role('c', '111111111111'), role('d', 'sandbox')],
      { '111111111111': 'Production' },
    );
    assert.deepEqual(
      groups.map((group) => [group.heading, group.accountId, group.roles.map((r) => r.name)]),
      [
        ['Account 222222222222', '222222222222', ['a']],
        ['Production', '111111111111', ['b', 'c']],
        ['sandbox', undefined, ['d']],
      ],
    );
  });
});

describe('portal config', () => {
  it('refuses plain-http federation and console URLs in production, and bad account ids anywhere', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({
        env: { NODE_ENV: 'production' },
        overrides: {
          portal: { federationEndpoint: 'http://federation.example', consoleUrl: 'http://console.example' },
        },
      });
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      problems = error.problems;
    }
    assert.ok(
      problems.some((problem) => problem.startsWith('portal.federationEndpoint')),
      problems.join('\n'),
    );
    assert.ok(problems.some((problem) => problem.startsWith('portal.consoleUrl')));
    assert.throws(
      () =>
        loadConfig({ env: { NODE_ENV: 'test' }, overrides: { portal: { accounts: { '12345': 'Short' } } } }),
      /portal\.accounts/,
    );
    const defaults = loadConfig({ env: { NODE_ENV: 'test' } }).portal;
    assert.equal(defaults.federationEndpoint, 'https://signin.aws.amazon.com/federation');
    assert.equal(defaults.device.codeTtlSeconds, 600);
  });
});
