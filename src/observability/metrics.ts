import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * One registry per app instance (not prom-client's global), so several apps in one test
 * process or one bench do not share counters. Later capabilities add their own metrics here.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly rateLimited: Counter<'group'>;
  /** Credential requests by outcome: issued, denied, invalid, unavailable, error. */
  readonly credentialVends: Counter<'outcome'>;
  /** Credential cache lookups: hit, miss (vended here), shared (another request's vend), stale (refreshed ahead). */
  readonly credentialCache: Counter<'result'>;
  readonly awsCalls: Counter<'operation' | 'outcome'>;
  readonly awsCallDuration: Histogram<'operation'>;
  /** Bearer issuers' discovery/JWKS fetches: success, failure, skipped (failure backoff). */
  readonly jwksFetches: Counter<'issuer' | 'outcome'>;
  /** Bearer tokens refused with 401, by configured issuer name (`unknown` when none matched). */
  readonly bearerRejected: Counter<'issuer'>;
  /** /presign and /presign/multipart requests by operation and outcome (issued, denied, invalid, unavailable, error). */
  readonly presigns: Counter<'operation' | 'outcome'>;
}

export function createMetrics(options: { collectProcessMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.collectProcessMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'keywarden_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'keywarden_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'keywarden_rate_limited_total',
      help: 'Requests refused by a rate limit, by route group',
      labelNames: ['group'],
      registers: [registry],
    }),
    credentialVends: new Counter({
      name: 'keywarden_credentials_requests_total',
      help: 'Credential requests by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    credentialCache: new Counter({
      name: 'keywarden_credential_cache_total',
      help: 'Credential cache lookups by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    awsCalls: new Counter({
      name: 'keywarden_aws_calls_total',
      help: 'Upstream AWS calls by operation and outcome (after SDK retries)',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    awsCallDuration: new Histogram({
      name: 'keywarden_aws_call_duration_seconds',
      help: 'Upstream AWS call latency by operation, retries included',
      labelNames: ['operation'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    jwksFetches: new Counter({
      name: 'keywarden_bearer_jwks_fetches_total',
      help: 'Bearer issuer discovery and JWKS fetches by outcome',
      labelNames: ['issuer', 'outcome'],
      registers: [registry],
    }),
    bearerRejected: new Counter({
      name: 'keywarden_bearer_rejected_total',
      help: 'Bearer tokens refused by issuer entry',
      labelNames: ['issuer'],
      registers: [registry],
    }),
    presigns: new Counter({
      name: 'keywarden_presign_requests_total',
      help: 'Presigned URL and multipart requests by operation and outcome',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
  };
}
