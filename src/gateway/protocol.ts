// The OnBehalf gateway's HTTP contract: the request and response bodies of every endpoint,
// shared by the gateway (src/gateway) and the extension's gateway client (src/team).
// Pure types and constants only: no vscode, no Node-only imports beyond types, so both
// sides (and a browser, if it ever came to that) can import it. The prose contract lives in
// docs/team-mode.md ("Protocol").
import type { ConnectionStatus } from '../core/connectionStatus';
import type { ToolRisk } from '../core/toolRisk';

/** Bumped when a body shape changes incompatibly. */
export const gatewayProtocolVersion = 1;

/** The paths, relative to the gateway's base URL (`onbehalf.gateway.url`). */
export const gatewayPaths = {
  healthz: '/healthz',
  readyz: '/readyz',
  info: '/v1/info',
  me: '/v1/me',
  connections: '/v1/connections',
  /** `POST /v1/connections/:connection/authorize` */
  authorize: (connection: string): string => `/v1/connections/${encodeURIComponent(connection)}/authorize`,
  verify: '/v1/connections/verify',
  /** `DELETE /v1/connections/:connection` */
  disconnect: (connection: string): string => `/v1/connections/${encodeURIComponent(connection)}`,
  audit: '/v1/audit',
  mcp: '/mcp',
} as const;

/** Connection names the gateway accepts in a path: the same alphabet the webview protocol allows. */
export const connectionNamePattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

// ---------------------------------------------------------------------------------------
// Errors

export type GatewayErrorCode =
  | 'invalid_token'
  | 'forbidden'
  | 'not_found'
  | 'bad_request'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'scalekit_unavailable'
  | 'scalekit_rejected'
  | 'state_invalid'
  | 'policy_denied'
  | 'audit_unavailable'
  /** A tool call whose answer from Scalekit was lost after it may have run: not sent again. */
  | 'outcome_unknown'
  | 'unavailable'
  | 'internal';

/** Every non-2xx answer. `message` is worded for the user. 429 carries `Retry-After`. */
export interface GatewayErrorBody {
  readonly error: {
    readonly code: GatewayErrorCode;
    readonly message: string;
  };
}

// ---------------------------------------------------------------------------------------
// Health

/** `GET /healthz`: the process is alive. */
export interface HealthResponse {
  readonly ok: true;
}

/** `GET /readyz`: 200 when the database answers, else 503 with `ok: false`. */
export interface ReadyResponse {
  readonly ok: boolean;
  readonly instance: string;
}

// ---------------------------------------------------------------------------------------
// /v1

export type GatewayIdentityProvider = 'oidc' | 'github';

/** `GET /v1/info` (no auth). */
export interface InfoResponse {
  readonly version: string;
  readonly identityProvider: GatewayIdentityProvider;
  /** OIDC only: the issuer the gateway trusts. */
  readonly issuer?: string;
  /** OIDC only: the audiences (client ids) it accepts. */
  readonly audiences?: string[];
  /** The connection names the organisation offers, e.g. ["posthog", "asana"]. */
  readonly connections: string[];
}

/** `GET /v1/me`: what the gateway derived from the bearer token. */
export interface MeResponse {
  readonly identifier: string;
  /** Display only (name, e-mail or GitHub login). */
  readonly label: string;
}

/** The organisation's policy for one connection, as the caller may see it. */
export interface ConnectionPolicyView {
  /** Writes and destructive tools of this connection are denied. */
  readonly readOnly: boolean;
}

export interface ConnectionEntry {
  readonly connection: string;
  readonly status: ConnectionStatus;
  readonly policy: ConnectionPolicyView;
}

/** `GET /v1/connections` */
export interface ConnectionsResponse {
  readonly connections: ConnectionEntry[];
}

/** `POST /v1/connections/:connection/authorize` */
export interface AuthorizeRequest {
  /** The extension's own URI-handler URL, as `vscode.env.asExternalUri` gives it. */
  readonly userVerifyUrl: string;
}

export interface AuthorizeResponse {
  /** The Scalekit authorization link to open in the browser. */
  readonly url: string;
}

/** `POST /v1/connections/verify`: what Scalekit's redirect to userVerifyUrl carried. */
export interface VerifyRequest {
  readonly authRequestId: string;
  readonly state: string;
}

export interface VerifyResponse {
  readonly connection: string;
  readonly status: ConnectionStatus;
}

/** `DELETE /v1/connections/:connection` */
export interface DisconnectResponse {
  readonly connection: string;
  readonly status: 'NOT_CONNECTED';
}

// ---------------------------------------------------------------------------------------
// Audit

/** How the call was approved, as the extension reports it in `tools/call` `_meta`. */
export type ClientDecision = 'user-approved' | 'always' | 'rule' | 'auto';

/** `client-reported`: the extension said so (the gateway cannot check it); `gateway`: the gateway decided (a denial). */
export type DecisionSource = 'client-reported' | 'gateway';

/**
 * `started`: the call was running when the record was read (or its instance stopped
 * mid-call): the record is written before the call runs and completed after it.
 */
export type AuditOutcome = 'ok' | 'error' | 'denied' | 'refused' | 'started';

/** The gateway's own decision when it refuses or denies a call. */
export type GatewayDecision = 'policy-deny' | 'read-only' | 'unknown-tool' | 'lookup-failed' | 'inactive' | 'cancelled';

export interface AuditRecord {
  readonly id: string;
  /** ISO 8601. */
  readonly at: string;
  readonly identifier: string;
  readonly connection: string;
  readonly tool: string;
  readonly risk: ToolRisk;
  readonly decision: ClientDecision | GatewayDecision | 'unreported';
  readonly decisionSource: DecisionSource;
  readonly outcome: AuditOutcome;
  readonly error?: string;
  readonly durationMs: number;
  readonly approvalWaitMs?: number;
  /** HMAC-SHA256 (hex) of the input's canonical JSON under the gateway's audit key. */
  readonly inputHmac: string;
  readonly executionId?: string;
  /** Which gateway instance handled the call (`ONBEHALF_GATEWAY_INSTANCE`). */
  readonly instance: string;
}

/** `GET /v1/audit?limit=50&before=<cursor>`: the caller's own records, newest first. */
export interface AuditQuery {
  /** 1..200, default 50. */
  readonly limit?: number;
  /** The `next` of the previous page. */
  readonly before?: string;
}

export interface AuditResponse {
  readonly records: AuditRecord[];
  /** Present when older records exist: pass it as `before`. */
  readonly next?: string;
}

// ---------------------------------------------------------------------------------------
// MCP (`POST /mcp`, Streamable HTTP, stateless)

/** Keys of `_meta` on tools (tools/list) and on tools/call params. */
export const mcpMeta = {
  /** On each listed tool: the connection it acts through. */
  connection: 'onbehalf/connection',
  /** On each listed tool: `ask` = the org requires approval every time (never offer "always allow"). */
  policy: 'onbehalf/policy',
  /** On tools/call params: how the user approved (client-reported). */
  decision: 'onbehalf/decision',
  /** On tools/call params: how long the call waited for the user, in ms. */
  approvalWaitMs: 'onbehalf/approvalWaitMs',
  /** On a tools/call result: the Scalekit execution id, when there is one. */
  executionId: 'onbehalf/executionId',
  /** On an `isError` tools/call result the gateway refused: `policy_denied`, `audit_unavailable`, … */
  errorCode: 'onbehalf/errorCode',
} as const;

export type ToolPolicyMark = 'ask' | 'allow';

/** `_meta` of one tool in tools/list. */
export interface GatewayToolMeta {
  readonly 'onbehalf/connection': string;
  readonly 'onbehalf/policy': ToolPolicyMark;
}

/** `_meta` the extension may send on tools/call params. */
export interface GatewayCallMeta {
  readonly 'onbehalf/decision'?: ClientDecision;
  readonly 'onbehalf/approvalWaitMs'?: number;
}

export const clientDecisions: readonly ClientDecision[] = ['user-approved', 'always', 'rule', 'auto'];
