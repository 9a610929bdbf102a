// The one place third-party SDKs are loaded: each on its first use, never at activation.
//
// Parsing and evaluating an SDK costs tens to hundreds of milliseconds on the extension
// host thread, which every extension shares, so dist/extension.js holds only OnBehalf's own
// code. Each SDK is its own file, dist/vendor/<name>.js (built from src/vendor/<name>.ts, a
// separate esbuild entry point), and the `require('../vendor/<name>')` calls below are
// rewritten by esbuild.mjs to `require('./vendor/<name>.js')`. In the file-by-file test
// build (out/**) the same calls load out/src/vendor/<name>.js, which re-exports the package.
// The types are the packages' own: nothing is widened on the way.

import type * as AnthropicVendor from '../vendor/anthropic';
import type * as JoseVendor from '../vendor/jose';
import type * as McpVendor from '../vendor/mcp';
import type * as ScalekitVendor from '../vendor/scalekit';
import type * as ValidationVendor from '../vendor/validation';
import type * as ZodVendor from '../vendor/zod';

/**
 * Node's require, declared here rather than taken from @types/node: src/shared/protocol.ts
 * loads zod through this module, and src/shared is type-checked for the webview too, which
 * has no Node types (the webview never calls it).
 */
declare function require(id: string): unknown;

type AnthropicSdk = typeof AnthropicVendor;
type JoseSdk = typeof JoseVendor;
type ScalekitSdk = typeof ScalekitVendor;
type McpSdk = typeof McpVendor;
type ValidationSdk = typeof ValidationVendor;
/** zod/mini, cut to the functions OnBehalf's schemas use (src/vendor/zod.ts). */
export type ZodSdk = typeof ZodVendor;

/** What the log says about each SDK: which one, and how long loading it took. */
export type SdkLoadListener = (sdk: string, milliseconds: number) => void;

const listeners = new Set<SdkLoadListener>();

/** Called once per SDK as it loads (activate() logs it). */
export function onSdkLoaded(listener: SdkLoadListener): { dispose(): void } {
  listeners.add(listener);
  return { dispose: () => void listeners.delete(listener) };
}

function timed<T>(name: string, load: () => T): T {
  const started = performance.now();
  const sdk = load();
  const milliseconds = performance.now() - started;
  for (const listener of [...listeners]) listener(name, milliseconds);
  return sdk;
}

// Loading on first use is the point: a static import would load each SDK at activation.
let anthropic: AnthropicSdk | undefined;
/** @anthropic-ai/sdk, on the first message (or the first key check). */
export function anthropicSdk(): AnthropicSdk {
  return (anthropic ??= timed('Anthropic SDK', () => require('../vendor/anthropic') as AnthropicSdk));
}

let scalekit: ScalekitSdk | undefined;
/** @scalekit-sdk/node, on the first connection check. */
export function scalekitSdk(): ScalekitSdk {
  return (scalekit ??= timed('Scalekit SDK', () => require('../vendor/scalekit') as ScalekitSdk));
}

let mcp: McpSdk | undefined;
/** @modelcontextprotocol/sdk (with its zod), only when the enterprise PostHog connection is used. */
export function mcpSdk(): McpSdk {
  return (mcp ??= timed('MCP SDK', () => require('../vendor/mcp') as McpSdk));
}

let validation: ValidationSdk | undefined;
/** Ajv and re2js, on the first tool-input check. */
export function validationSdk(): ValidationSdk {
  return (validation ??= timed('schema validator (Ajv, re2js)', () => require('../vendor/validation') as ValidationSdk));
}

let zod: ZodSdk | undefined;
/** zod/mini, on the first webview message or saved conversation read. */
export function zodSdk(): ZodSdk {
  return (zod ??= timed('zod/mini validator', () => require('../vendor/zod') as ZodSdk));
}

let jose: JoseSdk | undefined;
/** jose, on the first ID token check (OIDC sign-in, enterprise access). */
export function joseSdk(): JoseSdk {
  return (jose ??= timed('jose JWT library', () => require('../vendor/jose') as JoseSdk));
}
