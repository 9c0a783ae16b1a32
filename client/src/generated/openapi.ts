/**
 * Generated from openapi/openapi.yaml by tools/openapi-client-types — do not edit.
 * Regenerate with `npm run generate -w @keywarden/client`.
 */

export interface paths {
    "/admin/users/{user}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Look a user up — identity ids, sessions, CLI tokens, cached credentials, linked guests, suspension.
         * @description Works from any instance (the store keeps a per-user index). 403 `admin_required` for anyone who is not an admin; 400 `invalid_user` for a malformed `{user}`.
         */
        get: operations["adminLookupUser"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/users/{user}/identity": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Erase a user's identity and everything keywarden holds for it (DeleteIdentities).
         * @description An erasure request: ends every session, CLI token and device grant, purges cached
         *     credentials, denies the credentials already issued, deletes the identities at Cognito
         *     (`unprocessed` lists those Cognito could not delete) and erases keywarden's records of
         *     the user (identity records, linked guests, the user's index, per-identity rate-limit
         *     counters, a name kept from a first sign-in). A suspension stays. Audit records in the
         *     logs are not erased.
         */
        delete: operations["adminDeleteIdentity"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/users/{user}/merge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Merge the user's identity into another user's (MergeDeveloperIdentities).
         * @description The other user's identity survives with both logins; keywarden resolves this user to it and purges their cached credentials.
         */
        post: operations["adminMergeUsers"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/users/{user}/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cut a user off now, on every instance.
         * @description Suspends the user (until `until`, or until lifted), then ends every session, CLI token
         *     and device grant, purges their cached credentials, and writes the deny policy that makes
         *     the AWS credentials already issued to them useless (`issuedCredentials` says on which
         *     roles). A vend already running on another instance does not answer. While suspended,
         *     sign-ins, CLI sign-ins and vends answer 403 `user_suspended`.
         */
        post: operations["adminRevokeUser"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/users/{user}/sessions/{session}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** End one session of a user (one reported stolen, say), on every instance. */
        delete: operations["adminRevokeSession"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/users/{user}/unlink": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Unlink the login from its Cognito identity (UnlinkDeveloperIdentity).
         * @description The identity keeps its other logins and its data; the login gets a new identity at its next vend. keywarden forgets the old identity for this login and purges its cached credentials.
         */
        post: operations["adminUnlinkUser"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/users/{user}/unsuspend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Lift a user's suspension; credentials issued before the revocation stay revoked. */
        post: operations["adminUnsuspendUser"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/backchannel-logout/{provider}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** OpenID Connect Back-Channel Logout endpoint (called by the IdP, not by clients). */
        post: operations["oidcBackChannelLogout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/callback/{provider}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * OIDC and OAuth 2.0 redirect URI (query response mode).
         * @description The IdP sends the browser here with `code` and `state` (or `error`). The transaction must be this browser's (held in its pre-login session), this provider's (mix-up defence), unexpired and unused, else 400 `invalid_login_state`. An IdP error, a refused code, or a user without a usable id answers 401 `login_failed`; an IdP that is down, too slow or rate-limiting answers 503. Success: a new session cookie and 303 to the sign-in's `returnTo`. Providers with `responseMode: form_post` have no GET callback (404).
         */
        get: operations["oidcCallback"];
        put?: never;
        /**
         * OIDC redirect URI for `response_mode=form_post` (Sign in with Apple).
         * @description Posted by the browser from the IdP's auto-submit form, a cross-site POST that does not carry the SameSite=Lax session cookie. The sign-in's transaction is in the shared store and is accepted only from the browser that started it: the POST must carry the `__Host-keywarden-formpost` cookie set by `/auth/login/{provider}` (SameSite=None, so it rides this POST), else 400 `invalid_login_state` (login CSRF). Each answer is accepted once. A `user` field (Apple's first-sign-in name) becomes the `name` claim and is kept for later sign-ins; the email always comes from the ID token. A guest identity of the pre-login session carries over. Success: a new session cookie, the binding cookie cleared, 303 to the sign-in's `returnTo`. Only offered by providers configured with `responseMode: form_post` (else 404).
         */
        post: operations["formPostCallback"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/device/authorize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a device sign-in for the keywarden CLI (RFC 8628 §3.1).
         * @description Answers a device code for the CLI and a short user code for the person, who approves
         *     it at `verification_uri` (the portal, signed in). Codes live `portal.device.codeTtlSeconds`.
         */
        post: operations["deviceAuthorize"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/device/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke a CLI token (the CLI's sign-out; RFC 7009 style).
         * @description The same answer whether or not the token was valid.
         */
        post: operations["deviceTokenRevoke"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/device/token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Poll for the CLI token (RFC 8628 §3.4).
         * @description `authorization_pending` until the user approves; `slow_down` when polled faster than
         *     `interval` (+5 s each time); `expired_token` after `expires_in`; `access_denied` when the
         *     user denied it; `invalid_grant` for an unknown or already redeemed device code (an
         *     administrator's revocation withdraws approved codes). An approved device code is redeemed
         *     exactly once. A user an administrator suspended gets a 403 `user_suspended` problem.
         */
        post: operations["deviceToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/login/{provider}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Start a browser login (OIDC code + PKCE S256 + state + nonce; OAuth 2.0 code + state + PKCE S256; or a SAML AuthnRequest).
         * @description A top-level navigation, not an XHR. `returnTo` must be a local path (`/x`, not `//x` or `/\x`) or a URL on a configured SPA origin (`cors.origins`); anything else falls back to `auth.landingPath`. Answers 400 `https_required` when the request did not arrive over HTTPS (the session cookie is Secure). A SAML login also sets `__Host-keywarden-saml` (random, `Secure; HttpOnly; SameSite=None; Path=/`, `Max-Age` = the provider's `requestTtlMs`), which the ACS requires to bind the IdP's answer to this browser; an OIDC login with `responseMode: form_post` (Sign in with Apple) likewise sets `__Host-keywarden-formpost` (`Max-Age` = `auth.loginTimeoutMs`) for its POST callback.
         */
        get: operations["startLogin"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * End the server session (and get the IdP's end-session URL when it has one).
         * @description Always needs `X-CSRF: 1`, signed in or not, so a cross-site form cannot force a logout.
         */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/saml/{provider}/acs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * SAML Assertion Consumer Service (HTTP-POST binding).
         * @description Posted by the browser from the IdP's auto-submit form. The assertion (and, if configured, the Response) must be signed with RSA-SHA256/512 by a configured IdP certificate, answer an AuthnRequest this deployment sent (unless the provider allows unsolicited responses), name this ACS as Destination and Recipient and this SP as Audience, be within its validity window (plus the configured clock skew) and never have been used. A solicited response is accepted only from the browser that started the login: the POST must carry the `__Host-keywarden-saml` binding cookie set by `/auth/login/{provider}` (SameSite=None, so it rides this cross-site POST), else it is refused (login CSRF). Success: a new session cookie, the binding cookie cleared, and 303 to the RelayState path if it passes the `returnTo` rules, else `auth.landingPath`. Any refusal: 401 `saml_rejected` (the reason is only in the audit log). Bodies over `maxMessageBytes` (256 kB): 413.
         */
        post: operations["samlAssertionConsumerService"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/saml/{provider}/metadata": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** SAML service provider metadata. */
        get: operations["samlMetadata"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/saml/{provider}/slo": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * SAML Single Logout (HTTP-Redirect binding): an IdP LogoutRequest, or the LogoutResponse to ours.
         * @description A LogoutRequest must be signed (SigAlg RSA-SHA256/512, by a configured IdP certificate), name keywarden's SLO URL as Destination and be fresh and unused; every session of its NameID (or only the one of its SessionIndex) ends, on every instance, and the IdP gets a LogoutResponse (303). Refusals are a generic 401 `saml_rejected`.
         */
        get: operations["samlSingleLogout"];
        put?: never;
        /**
         * SAML Single Logout (HTTP-POST binding): an IdP LogoutRequest, or the LogoutResponse to ours.
         * @description The message must carry an enveloped RSA-SHA256/512 XML signature by a configured IdP certificate. An obeyed LogoutRequest is answered with a LogoutResponse (303 to the IdP's SLO URL).
         */
        post: operations["samlSingleLogoutPost"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Who am I — for browser sessions, bearer tokens and guest tokens alike. */
        get: operations["getSession"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/credentials": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Scoped, short-lived AWS credentials (parameters in the query).
         * @description The GET form is for the AWS SDK's `fromHttp` provider and `credential_process` helpers.
         */
        get: operations["getCredentials"];
        put?: never;
        /** Scoped, short-lived AWS credentials (parameters in a JSON body). */
        post: operations["postCredentials"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/favicon.ico": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The site icon (`portal.logoFile`, else keywarden's mark as a 32×32 ICO).
         * @description Served ahead of rate limits and sessions, cached for a day.
         */
        get: operations["getFavicon"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness. */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/identities/guest": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create or resume a guest identity, or upgrade it at sign-in.
         * @description Without a credential: creates a guest identity (201). With a guest token or guest
         *     session: answers that same identity (200); nothing is created. A signed-in user has no
         *     guest identity (409) — unless the request is the **sign-in upgrade**.
         *
         *     **Sign-in upgrade (mobile and API clients).** `Authorization: Bearer <JWT>` together
         *     with `X-Guest-Token: <guestToken>` links the guest identity to the bearer token's login,
         *     as Cognito links developer identities: if the login has no identity yet it joins the
         *     guest identity, whose id (and data) it keeps; if it already has one, Cognito merges the
         *     guest identity into it and the user keeps the existing id. The answer (200) is the
         *     identity id the user has from now on — compare it with the guest's to know whether it
         *     changed. The guest token is used up in the same step: afterwards it answers 401
         *     `invalid_guest_token` everywhere (a retry of the upgrade too; the identity is linked
         *     by then, so carry on with the bearer token alone). A bad guest token answers 401
         *     `invalid_guest_token` and nothing is linked; a bad bearer token answers 401
         *     `invalid_token` whatever the guest token. Browser sessions need no such call: the
         *     guest kept in the session is linked on the first credential request after sign-in.
         *
         *     Limited strictly per IP (`guest` rate-limit group).
         */
        post: operations["createGuestIdentity"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics. */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This API description (OpenAPI 3.1, JSON). */
        get: operations["getOpenApi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Enterprise portal (server-rendered): the AWS roles the signed-in user may take.
         * @description Signed out: the sign-in chooser (a link per provider, back to `/portal`). Signed in: the
         *     roles role mapping allows, grouped by account (`portal.accounts` names them), each with
         *     "Get credentials" and "Open console" forms and a `~/.aws/config` profile for the CLI; a
         *     user with no role sees a page saying so. Pages carry a strict CSP (scripts and styles
         *     from this origin only, nothing inline) and `Cache-Control: no-store`.
         */
        get: operations["portal"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/admin": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The admin page (when admin is configured); with `user`, that user's lookup and the actions. */
        get: operations["portalAdmin"];
        put?: never;
        /** Act on a user from the admin page: `revoke` (with `until`, `reason`), `unsuspend`, `end-session` (`session`), `unlink`, `merge` (`into`), `delete-identity` (`confirm=yes`). */
        post: operations["portalAdminAction"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/assets/logo": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The mark in the portal's header (`portal.logoFile`, else keywarden's own SVG mark).
         * @description Served ahead of rate limits and sessions, cached for a day, with a sandboxing
         *     Content-Security-Policy (an SVG opened directly cannot run script). The media type
         *     follows the configured file's extension.
         */
        get: operations["portalLogo"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/assets/portal.css": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The portal's stylesheet. */
        get: operations["portalStyles"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/assets/portal.js": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The portal's script (copy buttons, expiry countdown); progressive enhancement only. */
        get: operations["portalScript"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/cli/sign-out": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Revoke every keywarden CLI token of the signed-in user (all devices). */
        post: operations["portalCliSignOut"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/console": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Open the AWS console as a role (federation endpoint getSigninToken, then a redirect to its login URL).
         * @description Vends credentials for the role, exchanges them server-side for a sign-in token at
         *     `portal.federationEndpoint` (`Action=getSigninToken`, optional `SessionDuration`), and
         *     answers 303 to `…?Action=login&Issuer=<portal>&Destination=<portal.consoleUrl>&SigninToken=…`.
         *     A `portal.console_signin` audit event.
         */
        post: operations["portalConsole"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/credentials": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Take credentials for a role: a page with shell `export` lines, a `~/.aws/credentials` profile and PowerShell.
         * @description A form post from `/portal` (synchronizer token in `_csrf`). The page is `Cache-Control: no-store`. Each issue is a `credentials.issued` audit event (`channel: portal`).
         */
        post: operations["portalCredentials"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/device": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Device approval page (RFC 8628 verification URI): enter or confirm the CLI's user code.
         * @description Signed out: the sign-in chooser, coming back here. With `user_code`: the request it names
         *     (when, from where, which client) and Approve/Deny buttons. Lookups are limited per user
         *     and per IP (`portal.device.userCodeAttempts`).
         */
        get: operations["portalDevice"];
        put?: never;
        /** Approve or deny a device sign-in (the user code is single use). */
        post: operations["portalDeviceDecision"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sign out (ends the server session); the page links to the IdP's sign-out when it has one. */
        post: operations["portalLogout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/portal/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * "Your sessions": the signed-in user's browser sessions and CLI sign-ins, from every instance.
         * @description Each with where it came from, when it signed in and was last used, and a button that ends it. Signed out, the sign-in chooser.
         */
        get: operations["portalSessions"];
        put?: never;
        /** End one of the user's sessions (`session`) or CLI sign-ins (`cliToken`); ending this browser's session signs out. */
        post: operations["portalEndSession"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/presign": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A presigned GET or PUT URL, or a presigned POST form, for a key under the caller's prefix.
         * @description Signed with the caller's own scoped credentials (the broker's cache, the bucket's
         *     `credentialScope`), so S3 enforces the same policy. Every check runs before anything is
         *     signed. 403 codes: `forbidden_prefix` (another identity's prefix), `operation_not_allowed`
         *     (the bucket's `operations` for the caller's role or for guests), `csrf_header_missing`.
         *     Answers carry `Cache-Control: no-store`.
         */
        post: operations["presign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/presign/multipart": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Multipart uploads under the caller's prefix: create, sign parts, complete, abort, list parts. */
        post: operations["presignMultipart"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness (config loaded, store reachable, not shutting down). */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description A user as keywarden names them: `provider:subject` (the login provider's or bearer issuer's name, then the subject), percent-encoded in a path. */
        AdminUser: string;
        /** @description `format=aws-container`. */
        AwsContainerCredentials: {
            AccessKeyId: string;
            Expiration: components["schemas"]["IsoDateTime"];
            SecretAccessKey: string;
            Token: string;
        };
        /**
         * @description `json`: keywarden's shape. `aws-container`: the AWS SDK container credentials provider
         *     (`fromHttp`, `AWS_CONTAINER_CREDENTIALS_FULL_URI`). `credential-process`: the
         *     `credential_process` shape of the AWS CLI and SDKs.
         * @default json
         * @enum {unknown}
         */
        CredentialFormat: "json" | "aws-container" | "credential-process";
        /** @description `format=credential-process`. */
        CredentialProcessCredentials: {
            AccessKeyId: string;
            Expiration: components["schemas"]["IsoDateTime"];
            SecretAccessKey: string;
            SessionToken: string;
            /** @constant */
            Version: 1;
        };
        CredentialRequest: {
            durationSeconds?: number;
            format?: components["schemas"]["CredentialFormat"];
            role?: components["schemas"]["Name"];
            scope?: components["schemas"]["Name"];
        };
        /** @description `format=json`. */
        Credentials: {
            credentials: {
                accessKeyId: string;
                expiration: components["schemas"]["IsoDateTime"];
                secretAccessKey: string;
                sessionToken: string;
            };
            expiration: components["schemas"]["IsoDateTime"];
            identityId: string;
            role: string;
        };
        /** @description RFC 8628 §3.2 device authorization response. */
        DeviceAuthorization: {
            /** @description Opaque, 256 random bits; kept server-side only as a digest. */
            device_code: string;
            expires_in: number;
            interval: number;
            user_code: string;
            /** Format: uri */
            verification_uri: string;
            /** Format: uri */
            verification_uri_complete: string;
        };
        /** @description RFC 8628 §3.5 / RFC 6749 §5.1 token response. */
        DeviceToken: {
            access_token: string;
            expires_in: number;
            /** @constant */
            token_type: "Bearer";
        };
        ErasureResult: {
            cachedCredentials: number;
            cliTokens: number;
            deletedIdentityIds: string[];
            deviceGrants: number;
            issuedCredentials: components["schemas"]["IssuedCredentialsOutcome"];
            sessions: number;
            /** @description Identities Cognito could not delete (DeleteIdentities' UnprocessedIdentityIds). */
            unprocessed: {
                errorCode: string;
                identityId: string;
            }[];
            user: components["schemas"]["AdminUser"];
        };
        GuestIdentity: {
            /** @description Send back as `X-Guest-Token` to resume this identity. Only in `token` mode; shown once, keep it secret. */
            guestToken?: string;
            /** @description The guest's Cognito identity id; after a sign-in upgrade, the signed-in user's. */
            identityId: string;
        };
        GuestRequest: {
            /**
             * @description `token` (the default without `X-CSRF: 1`) answers a guest token for non-browser
             *     clients; `session` (the default with `X-CSRF: 1`) keeps the guest in the browser
             *     session and needs `X-CSRF: 1`.
             * @enum {unknown}
             */
            mode?: "session" | "token";
        };
        /** Format: date-time */
        IsoDateTime: string;
        /** @description Whether the credentials already issued are now refused by AWS (the deny policy on every vended role). */
        IssuedCredentialsOutcome: {
            revoked: boolean;
            roles: {
                /** @enum {unknown} */
                error?: "iam_access_denied" | "iam_unavailable" | "role_not_found" | "policy_too_large" | "policy_full" | "policy_busy" | "iam_error";
                revoked: boolean;
                role: string;
            }[];
            /** @enum {unknown} */
            skipped?: "disabled" | "no_identity";
        };
        /**
         * @description Optional: the prefix the client believes is its own. Anything but the caller's own
         *     prefix exactly is 403 `forbidden_prefix`.
         */
        KeyPrefixClaim: string;
        LogoutResult: {
            /**
             * Format: uri
             * @description The IdP's end-session URL to navigate to (RP-initiated logout), when it has one.
             */
            logoutUrl?: string;
        };
        MultipartRequest: {
            /** @enum {unknown} */
            action: "create" | "signParts" | "complete" | "abort" | "listParts";
            bucket?: string;
            /** @description `create`: the expected total size, checked against the bucket maximum. The real total is checked again at `complete`; an oversize upload is aborted (400 `object_too_large`). */
            contentLength?: number;
            /** @description `create`: the object's Content-Type (rules as for /presign). */
            contentType?: string;
            expiresIn?: number;
            key: components["schemas"]["ObjectKey"];
            /** @description `signParts`: distinct part numbers 1..10000, at most `presign.multipart.maxPartsPerRequest` (default 100) per request (400 `invalid_part_numbers`). */
            partNumbers?: number[];
            /** @description `complete`: the uploaded parts. */
            parts?: {
                etag: string;
                partNumber: number;
            }[];
            prefix?: components["schemas"]["KeyPrefixClaim"];
            /**
             * @description Required for every action but `create`. Must be an upload keywarden created for this
             *     caller and this exact key; otherwise 404 `upload_not_found`.
             */
            uploadId?: string;
        };
        /** @description The fields present depend on `action`. */
        MultipartResult: {
            /** @enum {unknown} */
            action: "create" | "signParts" | "complete" | "abort" | "listParts";
            bucket: string;
            /** @description `complete`: the object's ETag. */
            etag?: string;
            expiresAt?: components["schemas"]["IsoDateTime"];
            /** @description The full object key */
            key: string;
            /** @description `signParts`: one presigned PUT URL per part (send the part bytes, keep the ETag response header); `listParts`: the parts uploaded so far. */
            parts?: {
                etag?: string;
                /** @constant */
                method?: "PUT";
                partNumber: number;
                size?: number;
                /** Format: uri */
                url?: string;
            }[];
            uploadId: string;
        };
        Name: string;
        /** @description RFC 6749 §5.2 error response (the device endpoints speak OAuth). */
        OAuthError: {
            /** @enum {string} */
            error: "invalid_request" | "invalid_client" | "invalid_grant" | "unsupported_grant_type" | "authorization_pending" | "slow_down" | "access_denied" | "expired_token";
            error_description?: string;
        };
        /**
         * @description Relative to the caller's own prefix (the bucket's `keyPrefix`, e.g. `users/<identityId>/`);
         *     the server builds the full key. Refused with 400 `invalid_key` (the problem's `reason`
         *     names the rule) when the key, as given, percent-decoded (repeatedly) or NFKC-normalised,
         *     has `.`/`..` or empty segments, a leading or trailing `/`, a backslash, a dot or slash
         *     look-alike (U+2024, U+FF0E, U+FF0F ...), a control or invisible format character (NUL,
         *     C1, U+2028, bidi overrides, zero-width), `${`, invalid UTF-8 in a `%XX` escape, or is
         *     over 1,024 UTF-8 bytes with the prefix. A key that begins with some identity's prefix
         *     (`users/<identity-id>/...`, with or without a leading `/`, in any of those spellings)
         *     is 403 `forbidden_prefix` when it is another identity's, 400 `invalid_key`
         *     (`repeats_own_prefix`) when it is the caller's own.
         */
        ObjectKey: string;
        PortalForm: {
            /** @description The session's synchronizer token, from a hidden field of the page that shows the form. */
            _csrf: string;
        };
        PresignRequest: {
            /** @description A bucket name from config; the first configured bucket when absent (400 `unknown_bucket` otherwise). */
            bucket?: string;
            /**
             * @description putObject: the exact size, required and signed as Content-Length
             *     (`content_length_required`); postObject: the maximum size (default: the bucket's).
             *     Over the bucket's maximum: 400 `object_too_large`.
             */
            contentLength?: number;
            /**
             * @description putObject/postObject: the Content-Type the upload must carry (signed into the URL or
             *     the POST policy). Required when the bucket restricts types (`content_type_required`,
             *     `content_type_not_allowed`).
             */
            contentType?: string;
            /**
             * @description URL lifetime in seconds, 1 to the bucket's maximum (400 `invalid_expires_in`);
             *     default: the bucket's default. Shortened silently to the signing credentials'
             *     remaining life; `expiresAt` in the answer is the truth.
             */
            expiresIn?: number;
            key: components["schemas"]["ObjectKey"];
            /** @enum {unknown} */
            operation: "getObject" | "putObject" | "postObject";
            prefix?: components["schemas"]["KeyPrefixClaim"];
        };
        PresignResult: {
            bucket: string;
            expiresAt: components["schemas"]["IsoDateTime"];
            /** @description Form fields to send before the file (postObject). */
            fields?: {
                [key: string]: string;
            };
            /** @description Headers signed into the URL (PUT: Content-Length, Content-Type); the request must carry exactly these values. */
            headers?: {
                [key: string]: string;
            };
            /** @description The full object key */
            key: string;
            /** @enum {unknown} */
            method: "GET" | "PUT" | "POST";
            /** Format: uri */
            url: string;
        };
        /** @description RFC 9457 problem details. */
        Problem: {
            /**
             * @description Stable machine-readable error code; branch on it, not on `detail`. New codes may be
             *     added, so treat an unknown one by its status. Every code keywarden answers:
             *
             *     * 400: `invalid_request`, `invalid_user`, `malformed_body`, `request_aborted`, `https_required`,
             *       `invalid_login_state`, `invalid_logout_token`, `invalid_duration`, `unknown_scope`,
             *       `sessions_unavailable`, `invalid_key` (with `reason`), `unknown_bucket`,
             *       `invalid_expires_in`, `content_type_required`, `content_type_not_allowed`,
             *       `content_length_required`, `object_too_large`, `invalid_part_numbers`,
             *       `invalid_part`, `invalid_part_order`, `part_too_small`
             *     * 401: `unauthenticated`, `invalid_token`, `invalid_guest_token`, `login_failed`,
             *       `saml_rejected`
             *     * 403: `csrf_header_missing`, `csrf_token_invalid`, `guest_not_allowed`,
             *       `guests_disabled`, `role_not_allowed`, `no_role_allowed`, `scope_not_available`,
             *       `aws_access_denied`, `forbidden_prefix`, `operation_not_allowed`,
             *       `s3_access_denied`, `user_suspended`, `admin_required`
             *     * 404: `not_found`, `unknown_provider`, `upload_not_found`, `unknown_session`,
             *       `unknown_identity`
             *     * 409: `already_signed_in`
             *     * 413: `payload_too_large`
             *     * 415: `unsupported_media_type`
             *     * 429: `rate_limited`
             *     * 500: `internal_error`, `credentials_misconfigured`, `s3_error`
             *     * 501: `vending_not_configured`
             *     * 503: `service_unavailable`
             */
            code: string;
            detail?: string;
            /** @description Field-level validation problems (400 `invalid_request`). */
            errors?: {
                message: string;
                path: string;
            }[];
            /** @description Also in the `X-Request-Id` response header; quote it in support requests. */
            requestId?: string;
            status: number;
            title: string;
            /** @description `urn:keywarden:problem:<code>` */
            type: string;
        } & {
            [key: string]: unknown;
        };
        Readiness: {
            checks: {
                [key: string]: "ok" | "failing";
            };
            /** @enum {unknown} */
            status: "ready" | "not_ready";
        };
        RevocationResult: {
            cachedCredentials: number;
            cliTokens: number;
            deviceGrants: number;
            identityIds: string[];
            issuedCredentials: components["schemas"]["IssuedCredentialsOutcome"];
            revokedBefore: components["schemas"]["IsoDateTime"];
            sessions: number;
            suspendedUntil: components["schemas"]["IsoDateTime"] | null;
            user: components["schemas"]["AdminUser"];
        };
        RevokeRequest: {
            /** @description Why (a ticket number, say): kept in the suspension and the audit trail. */
            reason?: string;
            /** @description When the suspension ends by itself (in the future, within ten years); absent, until lifted. */
            until?: components["schemas"]["IsoDateTime"];
        };
        /** @description Who the caller is, however they authenticated. */
        Session: {
            /** @description Role names this caller may ask for in `/credentials`. */
            allowedRoles: string[];
            /** @enum {unknown} */
            authMethod: "session" | "bearer" | "guest-token";
            email?: string;
            /** @description When the session (idle or absolute timeout) or the bearer token expires. */
            expiresAt?: components["schemas"]["IsoDateTime"];
            /** @description The Cognito identity id, once one has been resolved for the caller. */
            identityId?: string;
            /** @enum {unknown} */
            kind: "user" | "guest";
            name?: string;
            /** @description The login provider's or bearer issuer's configured name, or `guest`. */
            provider: string;
            subject: string;
        };
        Suspension: {
            liftedAt?: components["schemas"]["IsoDateTime"];
            reason?: string;
            /** @description Credentials issued before this were revoked (and stay revoked after the suspension ends). */
            revokedBefore: components["schemas"]["IsoDateTime"];
            /** @description Sign-ins and vends are refused (`user_suspended`). */
            suspended: boolean;
            /** @description When the suspension ends by itself; null until lifted. */
            until: components["schemas"]["IsoDateTime"] | null;
        };
        /** @description What keywarden holds for a user, read from the shared store (any instance) and from Cognito. Never a secret. */
        UserLookup: {
            /** @description Cached credential entries (role, scope, expiry); never the secrets. */
            cachedCredentials: {
                expiresAt: components["schemas"]["IsoDateTime"];
                role: string;
                scope?: string;
            }[];
            cliTokens: {
                clientId: string;
                expiresAt: components["schemas"]["IsoDateTime"];
                id: string;
                issuedAt: components["schemas"]["IsoDateTime"];
                requestedFrom?: string;
                userAgent?: string;
            }[];
            /** @description What LookupDeveloperIdentity answers; null when Cognito knows no identity for the login; absent when Cognito was not asked (vending not configured) or could not answer. */
            cognito?: {
                identityId: string;
                logins: string[];
            } | null;
            /** @description Device sign-ins approved and not yet redeemed by the CLI. */
            deviceGrants: {
                expiresAt: components["schemas"]["IsoDateTime"];
            }[];
            /** @description Guest identities linked to this login. */
            guestIdentities: string[];
            /** @description Every Cognito identity id keywarden knows for this login. */
            identityIds: string[];
            provider: string;
            sessions: {
                createdAt: components["schemas"]["IsoDateTime"];
                expiresAt: components["schemas"]["IsoDateTime"];
                /** @description A handle for `DELETE /admin/users/{user}/sessions/{session}` (not the session id). */
                id: string;
                /** @description The last renewal: within min(60 s, idle timeout / 10) of the last request. */
                lastSeenAt: components["schemas"]["IsoDateTime"];
                provider: string;
                sourceIp?: string;
                userAgent?: string;
            }[];
            subject: string;
            suspension: components["schemas"]["Suspension"] | null;
            user: components["schemas"]["AdminUser"];
        };
    };
    responses: {
        /** @description `unknown_session`: the user has no such session; `unknown_identity`: Cognito has no identity for the user (or the other user of a merge). */
        AdminNotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /**
         * @description The request is not valid. Any route past authentication: `invalid_request` for a malformed
         *     `Authorization: Bearer` header (with an RFC 6750 challenge, `error="invalid_request"`).
         *     Any route that reads a body: `malformed_body` (not parseable as its media type),
         *     `request_aborted`. Route-specific codes are in the operation's description and under
         *     `Problem.code`.
         */
        BadRequest: {
            headers: {
                "WWW-Authenticate": components["headers"]["WwwAuthenticate"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Credentials in the shape `format` asked for. Never cached (`Cache-Control: no-store`). */
        CredentialsIssued: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Credentials"] | components["schemas"]["AwsContainerCredentials"] | components["schemas"]["CredentialProcessCredentials"];
            };
        };
        /** @description Not allowed. `csrf_header_missing`: a request authenticated by the session cookie without `X-CSRF: 1`; `user_suspended`: an administrator suspended this user; other codes (`guest_not_allowed`, `role_not_allowed`, `admin_required`, ...) are in the operation's description and under `Problem.code`. */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description A server-rendered page (also for sign-in errors, which show a generic message). */
        HtmlPage: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "text/html": string;
            };
        };
        /** @description `internal_error`, or `credentials_misconfigured` / `s3_error` when AWS refuses keywarden's own configuration. The `detail` is generic; quote `requestId` to the operators. */
        InternalError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `not_found`: no such path, method, or login provider (every `{provider}` path); `unknown_provider` on `/auth/login/{provider}`; `upload_not_found` for multipart uploads. */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description RFC 6749 §5.2 error from the device endpoint itself (`Cache-Control: no-store`). Refusals before it are problem documents: a malformed `Authorization` header (400 `invalid_request`) or a refused bearer or CLI token in it (401 `invalid_token`), both with a challenge. */
        OAuthError: {
            headers: {
                "WWW-Authenticate": components["headers"]["WwwAuthenticate"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OAuthError"];
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `payload_too_large`: the body is over its route's limit (JSON: `server.bodyLimit`, 64 kB by default; device forms 4 kB; portal forms 8 kB; back-channel logout 16 kB; SAML posts the provider's `maxMessageBytes`, 256 kB by default) or a form has too many fields. */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /**
         * @description A portal error page (HTML, `Cache-Control: no-store`): 400 a bad form, 401 not signed in
         *     (link to sign in), 403 `csrf_token_invalid` (missing, wrong or cross-site form token) or
         *     `role_not_allowed`/`no_role_allowed`, 404 unknown or used user code, 413 a form over
         *     8 kB, 415 not a form, 500 an internal error. Failures before the portal's own handlers
         *     (the default rate limit, the session store, a refused `Authorization` header or guest
         *     token, body parsing) answer a problem document instead.
         */
        PortalErrorPage: {
            headers: {
                "WWW-Authenticate": components["headers"]["WwwAuthenticate"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
                "text/html": string;
            };
        };
        /** @description Portal, 429 `rate_limited` or 503 `service_unavailable` (Redis, AWS or the federation endpoint is down): an error page, or a problem document when refused before the portal's own handlers (see `PortalErrorPage`). Retry after `Retry-After` seconds. */
        PortalRetryLater: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
                "text/html": string;
            };
        };
        /** @description An error. */
        Problem: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Redirect (browser navigation). */
        Redirect: {
            headers: {
                Location: components["headers"]["Location"];
                [name: string]: unknown;
            };
            content?: never;
        };
        /** @description `service_unavailable`: a dependency (Redis, an IdP or its signing keys, AWS) is unavailable; retry after `Retry-After` seconds. Every route but the probes uses Redis (rate limits, sessions), so every route can answer it. */
        ServiceUnavailable: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The sign-in failed (state, nonce, signature, replay...): `invalid_login_state`, `login_failed`, `saml_rejected`. A problem document, or a generic page for browsers. A refused `Authorization` header (400 `invalid_request`, 401 `invalid_token`) or a malformed body (400 `malformed_body`) answers a problem document with a challenge. */
        SignInError: {
            headers: {
                "WWW-Authenticate": components["headers"]["WwwAuthenticate"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
                "text/html": string;
            };
        };
        /** @description `rate_limited`: the rate limit of the route's group (per IP, and per identity once known) is exceeded; retry after `Retry-After` seconds. */
        TooManyRequests: {
            headers: {
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimitPolicy"];
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /**
         * @description No valid credential, always with a challenge. `unauthenticated`: the route needs a
         *     credential and none was sent. `invalid_token`: a bearer JWT or CLI token was refused.
         *     `invalid_guest_token`: a guest token was refused. A credential that is sent is always
         *     checked, on every route past authentication — also on routes that need none — and a
         *     refused one is never ignored in favour of another.
         */
        Unauthorized: {
            headers: {
                "WWW-Authenticate": components["headers"]["Challenge"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `unsupported_media_type`: a body the route does not take (JSON routes take only `application/json`), or a charset or `Content-Encoding` the body parsers do not support. */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `vending_not_configured`: this server has no identity pool (`aws.pool.identityPoolId`) or no role (`credentials.roles`), so it vends no credentials and signs no URLs. Retrying does not help; the operators must configure credential vending (start-up logs name the missing settings). */
        VendingNotConfigured: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
    };
    parameters: {
        /** @description Wanted credential lifetime, 900 … the role's `maxSessionDuration`; outside that range → 400 `invalid_duration`. The enhanced flow always issues one hour. */
        DurationSeconds: number;
        Format: components["schemas"]["CredentialFormat"];
        /** @description A login provider's configured name. */
        Provider: string;
        /** @description A role name from config the caller is allowed to assume; the caller's default role when absent. */
        Role: components["schemas"]["Name"];
        /** @description A scope (session-policy template) name from config. */
        Scope: components["schemas"]["Name"];
    };
    requestBodies: never;
    headers: {
        /**
         * @description The challenge of a 401: `Bearer realm="keywarden"` when no credential was sent;
         *     `Bearer realm="keywarden", error="invalid_token", error_description="…"` when a bearer
         *     JWT or CLI token was refused; `GuestToken realm="keywarden", error="invalid_token"` when
         *     a guest token was refused.
         */
        Challenge: string;
        /** @description Where the browser goes next. */
        Location: string;
        /** @description IETF RateLimit field, e.g. `"default";r=42;t=30`. */
        RateLimit: string;
        /** @description IETF RateLimit-Policy field, e.g. `"default";q=600;w=60`. */
        RateLimitPolicy: string;
        /** @description Seconds to wait before retrying. */
        RetryAfter: string;
        /**
         * @description RFC 6750 challenge: `Bearer realm="keywarden"` when no credential was sent;
         *     `Bearer realm="keywarden", error="invalid_token", error_description="…"` when a bearer
         *     token was refused; `GuestToken realm="keywarden", error="invalid_token"` when a guest
         *     token was refused.
         */
        WwwAuthenticate: string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    adminLookupUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user: components["schemas"]["AdminUser"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user (an unknown user has empty lists). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserLookup"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    adminDeleteIdentity: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user: components["schemas"]["AdminUser"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Erased. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErasureResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    adminMergeUsers: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user: components["schemas"]["AdminUser"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    into: components["schemas"]["AdminUser"];
                };
            };
        };
        responses: {
            /** @description Merged. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description The surviving identity. */
                        identityId: string;
                        into: components["schemas"]["AdminUser"];
                        user: components["schemas"]["AdminUser"];
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["AdminNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["VendingNotConfigured"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    adminRevokeUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user: components["schemas"]["AdminUser"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["RevokeRequest"];
            };
        };
        responses: {
            /** @description What was ended and revoked. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RevocationResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    adminRevokeSession: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The session's `id` from the lookup. */
                session: string;
                user: components["schemas"]["AdminUser"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session has ended. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["AdminNotFound"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    adminUnlinkUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user: components["schemas"]["AdminUser"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description Unlinked. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description The identity the login left. */
                        identityId: string;
                        user: components["schemas"]["AdminUser"];
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["AdminNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["VendingNotConfigured"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    adminUnsuspendUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user: components["schemas"]["AdminUser"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description Lifted (or there was nothing to lift). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        user: components["schemas"]["AdminUser"];
                        wasSuspended: boolean;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    oidcBackChannelLogout: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A login provider's configured name. */
                provider: components["parameters"]["Provider"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": {
                    logout_token: string;
                };
            };
        };
        responses: {
            /** @description The sessions of that user or session id are ended. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    oidcCallback: {
        parameters: {
            query?: {
                code?: string;
                error?: string;
                iss?: string;
                state?: string;
            };
            header?: never;
            path: {
                /** @description A login provider's configured name. */
                provider: components["parameters"]["Provider"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            303: components["responses"]["Redirect"];
            400: components["responses"]["SignInError"];
            401: components["responses"]["SignInError"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    formPostCallback: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A login provider's configured name. */
                provider: components["parameters"]["Provider"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": {
                    code?: string;
                    error?: string;
                    state?: string;
                    /** @description JSON, first authorization only: {"name": {"firstName", "lastName"}, "email"}. */
                    user?: string;
                };
            };
        };
        responses: {
            303: components["responses"]["Redirect"];
            400: components["responses"]["SignInError"];
            401: components["responses"]["SignInError"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deviceAuthorize: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": {
                    /** @description One of `portal.device.clientIds` (default `keywarden-cli`). */
                    client_id: string;
                    /** @description Ignored. */
                    scope?: string;
                };
            };
        };
        responses: {
            /** @description The codes. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceAuthorization"];
                };
            };
            400: components["responses"]["OAuthError"];
            401: components["responses"]["OAuthError"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deviceTokenRevoke: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": {
                    client_id: string;
                    token: string;
                };
            };
        };
        responses: {
            /** @description Revoked, or there was nothing to revoke. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            400: components["responses"]["OAuthError"];
            401: components["responses"]["OAuthError"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deviceToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": {
                    client_id: string;
                    device_code: string;
                    /** @constant */
                    grant_type: "urn:ietf:params:oauth:grant-type:device_code";
                };
            };
        };
        responses: {
            /** @description The CLI token (`Cache-Control: no-store`). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceToken"];
                };
            };
            400: components["responses"]["OAuthError"];
            401: components["responses"]["OAuthError"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    startLogin: {
        parameters: {
            query?: {
                returnTo?: string;
            };
            header?: never;
            path: {
                /** @description A login provider's configured name. */
                provider: components["parameters"]["Provider"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["HtmlPage"];
            302: components["responses"]["Redirect"];
            303: components["responses"]["Redirect"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Logged out (or there was no session). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LogoutResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    samlAssertionConsumerService: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A login provider's configured name. */
                provider: components["parameters"]["Provider"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": {
                    RelayState?: string;
                    SAMLResponse: string;
                };
            };
        };
        responses: {
            303: components["responses"]["Redirect"];
            400: components["responses"]["SignInError"];
            401: components["responses"]["SignInError"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    samlMetadata: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A login provider's configured name. */
                provider: components["parameters"]["Provider"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description SP metadata XML. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/samlmetadata+xml": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    samlSingleLogout: {
        parameters: {
            query?: {
                RelayState?: string;
                SAMLRequest?: string;
                SAMLResponse?: string;
                SigAlg?: string;
                Signature?: string;
            };
            header?: never;
            path: {
                /** @description A login provider's configured name. */
                provider: components["parameters"]["Provider"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            302: components["responses"]["Redirect"];
            303: components["responses"]["Redirect"];
            400: components["responses"]["SignInError"];
            401: components["responses"]["SignInError"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    samlSingleLogoutPost: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A login provider's configured name. */
                provider: components["parameters"]["Provider"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": {
                    RelayState?: string;
                    SAMLRequest?: string;
                    SAMLResponse?: string;
                };
            };
        };
        responses: {
            303: components["responses"]["Redirect"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["SignInError"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getSession: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Session"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getCredentials: {
        parameters: {
            query?: {
                /** @description Wanted credential lifetime, 900 … the role's `maxSessionDuration`; outside that range → 400 `invalid_duration`. The enhanced flow always issues one hour. */
                durationSeconds?: components["parameters"]["DurationSeconds"];
                format?: components["parameters"]["Format"];
                /** @description A role name from config the caller is allowed to assume; the caller's default role when absent. */
                role?: components["parameters"]["Role"];
                /** @description A scope (session-policy template) name from config. */
                scope?: components["parameters"]["Scope"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["CredentialsIssued"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["VendingNotConfigured"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    postCredentials: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CredentialRequest"];
            };
        };
        responses: {
            200: components["responses"]["CredentialsIssued"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["VendingNotConfigured"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getFavicon: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The icon. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/jpeg": string;
                    "image/png": string;
                    "image/svg+xml": string;
                    "image/webp": string;
                    "image/x-icon": string;
                };
            };
            /** @description Not modified (ETag). */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ok";
                    };
                };
            };
        };
    };
    createGuestIdentity: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["GuestRequest"];
            };
        };
        responses: {
            /** @description The caller's existing guest identity; after a sign-in upgrade, the identity the user now has (no `guestToken`). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GuestIdentity"];
                };
            };
            /** @description A new guest identity (`guestToken` in token mode). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GuestIdentity"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            /** @description `already_signed_in`: a signed-in caller without a guest token to upgrade. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["VendingNotConfigured"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition format. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
        };
    };
    getOpenApi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    portal: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["HtmlPage"];
            302: components["responses"]["Redirect"];
            303: components["responses"]["Redirect"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalAdmin: {
        parameters: {
            query?: {
                user?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["HtmlPage"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            403: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalAdminAction: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PortalForm"] & {
                    /** @enum {unknown} */
                    action: "revoke" | "unsuspend" | "end-session" | "unlink" | "merge" | "delete-identity";
                    /** @constant */
                    confirm?: "yes";
                    into?: string;
                    reason?: string;
                    session?: string;
                    until?: string;
                    user: string;
                };
            };
        };
        responses: {
            200: components["responses"]["HtmlPage"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            403: components["responses"]["PortalErrorPage"];
            404: components["responses"]["PortalErrorPage"];
            413: components["responses"]["PortalErrorPage"];
            415: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            500: components["responses"]["PortalErrorPage"];
            501: components["responses"]["PortalErrorPage"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalLogo: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The logo. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/jpeg": string;
                    "image/png": string;
                    "image/svg+xml": string;
                    "image/webp": string;
                    "image/x-icon": string;
                };
            };
            /** @description Not modified (ETag). */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    portalStyles: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The stylesheet. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/css": string;
                };
            };
            /** @description Not modified (ETag). */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    portalScript: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The script. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/javascript": string;
                };
            };
            /** @description Not modified (ETag). */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    portalCliSignOut: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PortalForm"];
            };
        };
        responses: {
            200: components["responses"]["HtmlPage"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            403: components["responses"]["PortalErrorPage"];
            413: components["responses"]["PortalErrorPage"];
            415: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalConsole: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PortalForm"] & {
                    role: components["schemas"]["Name"];
                };
            };
        };
        responses: {
            303: components["responses"]["Redirect"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            403: components["responses"]["PortalErrorPage"];
            413: components["responses"]["PortalErrorPage"];
            415: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            500: components["responses"]["PortalErrorPage"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalCredentials: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PortalForm"] & {
                    durationSeconds?: string;
                    role: components["schemas"]["Name"];
                };
            };
        };
        responses: {
            200: components["responses"]["HtmlPage"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            403: components["responses"]["PortalErrorPage"];
            413: components["responses"]["PortalErrorPage"];
            415: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            500: components["responses"]["PortalErrorPage"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalDevice: {
        parameters: {
            query?: {
                user_code?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["HtmlPage"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            404: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalDeviceDecision: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PortalForm"] & {
                    /** @enum {unknown} */
                    decision: "approve" | "deny";
                    user_code: string;
                };
            };
        };
        responses: {
            200: components["responses"]["HtmlPage"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            403: components["responses"]["PortalErrorPage"];
            404: components["responses"]["PortalErrorPage"];
            413: components["responses"]["PortalErrorPage"];
            415: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalLogout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PortalForm"];
            };
        };
        responses: {
            200: components["responses"]["HtmlPage"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            403: components["responses"]["PortalErrorPage"];
            413: components["responses"]["PortalErrorPage"];
            415: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalSessions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["HtmlPage"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    portalEndSession: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PortalForm"] & {
                    cliToken?: string;
                    session?: string;
                };
            };
        };
        responses: {
            200: components["responses"]["HtmlPage"];
            400: components["responses"]["PortalErrorPage"];
            401: components["responses"]["PortalErrorPage"];
            403: components["responses"]["PortalErrorPage"];
            413: components["responses"]["PortalErrorPage"];
            415: components["responses"]["PortalErrorPage"];
            429: components["responses"]["PortalRetryLater"];
            503: components["responses"]["PortalRetryLater"];
        };
    };
    presign: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PresignRequest"];
            };
        };
        responses: {
            /** @description The presigned request. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PresignResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["VendingNotConfigured"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    presignMultipart: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MultipartRequest"];
            };
        };
        responses: {
            /** @description The result of the action. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MultipartResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["VendingNotConfigured"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready for traffic. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description Not ready. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
}
