// Enterprise-managed authorization (ID-JAG) for the PostHog MCP server. Pure TypeScript.
export { DEFAULT_POSTHOG_MCP_URL, EnterprisePostHogClient, type EnterprisePostHogConfig, type EnterpriseStatus, type EnterpriseToolResult } from './client';
export * from './errors';
export {
  ENTERPRISE_MANAGED_AUTHORIZATION_EXTENSION,
  ID_JAG_GRANT_PROFILE,
  ID_JAG_TOKEN_TYPE,
  ID_TOKEN_TOKEN_TYPE,
  JWT_BEARER_GRANT_TYPE,
  TOKEN_EXCHANGE_GRANT_TYPE,
  classifyInvalidGrant,
  discoverEnterpriseAuthorization,
  parseWwwAuthenticate,
  type EnterpriseDiscovery,
} from './oauth';
