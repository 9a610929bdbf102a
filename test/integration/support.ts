// Shared set-up for integration suites: emulators started inside the extension host, the
// extension configured against them, and a stand-in for the system browser that clicks
// through the IdP login page and the Scalekit consent page over HTTP.
import * as assert from 'node:assert/strict';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as http2 from 'node:http2';
import { createRequire } from 'node:module';
import type { Socket as NetSocket } from 'node:net';
import type * as TlsModule from 'node:tls';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { identifierFor } from '../../src/core/identifier';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { startAnthropicEmulator, type AnthropicEmulator } from '../emulators/anthropic/server';
import { startIdpEmulator, type IdpEmulator } from '../emulators/idp/server';
import { startScalekitEmulator, type ScalekitEmulator } from '../emulators/scalekit/server';

export interface Emulators {
  scalekit: ScalekitEmulator;
  anthropic: AnthropicEmulator;
  idp: IdpEmulator;
}

export async function api(): Promise<OnBehalfTestApi> {
  const ext = vscode.extensions.getExtension<OnBehalfTestApi>('onbehalf.onbehalf');
  assert.ok(ext, 'extension present');
  const exports = await ext.activate();
  assert.ok(exports, 'the test API is only handed out in Test mode');
  return exports;
}

export async function startEmulators(): Promise<Emulators> {
  const [scalekit, anthropic, idp] = await Promise.all([startScalekitEmulator(), startAnthropicEmulator(), startIdpEmulator()]);
  return { scalekit, anthropic, idp };
}

export async function stopEmulators(emulators: Emulators | undefined): Promise<void> {
  if (!emulators) return;
  await Promise.all([emulators.scalekit.close(), emulators.anthropic.close(), emulators.idp.close()]);
}

const config = () => vscode.workspace.getConfiguration('onbehalf');

/** Where the emulators listen: all configure needs, so the overhead bench's host can pass its own. */
export interface EmulatorAddresses {
  readonly idp: Pick<Emulators['idp'], 'issuer' | 'clientId'>;
  readonly scalekit: Pick<Emulators['scalekit'], 'url' | 'clientId'>;
  readonly anthropic: Pick<Emulators['anthropic'], 'url'>;
}

export async function configure(emulators: EmulatorAddresses): Promise<void> {
  const target = vscode.ConfigurationTarget.Global;
  await config().update('identity.provider', 'oidc', target);
  await config().update('oidc.issuer', emulators.idp.issuer, target);
  await config().update('oidc.clientId', emulators.idp.clientId, target);
  await config().update('scalekit.environmentUrl', emulators.scalekit.url, target);
  await config().update('scalekit.clientId', emulators.scalekit.clientId, target);
  await config().update('anthropic.baseUrl', emulators.anthropic.url, target);
  await config().update('connections', ['posthog', 'asana'], target);
}

export async function resetSettings(): Promise<void> {
  const target = vscode.ConfigurationTarget.Global;
  for (const key of [
    'identity.provider',
    'oidc.issuer',
    'oidc.clientId',
    'scalekit.environmentUrl',
    'scalekit.clientId',
    'anthropic.baseUrl',
    'connections',
    'readOnly',
    'toolRules',
    'model',
    'maxSteps',
    'gateway.url',
  ]) {
    await config().update(key, undefined, target);
  }
}

/**
 * Turns the browser-facing callback URL (code-server's /callback?vscode-scheme=…, or a
 * vscode:// URI) back into the URI the extension's handler receives, keeping every
 * parameter the service appended, exactly as code-server does.
 */
export function handlerUriFromCallback(callback: string): vscode.Uri {
  const url = new URL(callback);
  if (!url.searchParams.has('vscode-scheme')) return vscode.Uri.parse(callback);
  const query = new URLSearchParams(url.searchParams.get('vscode-query') ?? '');
  for (const [key, value] of url.searchParams) {
    if (!key.startsWith('vscode-')) query.append(key, value);
  }
  return vscode.Uri.from({
    scheme: url.searchParams.get('vscode-scheme')!,
    authority: url.searchParams.get('vscode-authority')!,
    path: url.searchParams.get('vscode-path')!,
    query: query.toString(),
  });
}

export interface Browser {
  /** Every URL the extension opened, in order. */
  readonly opened: string[];
  /** Callback URIs the browser delivered, and how each was handled. */
  readonly delivered: { uri: vscode.Uri; ok: boolean; error?: unknown }[];
  /** What the next consent page should answer. */
  consent: 'allow' | 'deny' | 'ignore';
  /** Which demo user clicks on the IdP login page. */
  user: string;
  /** 'hold': the IdP login page is left open (the sign-in stays pending) until a test finishes it. */
  idpLogin: 'click' | 'hold';
}

/** Clicks `user` on the IdP login page for `authorizeUrl`; returns where the IdP redirects the browser. */
export async function idpLoginRedirect(authorizeUrl: string, user: string): Promise<string | undefined> {
  const html = await (await fetch(authorizeUrl)).text();
  const href = new RegExp(`id="login-${user}" href="([^"]+)"`).exec(html)?.[1];
  assert.ok(href, `no login link for ${user}`);
  const login = await fetch(new URL(href.replace(/&amp;/g, '&'), authorizeUrl), { redirect: 'manual' });
  return login.headers.get('location') ?? undefined;
}

/** A browser that clicks through the IdP login page and the Scalekit consent page. */
export function installBrowser(onbehalf: OnBehalfTestApi): Browser {
  const browser: Browser = { opened: [], delivered: [], consent: 'allow', user: 'ada', idpLogin: 'click' };
  onbehalf.setExternalOpener(async (url) => {
    browser.opened.push(url);
    void (async () => {
      let callback: string | undefined;
      if (url.includes('/authorize')) {
        if (browser.idpLogin === 'hold') return;
        callback = await idpLoginRedirect(url, browser.user);
      } else if (url.includes('/connect/')) {
        if (browser.consent === 'ignore') return;
        await fetch(url);
        const answer = await fetch(url, { method: 'POST', body: new URLSearchParams({ decision: browser.consent }), redirect: 'manual' });
        callback = answer.headers.get('location') ?? undefined;
      }
      if (!callback) return;
      const handled = handlerUriFromCallback(callback);
      const outcome = await onbehalf.routeUri(handled);
      browser.delivered.push({ uri: handled, ok: outcome.ok, ...(outcome.ok ? {} : { error: outcome.error }) });
    })().catch((error: unknown) => browser.delivered.push({ uri: vscode.Uri.parse('error:'), ok: false, error }));
    return true;
  });
  return browser;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export function statusOf(onbehalf: OnBehalfTestApi, connection: string): string | undefined {
  return onbehalf.connections().connections.find((c) => c.name === connection)?.status;
}

/**
 * The identifier of an IdP emulator demo user (its `sub`), namespaced by the issuer the
 * extension is configured with: `oidc:<issuer tag>:<sub>`.
 */
export function oidcIdentifier(user: string, issuer = vscode.workspace.getConfiguration('onbehalf').inspect<string>('oidc.issuer')?.globalValue ?? ''): string {
  // The user's own value, as the extension reads it: a workspace's may differ in some tests.
  return identifierFor('oidc', user, issuer);
}

export async function signInAs(onbehalf: OnBehalfTestApi, browser: Browser, user: string): Promise<void> {
  browser.user = user;
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () =>
        reject(
          new Error(
            `sign-in as ${user} did not finish; opened ${JSON.stringify(browser.opened.slice(-2))}, delivered ${JSON.stringify(browser.delivered.slice(-2).map((d) => [d.uri.toString(true), d.ok, String(d.error)]))}`,
          ),
        ),
      15_000,
    ),
  );
  await Promise.race([onbehalf.signIn(), timeout]);
  const identifier = oidcIdentifier(user);
  await waitFor(`signed in as ${user}`, async () => (await onbehalf.currentIdentity())?.identifier === identifier);
  await waitFor('connections loaded', () => onbehalf.connections().identity?.identifier === identifier && !onbehalf.connections().loading);
}

export async function connectThroughConsent(onbehalf: OnBehalfTestApi, browser: Browser, connection: string): Promise<void> {
  const before = browser.delivered.length;
  await vscode.commands.executeCommand('onbehalf.connect', connection);
  await waitFor(`${connection} callback delivered`, () => browser.delivered.length > before);
  const outcome = browser.delivered.at(-1)!;
  assert.ok(outcome.ok, `verify failed: ${String(outcome.error)}`);
  await waitFor(`${connection} ACTIVE`, () => statusOf(onbehalf, connection) === 'ACTIVE');
}

/** Updates a user setting and waits until the extension host sees the new value. */
export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('onbehalf').update(key, value, vscode.ConfigurationTarget.Global);
  await waitFor(
    `setting ${key}`,
    () => JSON.stringify(vscode.workspace.getConfiguration('onbehalf').inspect(key)?.globalValue) === JSON.stringify(value) || undefined,
  );
}

export interface SignedInWorld {
  onbehalf: OnBehalfTestApi;
  emulators: Emulators;
  browser: Browser;
}

/**
 * Mocha hooks for a suite that starts signed out: emulators, settings, the Anthropic key and
 * (unless `scalekitSecret: false`) the Scalekit client secret in SecretStorage, a browser that
 * answers external links. Torn down after: signed out, opener restored, settings reset.
 */
export function useWorld(options: { anthropicKey: string; scalekitSecret?: boolean; emulators?: () => Promise<Emulators> }): SignedInWorld {
  const world = {} as SignedInWorld;
  before(async () => {
    world.onbehalf = await api();
    world.emulators = await (options.emulators ?? startEmulators)();
    await configure(world.emulators);
    world.browser = installBrowser(world.onbehalf);
    if (options.scalekitSecret === false) await world.onbehalf.clearSecret('scalekitClientSecret');
    else await world.onbehalf.storeSecret('scalekitClientSecret', world.emulators.scalekit.clientSecret);
    await world.onbehalf.storeSecret('anthropicApiKey', options.anthropicKey);
  });
  after(async () => {
    await world.onbehalf.signOut();
    world.onbehalf.setExternalOpener(undefined);
    await resetSettings();
    await stopEmulators(world.emulators);
  });
  return world;
}

/**
 * useWorld, then signed in as Ada with both of her accounts (and any others named) active and
 * the chat view open. `activeFor` names IdP demo users by `sub` ('ada', 'grace'); their
 * identifiers carry the emulator's issuer (see oidcIdentifier).
 */
export function useSignedInWorld(options: { anthropicKey: string; activeFor?: string[]; emulators?: () => Promise<Emulators> }): SignedInWorld {
  const world = useWorld(options);
  before(async () => {
    for (const user of options.activeFor ?? ['ada']) {
      const identifier = oidcIdentifier(user.replace(/^oidc:/, ''), world.emulators.idp.issuer);
      for (const connection of ['posthog', 'asana']) world.emulators.scalekit.activateAccount(identifier, connection);
    }
    await signInAs(world.onbehalf, world.browser, 'ada');
    await waitFor('both connections active', () => statusOf(world.onbehalf, 'posthog') === 'ACTIVE' && statusOf(world.onbehalf, 'asana') === 'ACTIVE');
    await vscode.commands.executeCommand('onbehalf.chat.focus');
    await waitFor('chat view rendered', () => world.onbehalf.chat.renderedHtml().length > 0);
  });
  return world;
}

/** Every file under dir, recursively; none when it does not exist. */
export function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

/** Everything the extension wrote to its log channel so far. */
export function extensionLogText(onbehalf: OnBehalfTestApi): string {
  return filesUnder(onbehalf.logPath)
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
}

// The real module object (an ES namespace import would be a read-only copy).
const tls = createRequire(__filename)('node:tls') as typeof TlsModule;

/** One request the extension host sent, as it left the process. */
export interface WireRequest {
  /** Host and port it went to (host as looked up, or the address it connected to). */
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http/1.1' | 'h2';
  readonly method: string;
  readonly path: string;
  /** Request line, headers and body as text, plus decoded Basic credentials and URL-decoded forms. */
  readonly text: string;
}

export interface WireTap {
  /** Every request recorded so far (HTTP/1.1 ones split out of their connection's bytes). */
  requests(): WireRequest[];
  /** Every TCP connection opened, as host:port. */
  connections(): string[];
  dispose(): void;
}

/**
 * Records every outgoing request of this process (the extension host, which runs the extension
 * and the tests): each TCP connection through the `net.client.socket` diagnostics channel with
 * every byte written to it, which covers fetch (undici), node:http and axios; HTTP/2 sessions
 * write below `socket.write`, so their requests are taken from ClientHttp2Session#request (headers
 * decoded, body chunks as written). TLS connections are recorded by wrapping tls.connect.
 */
export function tapWire(): WireTap {
  interface Conn {
    host: string;
    port: number;
    chunks: Buffer[];
    h2: boolean;
  }
  const conns: Conn[] = [];
  const h2Requests: WireRequest[] = [];
  const toBuffer = (chunk: unknown, encoding?: unknown): Buffer =>
    Buffer.isBuffer(chunk)
      ? chunk
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk)
        : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  const track = (socket: NetSocket): Conn => {
    const conn: Conn = { host: '', port: 0, chunks: [], h2: false };
    conns.push(conn);
    socket.once('lookup', (_error: unknown, _address: unknown, _family: unknown, host: string) => (conn.host ||= host));
    socket.once('connect', () => {
      conn.host ||= socket.remoteAddress ?? '';
      conn.port = socket.remotePort ?? 0;
    });
    // Every write reaches _writeGeneric (single writes and corked batches alike); while the
    // socket is still connecting, Node calls it again once connected, so record only then.
    const target = socket as unknown as { connecting: boolean; _writeGeneric: (writev: boolean, data: unknown, encoding: unknown, cb: unknown) => unknown };
    const writeGeneric = target._writeGeneric;
    target._writeGeneric = function (this: typeof target, writev, data, encoding, cb) {
      if (!this.connecting) {
        if (writev) for (const entry of data as { chunk: unknown; encoding?: unknown }[]) conn.chunks.push(toBuffer(entry.chunk, entry.encoding));
        else conn.chunks.push(toBuffer(data, encoding));
      }
      return writeGeneric.call(this, writev, data, encoding, cb);
    };
    return conn;
  };
  const onSocket = (message: unknown) => track((message as { socket: NetSocket }).socket);
  diagnosticsChannel.subscribe('net.client.socket', onSocket);
  const tlsConnect = tls.connect;
  tls.connect = function (...args: unknown[]) {
    const socket = (tlsConnect as (...a: unknown[]) => TlsModule.TLSSocket)(...args);
    track(socket);
    return socket;
  };
  // The prototype every client session shares.
  const probe = http2.connect('http://127.0.0.1:9');
  probe.on('error', () => undefined);
  const sessionProto = Object.getPrototypeOf(probe) as {
    request: (this: http2.ClientHttp2Session, headers?: http2.OutgoingHttpHeaders, ...rest: unknown[]) => http2.ClientHttp2Stream;
  };
  probe.destroy();
  const request = sessionProto.request;
  sessionProto.request = function (this: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders = {}, ...rest: unknown[]) {
    const stream = request.call(this, headers, ...rest);
    const chunks: Buffer[] = [];
    const record: { -readonly [K in keyof WireRequest]: WireRequest[K] } = {
      host: String(headers[':authority'] ?? this.socket?.remoteAddress ?? ''),
      port: this.socket?.remotePort ?? 0,
      protocol: 'h2',
      method: String(headers[':method'] ?? 'GET'),
      path: String(headers[':path'] ?? '/'),
      text: '',
    };
    const headerText = Object.entries(headers)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
      .join('\r\n');
    const update = () => (record.text = decodeForScan(`${headerText}\r\n\r\n${Buffer.concat(chunks).toString('latin1')}`));
    for (const name of ['write', 'end'] as const) {
      const original = stream[name] as (...args: unknown[]) => unknown;
      (stream as unknown as Record<string, unknown>)[name] = function (this: unknown, chunk?: unknown, ...more: unknown[]) {
        if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') chunks.push(toBuffer(chunk, more[0]));
        update();
        return original.call(this, chunk, ...more);
      };
    }
    update();
    h2Requests.push(record);
    return stream;
  };
  return {
    requests: () => {
      const h1: WireRequest[] = [];
      for (const conn of conns) {
        const bytes = Buffer.concat(conn.chunks).toString('latin1');
        if (bytes.startsWith('PRI * HTTP/2.0')) continue; // its requests are in h2Requests
        const starts = [...bytes.matchAll(/(?:^|\r\n)([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/g)];
        for (const [index, start] of starts.entries()) {
          const from = start.index + (start[0].startsWith('\r\n') ? 2 : 0);
          const to = starts[index + 1]?.index ?? bytes.length;
          h1.push({ host: conn.host, port: conn.port, protocol: 'http/1.1', method: start[1]!, path: start[2]!, text: decodeForScan(bytes.slice(from, to)) });
        }
        if (starts.length === 0 && bytes.length > 0)
          h1.push({ host: conn.host, port: conn.port, protocol: 'http/1.1', method: '?', path: '?', text: decodeForScan(bytes) });
      }
      return [...h1, ...h2Requests];
    },
    connections: () => conns.map((c) => `${c.host}:${c.port}`),
    dispose: () => {
      diagnosticsChannel.unsubscribe('net.client.socket', onSocket);
      tls.connect = tlsConnect;
      sessionProto.request = request;
    },
  };
}

/** The text plus what a secret could hide behind: Basic credentials decoded, percent-encoding undone. */
function decodeForScan(text: string): string {
  const extra: string[] = [];
  for (const match of text.matchAll(/Basic\s+([A-Za-z0-9+/=_-]+)/gi)) extra.push(Buffer.from(match[1]!, 'base64').toString('utf8'));
  try {
    extra.push(decodeURIComponent(text.replace(/\+/g, ' ')));
  } catch {
    extra.push(text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))));
  }
  return [text, ...extra].join('\n');
}
