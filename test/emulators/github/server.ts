// A small GitHub REST API for the gateway's GitHub identity: the two endpoints it calls,
// answering with GitHub's own response shapes and status codes.
//
// - GET /user, "Get the authenticated user":
//   https://docs.github.com/en/rest/users/users#get-the-authenticated-user
//   200 with the private-user object; 401 `{"message":"Bad credentials","documentation_url":…,"status":"401"}`
//   for a missing, unknown or revoked token.
// - GET /user/memberships/orgs/{org}, "Get an organization membership for the authenticated user":
//   https://docs.github.com/en/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user
//   200 `{url, state: "active"|"pending", role, organization_url, organization, user}`; 404 when the user
//   is not a member (GitHub does not tell non-members apart from unknown orgs); 403 when the token
//   lacks the `read:org` scope.
// Tokens are sent as `Authorization: Bearer <token>` or `token <token>`, both accepted by GitHub.
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { listenOn } from '../listen';

export interface GithubUser {
  readonly id: number;
  readonly login: string;
  readonly name: string;
  readonly email: string;
}

export const DEFAULT_GITHUB_USERS: readonly GithubUser[] = [
  { id: 583231, login: 'octocat', name: 'The Octocat', email: 'octocat@github.com' },
  { id: 9919, login: 'hubot', name: 'Hubot', email: 'hubot@github.com' },
];

export interface GithubEmulator {
  readonly url: string;
  readonly users: readonly GithubUser[];
  /** Every request, in order: method, path, the token's user id (or null). */
  readonly log: readonly { method: string; path: string; userId: number | null; status: number }[];
  /** A new OAuth token for the user (`gho_…`), with or without the read:org scope. */
  issueToken(userId: number, opts?: { readOrg?: boolean }): string;
  revokeToken(token: string): void;
  /** Org membership: `active`, `pending`, or absent (not a member). */
  setMembership(org: string, userId: number, state: 'active' | 'pending' | undefined): void;
  close(): Promise<void>;
}

const docs = 'https://docs.github.com/rest';

export async function startGithubEmulator(opts: { port?: number; host?: string; users?: GithubUser[] } = {}): Promise<GithubEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const users = (opts.users ?? DEFAULT_GITHUB_USERS).map((u) => ({ ...u }));
  const tokens = new Map<string, { userId: number; readOrg: boolean }>();
  const memberships = new Map<string, 'active' | 'pending'>();
  const log: { method: string; path: string; userId: number | null; status: number }[] = [];
  let url = '';

  const userObject = (user: GithubUser) => ({
    login: user.login,
    id: user.id,
    node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: '',
    url: `${url}/users/${user.login}`,
    html_url: `https://github.com/${user.login}`,
    type: 'User',
    site_admin: false,
    name: user.name,
    company: null,
    blog: '',
    location: null,
    email: user.email,
    hireable: null,
    bio: null,
    public_repos: 2,
    followers: 20,
    following: 0,
    created_at: '2008-01-14T04:33:35Z',
    updated_at: '2026-01-01T00:00:00Z',
  });

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const auth = /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const grant = auth ? tokens.get(auth) : undefined;
    const user = grant ? users.find((u) => u.id === grant.userId) : undefined;
    const send = (status: number, body: unknown) => {
      log.push({ method: req.method ?? '', path, userId: user?.id ?? null, status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(404, { message: 'Not Found', documentation_url: docs, status: '404' });
    if (!user || !grant) return send(401, { message: 'Bad credentials', documentation_url: docs, status: '401' });
    if (path === '/user') return send(200, userObject(user));
    const org = /^\/user\/memberships\/orgs\/([^/]+)$/.exec(path)?.[1];
    if (org !== undefined) {
      if (!grant.readOrg) {
        return send(403, {
          message: 'You need at least read:org scope or user scope to list your organization memberships.',
          documentation_url: docs,
          status: '403',
        });
      }
      const state = memberships.get(`${org.toLowerCase()}\u0000${user.id}`);
      if (!state) return send(404, { message: 'Not Found', documentation_url: docs, status: '404' });
      return send(200, {
        url: `${url}/orgs/${org}/memberships/${user.login}`,
        state,
        role: 'member',
        organization_url: `${url}/orgs/${org}`,
        organization: { login: org, id: 1, node_id: 'MDEyOk9yZ2FuaXphdGlvbjE=', url: `${url}/orgs/${org}` },
        user: userObject(user),
      });
    }
    return send(404, { message: 'Not Found', documentation_url: docs, status: '404' });
  });
  const port = await listenOn(server, opts.port ?? 0, host);
  url = `http://${host}:${port}`;

  return {
    url,
    users,
    log,
    issueToken(userId, o = {}) {
      const token = `gho_${randomBytes(18).toString('base64url')}`;
      tokens.set(token, { userId, readOrg: o.readOrg ?? true });
      return token;
    },
    revokeToken(token) {
      tokens.delete(token);
    },
    setMembership(org, userId, state) {
      const key = `${org.toLowerCase()}\u0000${userId}`;
      if (state) memberships.set(key, state);
      else memberships.delete(key);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
