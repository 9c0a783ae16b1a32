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
  points: z.number().int().positive().describe('Lookups allowed per window.'),
  windowSeconds: z.number().int().positive().describe('The window, in seconds.'),
});

export const deviceSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      'The OAuth 2.0 Device Authorization Grant (RFC 8628) at `/auth/device/*` and `/portal/device`, for the CLI.',
    ),
  clientIds: z
    .array(z.string().regex(/^[\w.-]{1,64}$/))
    .default(['keywarden-cli'])
    .describe('The public client ids the CLI may send; others are refused (`invalid_client`).'),
  codeTtlSeconds: z
    .number()
    .int()
    .min(60)
    .max(1_800)
    .default(600)
    .describe('How long a device code and its user code wait for approval.'),
  pollIntervalSeconds: z
    .number()
    .int()
    .min(1)
    .max(60)
    .default(5)
    .describe('The minimum polling interval the CLI is told; faster polls answer `slow_down`.'),
  // A user code is short enough to type, so guessing is bounded by this rather than by its length alone.
  userCodeAttempts: attemptLimit
    .default({ points: 10, windowSeconds: 300 })
    .describe(
      'User-code lookups on the approval page, per signed-in user and per IP; always on, whatever `rateLimit.enabled` says.',
    ),
  tokenTtlSeconds: z
    .number()
    .int()
    .min(300)
    .max(7 * 24 * 3_600)
    .default(8 * 3_600)
    .describe('Lifetime of the CLI token an approval yields (absolute: it is not renewed).'),
});

export const portalSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Mount the portal at `/portal`.'),
    title: z.string().min(1).max(80).default('AWS access').describe('The heading of every portal page.'),
    productName: z
      .string()
      .min(1)
      .max(40)
      .default('keywarden')
      .describe(
        "The product's name: in the header next to the logo, and wherever the pages name the service.",
      ),
    logoFile: z.string().min(1).optional().meta({
      description:
        'The header logo and `/favicon.ico`: an SVG, PNG, WebP, JPEG or ICO file (at most 256 KiB), read at start-up and served by keywarden itself.',
      defaultText: "keywarden's own mark",
    }),
    accounts: z
      .record(z.string().regex(ACCOUNT_ID, 'expected a 12-digit account id'), z.string().min(1).max(128))
      .default({})
      .describe("Friendly account names: account id → name, shown above each account's roles."),
    federationEndpoint: z
      .url({ protocol: /^https?$/ })
      .default('https://signin.aws.amazon.com/federation')
      .describe('The AWS federation endpoint (getSigninToken, then login); https in production.'),
    consoleUrl: z
      .url({ protocol: /^https?$/ })
      .default('https://console.aws.amazon.com/')
      .describe('Where the console sign-in lands (the federation `Destination`).'),
    consoleSessionDurationSeconds: z.number().int().min(900).max(43_200).optional().meta({
      description: 'The federation `SessionDuration`: how long a console session lasts.',
      defaultText: "AWS's default",
    }),
    federationTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(5_000)
      .describe('Bound on the server-side getSigninToken call (then a 503 page).'),
    cliCommand: z
      .string()
      .regex(/^[\w./ -]{1,200}$/, 'a plain command (letters, digits, . / - _ and spaces)')
      .default('keywarden')
      .describe(
        'How `~/.aws/config` snippets call the CLI (`credential_process = <command> credential-process …`).',
      ),
    device: deviceSchema.prefault({}),
  })
  .describe(
    'The enterprise portal: the roles a signed-in employee may take, credentials for the shell, the AWS console, and the device sign-in of the `keywarden` CLI. See [portal.md](portal.md).',
  );

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
