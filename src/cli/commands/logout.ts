import { say } from '../cli-error.ts';
import type { Command } from '../command.ts';
import { stringOption } from '../command.ts';
import { postForm, problemText } from '../http-client.ts';
import { endpoint, keywardenUrl } from '../keywarden-url.ts';
import { deleteToken, readToken, type StoredToken } from '../token-file.ts';
import { CLIENT_ID } from './login.ts';

/** Revokes the CLI token at keywarden and deletes the file. */
async function logout(base: URL): Promise<void> {
  let token: StoredToken | undefined;
  try {
    token = readToken(base);
  } catch (error) {
    // An unsafe file is still ours to delete.
    say(String((error as Error).message));
  }
  if (token) {
    const answer = await postForm(endpoint(base, '/auth/device/revoke'), {
      client_id: CLIENT_ID,
      token: token.accessToken,
    });
    if (answer.status !== 200) say(`keywarden did not confirm the revocation: ${problemText(answer)}`);
  }
  deleteToken(base);
  say(`Signed out of ${base.host}.`);
}

export const logoutCommand: Command = {
  name: 'logout',
  usage: '--url <keywarden url>',
  summary: 'revoke the CLI token at keywarden and delete it',
  options: { url: { type: 'string' } },
  run: (values) => logout(keywardenUrl(stringOption(values, 'url'))),
};
