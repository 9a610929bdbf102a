// dist/vendor/mcp.js: the MCP SDK (with the zod it bundles), loaded only on the enterprise path
// (src/core/sdkLoader.ts).
export { Client } from '@modelcontextprotocol/sdk/client/index.js';
export { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
export { McpError } from '@modelcontextprotocol/sdk/types.js';
