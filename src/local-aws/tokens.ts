import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { COGNITO_ISSUER, type LocalAwsState } from './state.ts';

export const PRINCIPAL_TAGS_CLAIM = 'https://aws.amazon.com/tags';

export interface CognitoTokenClaims extends JWTPayload {
  amr?: string[];
  [PRINCIPAL_TAGS_CLAIM]?: { principal_tags?: Record<string, string[]> };
}

export async function issueCognitoToken(
  state: LocalAwsState,
  identityId: string,
  amr: string[],
  durationSeconds: number,
  principalTags?: Record<string, string>,
): Promise<string> {
  const nowSec = Math.floor(state.now() / 1000);
  const claims: CognitoTokenClaims = { amr };
  if (principalTags && Object.keys(principalTags).length > 0) {
    const tags: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(principalTags)) tags[k] = [v];
    claims[PRINCIPAL_TAGS_CLAIM] = { principal_tags: tags };
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: state.signingKey.kid, typ: 'JWS' })
    .setIssuer(COGNITO_ISSUER)
    .setAudience(state.identityPoolId)
    .setSubject(identityId)
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + durationSeconds)
    .sign(state.signingKey.privateKey);
}

export type TokenFailure = 'expired' | 'invalid' | 'audience';

export class TokenError extends Error {
  reason: TokenFailure;
  constructor(reason: TokenFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Verifies a token issued by this Cognito Identity (signature, iss, aud = pool id, exp). */
export async function verifyCognitoToken(state: LocalAwsState, token: string): Promise<CognitoTokenClaims> {
  try {
    const { payload } = await jwtVerify<CognitoTokenClaims>(token, state.signingKey.publicKey, {
      issuer: COGNITO_ISSUER,
      audience: state.identityPoolId,
      algorithms: ['RS256'],
      currentDate: new Date(state.now()),
      clockTolerance: 0,
      requiredClaims: ['sub', 'exp'],
    });
    return payload;
  } catch (e) {
    if (e instanceof errors.JWTExpired) {
      throw new TokenError(
        'expired',
        'Token expired: current date/time must be before the expiration date/time.',
      );
    }
    if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud') {
      throw new TokenError('audience', 'Incorrect token audience.');
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) {
      throw new TokenError('invalid', "Couldn't verify the token signature.");
    }
    throw new TokenError('invalid', `Invalid web identity token: ${(e as Error).message}`);
  }
}

export function principalTagsFromClaims(claims: CognitoTokenClaims): Record<string, string> {
  const out: Record<string, string> = {};
  const tags = claims[PRINCIPAL_TAGS_CLAIM]?.principal_tags ?? {};
  for (const [k, v] of Object.entries(tags)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first;
  }
  return out;
}
