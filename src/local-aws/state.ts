/**
 * What the local AWS knows: the identity pool, roles and buckets it emulates, the identities,
 * developer logins and credentials it has issued, and multipart uploads in progress. Objects
 * live in an ObjectStore (object-store.ts).
 */
import type { generateKeyPair, JWK } from 'jose';
import type { PolicyDocument } from './policy.ts';

export const ACCOUNT_ID = '123456789012';
export const COGNITO_ISSUER = 'https://cognito-identity.amazonaws.com';
export const COGNITO_LOGIN_PROVIDER = 'cognito-identity.amazonaws.com';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RoleSettings {
  maxSessionDuration: number;
  trustsPool?: boolean;
  /**
   * The role's IAM permission policy. S3 allows a request only when this policy and the
   * credentials' session policy (if any) both allow it. Unset: the role's own permissions are
   * not modelled and only the session policy decides.
   */
  policy?: PolicyDocument;
}

/** A Cognito identity held by the local AWS. */
export interface IdentityRecord {
  id: string;
  /** developer user identifiers linked to this identity (empty => unauthenticated identity) */
  developerUserIds: Set<string>;
  createdAt: number;
  /** set when a guest identity was merged into an authenticated identity */
  mergedInto?: string;
}

/** Every credential set the local AWS vends (Cognito GetCredentialsForIdentity or STS). */
export interface VendedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** epoch milliseconds */
  expiration: number;
  /** When it was issued (epoch ms): the session's `aws:TokenIssueTime`. Absent in files saved before it was kept. */
  issuedAt?: number;
  roleArn: string;
  roleSessionName: string;
  assumedRoleArn: string;
  assumedRoleId: string;
  identityId: string;
  /** 'authenticated' | 'unauthenticated' (from the token's amr) */
  authenticationType: 'authenticated' | 'unauthenticated';
  /** parsed inline session policy, if one was passed to AssumeRoleWithWebIdentity */
  sessionPolicy?: PolicyDocument;
  principalTags: Record<string, string>;
  source: 'sts' | 'cognito';
}

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  contentType?: string;
  metadata: Record<string, string>;
  initiated: Date;
  parts: Map<number, { body: Buffer; etag: string; lastModified: Date }>;
}

type KeyMaterial = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface LocalAwsState {
  region: string;
  identityPoolId: string;
  developerProviderName: string;
  allowUnauthenticated: boolean;
  serviceCredentials: StaticCredentials;
  roles: Record<string, RoleSettings>;
  /** Role ARN → inline policies (name → document text) written through IAM PutRolePolicy. */
  roleInlinePolicies: Map<string, Map<string, string>>;
  poolRoles: { authenticated?: string; unauthenticated?: string };
  buckets: Set<string>;
  identities: Map<string, IdentityRecord>;
  /** developer user identifier -> identity id */
  developerUsers: Map<string, string>;
  vended: Map<string, VendedCredentials>;
  uploads: Map<string, MultipartUpload>;
  signingKey: { privateKey: KeyMaterial; publicKey: KeyMaterial; kid: string; jwk: JWK };
  clockOffsetMs: number;
  /** the local AWS notion of "now" (epoch ms); can be advanced with advanceClock() */
  now(): number;
}

/** An AWS error; each protocol renders it in its own wire format. */
export class AwsError extends Error {
  code: string;
  status: number;
  extra: Record<string, string>;
  constructor(status: number, code: string, message: string, extra: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.extra = extra;
  }
}

export function xmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const ALNUM_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function randomUpper(length: number, bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM_UPPER[(bytes[i] ?? 0) % ALNUM_UPPER.length];
  return out;
}
