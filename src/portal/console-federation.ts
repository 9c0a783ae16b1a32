import type { AwsCredentials } from '../cache/credential-cache.ts';
import type { PortalConfig } from '../config/portal-schema.ts';
import { ServiceUnavailableError } from '../http/errors.ts';

/**
 * AWS console sign-in for a custom identity broker (IAM User Guide, "Enable custom identity
 * broker access to the AWS console"): the temporary credentials are exchanged server-side for
 * a sign-in token (`Action=getSigninToken`, valid 15 minutes), and the browser is sent to
 * `Action=login` with that token, the console destination and the portal as `Issuer` (where
 * AWS sends the user when the console session ends).
 *
 * The getSigninToken request carries the credentials in its query, as AWS documents it; it
 * goes from keywarden to the endpoint only and is never logged. The login URL carries the
 * sign-in token, and is meant to: it is the redirect target.
 */

export class FederationError extends ServiceUnavailableError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('The AWS sign-in service is unavailable; try again shortly.', 5, {
      cause: new Error(message, options),
    });
  }
}

export interface ConsoleSignInOptions {
  readonly config: Readonly<PortalConfig>;
  /** The portal's own URL, the federation `Issuer`. */
  readonly issuer: string;
  readonly fetchImpl?: typeof fetch;
}

export async function signinToken(
  credentials: AwsCredentials,
  options: ConsoleSignInOptions,
): Promise<string> {
  const { config } = options;
  const url = new URL(config.federationEndpoint);
  url.searchParams.set('Action', 'getSigninToken');
  if (config.consoleSessionDurationSeconds !== undefined) {
    url.searchParams.set('SessionDuration', String(config.consoleSessionDurationSeconds));
  }
  url.searchParams.set(
    'Session',
    JSON.stringify({
      sessionId: credentials.accessKeyId,
      sessionKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    }),
  );
  let response: Response;
  try {
    response = await (options.fetchImpl ?? fetch)(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(config.federationTimeoutMs),
    });
  } catch (error) {
    // The error may echo the URL, which holds the credentials: keep only its kind.
    throw new FederationError(`getSigninToken failed: ${(error as Error).name}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new FederationError(`getSigninToken answered ${response.status}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new FederationError('getSigninToken answered something other than JSON');
  }
  const token = (body as { SigninToken?: unknown } | null)?.SigninToken;
  if (typeof token !== 'string' || token.length === 0) {
    throw new FederationError('getSigninToken answered no SigninToken');
  }
  return token;
}

/** The URL the browser is sent to: AWS signs it in and opens `consoleUrl`. */
export function consoleLoginUrl(token: string, options: ConsoleSignInOptions): string {
  const url = new URL(options.config.federationEndpoint);
  url.searchParams.set('Action', 'login');
  url.searchParams.set('Issuer', options.issuer);
  url.searchParams.set('Destination', options.config.consoleUrl);
  url.searchParams.set('SigninToken', token);
  return url.href;
}
