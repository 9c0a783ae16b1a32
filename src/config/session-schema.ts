import { z } from 'zod';

/** The browser session: an opaque id in a cookie, the record on the server (see src/auth/session/). */
export const sessionSchema = z
  .strictObject({
    cookieName: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
      .default('__Host-keywarden')
      .describe(
        'The session cookie. The `__Host-` prefix makes browsers refuse it unless it is Secure, has `Path=/` and no Domain, so a sibling subdomain cannot plant or overwrite it.',
      ),
    secret: z.string().min(32, 'use at least 32 characters of random data').optional().meta({
      description:
        'Signs the session cookie; at least 32 characters. Required in production; elsewhere a random one is made at start-up (sessions then end at a restart).',
      defaultText: 'random per process (refused unset in production)',
    }),
    previousSecrets: z
      .array(z.string().min(32))
      .default([])
      .describe('Older secrets that still verify cookies while rotating.'),
    idleTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30 * 60_000)
      .describe('The session ends after this long without a request (renewed by requests).'),
    absoluteTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(12 * 3_600_000)
      .describe('The session ends this long after sign-in, however active it is.'),
    sameSite: z
      .enum(['lax', 'strict'])
      .default('lax')
      .describe(
        "The cookie's SameSite. `lax`: the OIDC callback is a cross-site top-level GET from the IdP that must carry the pre-login session; cross-site POSTs never carry the cookie.",
      ),
    insecureDevCookies: z
      .boolean()
      .default(false)
      .describe(
        'Plain-HTTP local development only: drops Secure and the `__Host-` prefix. Refused in production.',
      ),
  })
  .describe('The browser session: an opaque id in a cookie, the record on the server.');

export type SessionConfig = z.infer<typeof sessionSchema>;

export const sessionSecretPaths = ['session.secret', 'session.previousSecrets'] as const;

interface SessionCheckInput {
  env: string;
  session: SessionConfig;
}

export function checkSessionConfig(config: SessionCheckInput, ctx: z.RefinementCtx): void {
  if (config.env === 'production' && !config.session.secret) {
    ctx.addIssue({
      code: 'custom',
      path: ['session', 'secret'],
      message: 'required in production (KEYWARDEN_SESSION__SECRET or KEYWARDEN_SESSION__SECRET_FILE)',
    });
  }
  if (config.env === 'production' && config.session.insecureDevCookies) {
    ctx.addIssue({
      code: 'custom',
      path: ['session', 'insecureDevCookies'],
      message: 'insecure cookies are for plain-HTTP local development and are refused in production',
    });
  }
  if (config.session.absoluteTimeoutMs < config.session.idleTimeoutMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['session', 'absoluteTimeoutMs'],
      message: 'must not be shorter than session.idleTimeoutMs',
    });
  }
  if (!config.session.insecureDevCookies && !config.session.cookieName.startsWith('__Host-')) {
    ctx.addIssue({
      code: 'custom',
      path: ['session', 'cookieName'],
      message: 'must start with __Host- (only session.insecureDevCookies drops the prefix)',
    });
  }
}
