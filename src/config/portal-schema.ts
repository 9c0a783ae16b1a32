import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The enterprise portal (`/portal`): which roles a signed-in employee may take, credentials
 * for the shell, the AWS console through the federation endpoint, and the device sign-in the
 * `keywarden` CLI uses (`portal.device`). Cross-field rules are in `checkPortalConfig`.
 */

const ACCOUNT_ID = /^\d{12}$/;

const attemptLimit = z.strictObject({
  points: z.number().int().positive(),
  windowSeconds: z.number().int().positive(),
});

export const deviceSchema = z.strictObject({
  /** OAuth 2.0 Device Authorization Grant (RFC 8628) at /auth/device/*, for the CLI. */
  enabled: z.boolean().default(true),
  /** The public client id the CLI sends; other ids are refused (`invalid_client`). */
  clientIds: z.array(z.string().regex(/^[\w.-]{1,64}$/)).default(['keywarden-cli']),
  /** How long a device code and its user code wait for approval. */
  codeTtlSeconds: z.number().int().min(60).max(1_800).default(600),
  /** The minimum polling interval the CLI is told; faster polls answer `slow_down`. */
  pollIntervalSeconds: z.number().int().min(1).max(60).default(5),
  /**
   * User-code lookups on the approval page, per signed-in user and per IP: a user code is
   * short enough to type, so guessing is bounded by this rather than by its length alone.
   */
  userCodeAttempts: attemptLimit.default({ points: 10, windowSeconds: 300 }),
  /** Lifetime of the CLI token an approval yields (absolute; the token is not renewed). */
  tokenTtlSeconds: z
    .number()
    .int()
    .min(300)
    .max(7 * 24 * 3_600)
    .default(8 * 3_600),
});

export const portalSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** The heading of every portal page. */
  title: z.string().min(1).max(80).default('AWS access'),
  /** The product's name: in the header next to the logo, and wherever the pages name the service. */
  productName: z.string().min(1).max(40).default('keywarden'),
  /**
   * The header logo and favicon: an SVG, PNG, WebP, JPEG or ICO file (at most 256 KiB), read
   * at start-up and served by keywarden itself. Unset: keywarden's own mark.
   */
  logoFile: z.string().min(1).optional(),
  /** Friendly account names: account id → name, shown above each account's roles. */
  accounts: z
    .record(z.string().regex(ACCOUNT_ID, 'expected a 12-digit account id'), z.string().min(1).max(128))
    .default({}),
  /** The AWS federation endpoint (getSigninToken, then login). A stand-in in tests. */
  federationEndpoint: z.url({ protocol: /^https?$/ }).default('https://signin.aws.amazon.com/federation'),
  /** Where the console sign-in lands (the federation `Destination`). */
  consoleUrl: z.url({ protocol: /^https?$/ }).default('https://console.aws.amazon.com/'),
  /** The federation `SessionDuration` (console session length); unset: AWS's default (the credentials' life). */
  consoleSessionDurationSeconds: z.number().int().min(900).max(43_200).optional(),
  /** Bound on the server-side getSigninToken call. */
  federationTimeoutMs: z.number().int().positive().default(5_000),
  /** The command shown in `~/.aws/config` snippets (`credential_process = <command> credential-process ...`). */
  cliCommand: z
    .string()
    .regex(/^[\w./ -]{1,200}$/, 'a plain command (letters, digits, . / - _ and spaces)')
    .default('keywarden'),
  device: deviceSchema.prefault({}),
});

export type PortalConfig = z.infer<typeof portalSchema>;
export type DeviceConfig = z.infer<typeof deviceSchema>;

/** Kept in step with src/http/routes/brand-assets.ts, which serves the file. */
const LOGO_EXTENSIONS = new Set(['.svg', '.png', '.webp', '.jpg', '.jpeg', '.ico']);
const LOGO_MAX_BYTES = 256 * 1024;

function logoProblem(file: string): string | undefined {
  if (!LOGO_EXTENSIONS.has(path.extname(file).toLowerCase())) {
    return `expected an ${[...LOGO_EXTENSIONS].join(', ')} file`;
  }
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return `${file} is not a file`;
    size = stat.size;
  } catch (error) {
    return `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  return size > LOGO_MAX_BYTES ? `${file} is larger than 256 KiB` : undefined;
}

export function checkPortalConfig(config: { env: string; portal: PortalConfig }, ctx: z.RefinementCtx): void {
  if (config.portal.logoFile) {
    const problem = logoProblem(config.portal.logoFile);
    if (problem) ctx.addIssue({ code: 'custom', path: ['portal', 'logoFile'], message: problem });
  }
  if (config.env !== 'production') return;
  for (const key of ['federationEndpoint', 'consoleUrl'] as const) {
    if (new URL(config.portal[key]).protocol !== 'https:') {
      ctx.addIssue({
        code: 'custom',
        path: ['portal', key],
        message: 'must be an https URL in production (credentials travel to it)',
      });
    }
  }
}
