/**
 * Runs the example as a user would (`node index.ts`, the built @keywarden/client from the
 * checkout) against a real keywarden and the AWS test double's S3, which checks the SigV4
 * signature and the session policy of every call.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { BUCKET, startKeywarden, type TestKeywarden } from '../../../client/test/support/keywarden.ts';

const run = promisify(execFile);
const EXAMPLE = path.resolve(import.meta.dirname, '..');

let keywarden: TestKeywarden;

before(async () => {
  keywarden = await startKeywarden();
});

after(async () => {
  await keywarden?.close();
});

it('puts an object under the caller prefix and lists it, with credentials keywarden vended for the token', async () => {
  const token = await keywarden.tokenFor('node-script');
  const { stdout, stderr } = await run(process.execPath, ['index.ts'], {
    cwd: EXAMPLE,
    env: {
      PATH: process.env.PATH,
      KEYWARDEN_URL: keywarden.url,
      KEYWARDEN_TOKEN: token,
      KEYWARDEN_SCOPE: 'app',
      BUCKET,
      AWS_REGION: keywarden.aws.region,
      S3_ENDPOINT: keywarden.aws.url,
    },
  });
  const identityId = /^identity (\S+)$/m.exec(stdout)?.[1];
  assert.match(identityId ?? '', /^us-east-1:[0-9a-f-]{36}$/, stdout + stderr);
  const key = `users/${identityId}/hello-from-node.txt`;
  assert.match(stdout, new RegExp(`^${key.replace(/[.]/g, '\\.')}\\t\\d+ bytes$`, 'm'));
  assert.match(keywarden.aws.objects.get(`${BUCKET}/${key}`)?.body.toString() ?? '', /^Hello from Node, /);

  // Signed by the SDK with the credentials STS vended for this caller's identity.
  const put = keywarden.aws.calls.find((call) => call.operation === 'PutObject')!;
  const signer = keywarden.aws.credentials.get((put.params as { accessKeyId: string }).accessKeyId);
  assert.equal(signer?.identityId, identityId);
  assert.equal(keywarden.received('POST', '/credentials'), 1, 'one credential request for the whole script');
  for (const secret of [token, signer?.secretAccessKey ?? '', signer?.sessionToken ?? '']) {
    assert.ok(!stdout.includes(secret) && !stderr.includes(secret), 'no secret printed');
  }
});
