import type { AwsConfig, CredentialsConfig } from '../config/aws-schema.ts';
import { KeywardenError } from '../http/errors.ts';

/**
 * Whether this server can vend credentials at all. Without an identity pool and at least one
 * role there is nothing to ask AWS for: /credentials and /presign say so plainly (501, code
 * `vending_not_configured`) instead of failing like a broken deployment would, and start-up
 * names what is missing.
 */

/** 501: the server is not set up for this; retrying will not help, configuring it will. */
export class VendingNotConfiguredError extends KeywardenError {
  constructor() {
    super(501, 'vending_not_configured', 'Credential vending is not configured on this server.', {
      expose: true,
    });
  }
}

interface VendingSettings {
  aws: Pick<AwsConfig, 'pool'>;
  credentials: Pick<CredentialsConfig, 'roles' | 'defaultRole' | 'roleRules' | 'guestRole'>;
}

/** The settings credential vending needs and this configuration lacks (empty: it can vend). */
export function missingVendingSettings(config: VendingSettings): string[] {
  const missing: string[] = [];
  if (!config.aws.pool.identityPoolId) missing.push('aws.pool.identityPoolId');
  if (Object.keys(config.credentials.roles).length === 0) missing.push('credentials.roles');
  else if (
    config.credentials.defaultRole === undefined &&
    config.credentials.roleRules.length === 0 &&
    config.credentials.guestRole === undefined
  ) {
    missing.push('credentials.defaultRole (or credentials.roleRules)');
  }
  return missing;
}

/** Vending is possible at all: a pool and a role (a role no caller is given is a 403 later). */
export function vendingConfigured(config: VendingSettings): boolean {
  return config.aws.pool.identityPoolId !== undefined && Object.keys(config.credentials.roles).length > 0;
}
