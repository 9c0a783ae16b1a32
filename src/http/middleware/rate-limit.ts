import type { Request, RequestHandler, Response } from 'express';
import { developerUserIdentifier } from '../../auth/principal.ts';
import type { Config } from '../../config/schema.ts';
import type { AuditLog } from '../../observability/audit.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { StateStore, WindowCount } from '../../store/types.ts';
import { RateLimitedError } from '../errors.ts';

/** One configured limit: `points` requests per window, counted per IP or per identity. */
export interface RatePolicy {
  /** The policy's name in RateLimit fields: the group, or `<group>-identity`. */
  readonly name: string;
  readonly keyPrefix: string;
  readonly points: number;
  readonly windowSeconds: number;
}

interface GroupLimits {
  readonly perIp: RatePolicy;
  readonly perIdentity?: RatePolicy;
}

/** Where a request stands against the policy closest to refusing it. */
interface PolicyStanding {
  readonly policy: RatePolicy;
  readonly remaining: number;
  readonly resetSeconds: number;
}

const STANDING = Symbol('keywarden.rateLimitStanding');
const ADMISSION = Symbol('keywarden.rateLimitAdmission');

declare global {
  namespace Express {
    interface Request {
      [STANDING]?: PolicyStanding;
      /** The verdict of limits counted before the session was read (see `RateLimits.start`). */
      [ADMISSION]?: Promise<void>;
    }
  }
}

/**
 * Rate limits by route group (`rateLimit.groups`): fixed windows counted in the shared store,
 * so they hold across instances. `limits(group)` is a route's middleware: it counts the per-IP
 * and, once a principal is known, the per-identity limit together (one round trip).
 * `start(group)` and `admit()` split one group's per-IP count around the session read, so both
 * travel to the store together: `start` sends the count and goes on, `admit` waits for it.
 */
export interface RateLimits {
  (group: string): RequestHandler;
  start(group: string): RequestHandler;
  admit(): RequestHandler;
  /** The verdict of what `start` counted for this request (resolved when nothing was). */
  admitted(req: Request): Promise<void>;
}

/** IETF RateLimit / RateLimit-Policy fields (draft-ietf-httpapi-ratelimit-headers), structured-field form. */
function setHeaders(res: Response, standing: PolicyStanding): void {
  const { policy } = standing;
  res.setHeader('RateLimit-Policy', `"${policy.name}";q=${policy.points};w=${policy.windowSeconds}`);
  res.setHeader('RateLimit', `"${policy.name}";r=${standing.remaining};t=${standing.resetSeconds}`);
}

/** The store keys of one caller's per-identity counters (erased with the rest of a user's data). */
export function identityCounterKeys(config: Readonly<Config>, developerUserId: string): string[] {
  return Object.entries(config.rateLimit.groups)
    .filter(([, group]) => group.perIdentity)
    .map(([name]) => `rl:${name}:id:${developerUserId}`);
}

export function createRateLimits(deps: {
  config: Readonly<Config>;
  store: StateStore;
  metrics: Metrics;
  audit: AuditLog;
}): RateLimits {
  const { config, store, metrics, audit } = deps;
  const enabled = config.rateLimit.enabled;
  const groups = new Map<string, GroupLimits>();
  for (const [name, group] of Object.entries(config.rateLimit.groups)) {
    groups.set(name, {
      perIp: { name, keyPrefix: `rl:${name}:ip:`, ...group.perIp },
      ...(group.perIdentity
        ? { perIdentity: { name: `${name}-identity`, keyPrefix: `rl:${name}:id:`, ...group.perIdentity } }
        : {}),
    });
  }

  function limitsOf(name: string): GroupLimits {
    const group = groups.get(name);
    if (!group) throw new Error(`rate limit group "${name}" is not configured`);
    return group;
  }

  /**
   * Counts the request against `checks` at once and answers the verdict: resolves when every
   * policy admits it (the response then describes the one closest to its limit), rejects with
   * a 429 describing the policy that refused, or with the store's failure (→ 503).
   */
  async function count(req: Request, res: Response, group: string, checks: Array<[RatePolicy, string]>) {
    const counts: WindowCount[] = await store.hitAll(
      checks.map(([policy, key]) => ({ key: policy.keyPrefix + key, windowMs: policy.windowSeconds * 1000 })),
    );
    let refused: PolicyStanding | undefined;
    for (let index = 0; index < checks.length; index += 1) {
      const policy = checks[index]![0];
      const { count: used, resetInMs } = counts[index]!;
      const standing: PolicyStanding = {
        policy,
        remaining: Math.max(0, policy.points - used),
        resetSeconds: Math.max(0, Math.ceil(resetInMs / 1000)),
      };
      if (used > policy.points) {
        if (!refused || standing.resetSeconds > refused.resetSeconds) refused = standing;
        continue;
      }
      const closest = req[STANDING];
      if (
        !closest ||
        standing.remaining < closest.remaining ||
        (standing.remaining === closest.remaining && standing.resetSeconds > closest.resetSeconds)
      ) {
        req[STANDING] = standing;
      }
    }
    if (refused) {
      setHeaders(res, refused);
      metrics.rateLimited.inc({ group });
      const principal = req.scope.principal;
      audit.record('rate_limit.exceeded', {
        outcome: 'denied',
        requestId: req.scope.requestId,
        sourceIp: req.scope.sourceIp,
        reason: refused.policy.name,
        ...(principal ? { provider: principal.provider, subject: principal.subject } : {}),
      });
      throw new RateLimitedError(refused.resetSeconds);
    }
    setHeaders(res, req[STANDING]!);
  }

  function checksFor(req: Request, limits: GroupLimits, withIdentity: boolean): Array<[RatePolicy, string]> {
    const checks: Array<[RatePolicy, string]> = [[limits.perIp, req.scope.sourceIp ?? 'unknown']];
    const principal = req.scope.principal;
    if (withIdentity && limits.perIdentity && principal) {
      checks.push([limits.perIdentity, developerUserIdentifier(principal)]);
    }
    return checks;
  }

  const limit = ((name: string): RequestHandler => {
    const limits = limitsOf(name);
    return (req, res, next) => {
      // A screening started at authentication (an admin's suspension) travels with the count.
      const screening = req.scope.screening;
      if (!enabled) return screening ? screening.then(() => next(), next) : next();
      const counted = count(req, res, name, checksFor(req, limits, true));
      (screening ? Promise.all([counted, screening]) : counted).then(() => next(), next);
    };
  }) as RateLimits;

  limit.start = (name) => {
    const limits = limitsOf(name);
    return (req, res, next) => {
      if (enabled) {
        const verdict = count(req, res, name, checksFor(req, limits, false));
        // Observed now so that a refusal is never an unhandled rejection; `admit` rethrows it.
        verdict.catch(() => undefined);
        req[ADMISSION] = verdict;
      }
      next();
    };
  };

  limit.admitted = (req) => req[ADMISSION] ?? Promise.resolve();

  limit.admit = () => (req, _res, next) => {
    const verdict = req[ADMISSION];
    if (!verdict) return next();
    verdict.then(() => next(), next);
  };

  return limit;
}
