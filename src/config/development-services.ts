import { devIdpProvider } from './auth-schema.ts';
import { LOCAL_AWS_PATH } from './local-aws-schema.ts';
import type { Config } from './schema.ts';

/**
 * Fills in what the development services imply, once the configuration is valid: the
 * development IdP's login provider, and the endpoints of the local AWS. Both derive from
 * `server.publicUrl`, which itself follows the listen port unless it was set, so that
 * `PORT=<any> npm start` keeps sign-in and credential vending working. Production refuses
 * both services, so this changes nothing there.
 */
export function withDevelopmentServices(config: Config): Config {
  const { publicUrl } = config.server;
  let derived = config;
  if (config.auth.devIdp.enabled) {
    const { provider, displayName } = config.auth.devIdp;
    derived = {
      ...derived,
      auth: {
        ...derived.auth,
        providers: { ...derived.auth.providers, [provider]: devIdpProvider(publicUrl, displayName) },
      },
    };
  }
  if (config.localAws.enabled) {
    const endpoint = `${publicUrl}${LOCAL_AWS_PATH}`;
    derived = {
      ...derived,
      aws: { ...derived.aws, endpoint },
      presign: {
        ...derived.presign,
        buckets: derived.presign.buckets.map((bucket) => ({ ...bucket, endpoint, forcePathStyle: true })),
      },
    };
  }
  return derived;
}
