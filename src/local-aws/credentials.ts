import { createHash, randomBytes } from 'node:crypto';
import type { PolicyDocument } from './policy.ts';
import { ACCOUNT_ID, type LocalAwsState, randomUpper, type VendedCredentials } from './state.ts';

export function roleNameOf(roleArn: string): string {
  const resource = roleArn.split(':').slice(5).join(':'); // role/path/name
  const parts = resource.split('/');
  return parts[parts.length - 1] ?? resource;
}

/** The account in a role ARN (`arn:aws:iam::<account>:role/...`). */
export function accountOf(roleArn: string): string {
  return roleArn.split(':')[4] || ACCOUNT_ID;
}

export function roleIdOf(roleArn: string): string {
  return 'AROA' + randomUpper(17, createHash('sha256').update(roleArn).digest());
}

export interface VendParams {
  roleArn: string;
  roleSessionName: string;
  identityId: string;
  authenticationType: 'authenticated' | 'unauthenticated';
  durationSeconds: number;
  sessionPolicy?: PolicyDocument;
  principalTags: Record<string, string>;
  source: 'sts' | 'cognito';
}

/** Mints a temporary credential set and remembers it so S3 can verify/authorise requests made with it. */
export function vendCredentials(state: LocalAwsState, p: VendParams): VendedCredentials {
  const creds: VendedCredentials = {
    accessKeyId: 'ASIA' + randomUpper(16, randomBytes(16)),
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: 'IQoJb3JpZ2luX2VjE' + randomBytes(180).toString('base64'),
    expiration: Math.floor(state.now() / 1000) * 1000 + p.durationSeconds * 1000,
    issuedAt: state.now(),
    roleArn: p.roleArn,
    roleSessionName: p.roleSessionName,
    assumedRoleArn: `arn:aws:sts::${accountOf(p.roleArn)}:assumed-role/${roleNameOf(p.roleArn)}/${p.roleSessionName}`,
    assumedRoleId: `${roleIdOf(p.roleArn)}:${p.roleSessionName}`,
    identityId: p.identityId,
    authenticationType: p.authenticationType,
    principalTags: p.principalTags,
    source: p.source,
  };
  if (p.sessionPolicy) creds.sessionPolicy = p.sessionPolicy;
  state.vended.set(creds.accessKeyId, creds);
  return creds;
}
