import type { Request } from 'express';
import type { LoginProvider, LoginProviderDeps } from './login-provider.ts';
import type { SessionRecord } from './session/session.ts';

export type { LoginProviderDeps };

export type LoginProviders = ReadonlyMap<string, LoginProvider>;

/**
 * Builds every configured login provider (`auth.providers`), keyed by name. Adding a kind
 * of provider is one case here (and one schema in src/config/). Each kind's module is
 * imported only when a provider of that kind is configured: SAML's XML stack is never
 * loaded by a server that signs in with OIDC alone.
 */
export async function createLoginProviders(deps: LoginProviderDeps): Promise<LoginProviders> {
  const providers = new Map<string, LoginProvider>();
  for (const [name, settings] of Object.entries(deps.config.auth.providers)) {
    switch (settings.kind) {
      case 'oidc': {
        const { OidcLoginProvider } = await import('./oidc/oidc-login-provider.ts');
        providers.set(name, new OidcLoginProvider(name, settings, deps));
        break;
      }
      case 'oauth2': {
        const { OAuth2LoginProvider } = await import('./oauth2/oauth2-login-provider.ts');
        providers.set(name, new OAuth2LoginProvider(name, settings, deps));
        break;
      }
      case 'saml': {
        const { SamlLoginProvider } = await import('./saml/saml-login-provider.ts');
        providers.set(name, new SamlLoginProvider(name, settings, deps));
        break;
      }
      default:
        throw new Error(
          `no login provider implementation for auth.providers.${name} (kind ${(settings as { kind: string }).kind})`,
        );
    }
  }
  return providers;
}

/** The session authenticator's keep-alive hook: asks the session's provider to refresh it. */
export function keepSessionsAlive(
  providers: LoginProviders,
): (req: Request, record: SessionRecord) => Promise<boolean> {
  return async (_req, record) => {
    const provider = providers.get(record.provider);
    return provider?.refreshSession ? provider.refreshSession(record) : true;
  };
}
