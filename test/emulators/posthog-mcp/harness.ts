// One enterprise "world" for tests: the OIDC IdP emulator with the ID-JAG token exchange
// installed, and the PostHog AS + MCP emulator trusting it, on one shared clock.
import { startIdpEmulator, type IdpEmulator, type IdpEmulatorOptions } from '../idp/server';
import { installIdJagGrant, type IdJagGrant, type IdJagGrantOptions } from '../idp/token-exchange';
import { startPostHogMcpEmulator, type PostHogMcpEmulator, type PostHogMcpEmulatorOptions } from './server';

export const ENTERPRISE_CLIENT_ID = 'onbehalf-vscode';
export const ENTERPRISE_CLIENT_SECRET = 'enterprise-client-secret-7f3a9c';

export interface EnterpriseWorldOptions {
  idp?: IdpEmulatorOptions;
  grant?: IdJagGrantOptions;
  posthog?: Partial<PostHogMcpEmulatorOptions>;
  /** Freeze all clocks at this time (ms). Default: real time at start, then frozen. */
  startAt?: number;
}

export interface EnterpriseWorld {
  readonly idp: IdpEmulator;
  readonly grant: IdJagGrant;
  readonly posthog: PostHogMcpEmulator;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The shared clock (pass it to the client as `now`). */
  now(): number;
  /** Moves the IdP's, PostHog's and the client's clock together. */
  advance(ms: number): void;
  /** An ID token for a user, signed by the IdP for this client (as after a real sign-in). */
  idToken(sub?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startEnterpriseWorld(opts: EnterpriseWorldOptions = {}): Promise<EnterpriseWorld> {
  // ES256 keeps start-up fast (RSA key generation dominates otherwise); pass idp.alg to change it.
  const idp = await startIdpEmulator({ clientId: ENTERPRISE_CLIENT_ID, clientSecret: ENTERPRISE_CLIENT_SECRET, alg: 'ES256', ...opts.idp });
  let clock = opts.startAt ?? Date.now();
  idp.setClock(clock);
  const grant = installIdJagGrant(idp, opts.grant);
  const posthog = await startPostHogMcpEmulator({
    idpIssuer: idp.issuer,
    idpJwksUrl: `${idp.issuer}/jwks`,
    clientIds: [idp.clientId],
    ...opts.posthog,
  });
  posthog.setClock(clock);
  return {
    idp,
    grant,
    posthog,
    clientId: idp.clientId,
    clientSecret: ENTERPRISE_CLIENT_SECRET,
    now: () => clock,
    advance(ms) {
      clock += ms;
      idp.setClock(clock);
      posthog.setClock(clock);
    },
    async idToken(sub = 'ada') {
      const user = idp.users.find((u) => u.sub === sub);
      return idp.signJwt(
        { sub, aud: idp.clientId, auth_time: Math.floor(clock / 1000), ...(user ? { name: user.name, email: user.email, email_verified: true } : {}) },
        { expiresInSeconds: 3600 },
      );
    },
    async close() {
      await posthog.close();
      await idp.close();
    },
  };
}
