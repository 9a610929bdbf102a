// Dispatches one ExecuteTool call: checks the input against the tool's
// input_schema `required` list, then runs the tool's handler.
import { findTool } from './catalog';
import { genericHandler } from './handlers-generic';
import { asanaHandlers } from './handlers-asana';
import { asanamcpHandlers } from './handlers-asanamcp';
import { posthogHandlers } from './handlers-posthog';
import { ToolFailure } from './tool-failure';
import type { JsonRecord, ToolHandler } from './tool-context';
import type { EmulatorData } from './world';

const handlers: Record<string, ToolHandler> = { ...posthogHandlers, ...asanaHandlers, ...asanamcpHandlers };

/** Tool names with a hand-written (not generic) handler. */
export const SPECIFIC_TOOL_NAMES: readonly string[] = Object.keys(handlers);

export function missingRequired(schema: JsonRecord, input: JsonRecord): string[] {
  const required = Array.isArray(schema.required) ? schema.required.map(String) : [];
  return required.filter((key) => {
    const v = input[key];
    return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
  });
}

/**
 * Runs a catalog tool for `identifier`. Throws ToolFailure for unknown tools,
 * missing required parameters and handler-level errors.
 */
export function runTool(data: EmulatorData, toolName: string, identifier: string, input: JsonRecord): JsonRecord {
  const found = findTool(toolName);
  if (!found) throw new ToolFailure('not_found', `Tool ${toolName} not found.`);
  const schema = found.tool.input_schema;
  const missing = missingRequired(schema, input);
  if (missing.length > 0) {
    throw new ToolFailure('invalid_input', `Missing required parameter${missing.length > 1 ? 's' : ''} for ${toolName}: ${missing.join(', ')}.`);
  }
  const handler = handlers[toolName] ?? genericHandler;
  return handler(input, { toolName, connector: found.connector, identifier, schema, data });
}
