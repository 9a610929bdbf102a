import * as assert from 'node:assert/strict';
import { OidcClient } from '../../../src/core/oidc';
import { ScalekitAccounts } from '../../../src/scalekit/scalekitAccounts';
import { checkAnthropicKey } from '../../../src/agent/anthropicKeyCheck';
import { startScalekitEmulator } from '../../emulators/scalekit/server';
import { identifierOf } from '../../support/identifiers';

const ada = identifierOf('oidc', 'ada');

// Issue 10: the OIDC issuer, its JWKS and token endpoints, the Scalekit environment URL and
// the Anthropic base URL must be https, except loopback. Nothing is fetched otherwise.

const httpsMessage = /must use https \(http:\/\/[^)]+\); plain http is allowed only for loopback/;

function recordingFetch(discovery: Record<string, unknown>) {
  const calls: string[] = [];
  const fetchFn = async (input: string): Promise<Response> => {
    calls.push(input);
    return new Response(JSON.stringify(discovery), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { calls, fetchFn };
}

describe('insecure URLs are refused before anything is sent', () => {
  it('an http OIDC issuer is refused without fetching its discovery document', async () => {
    const { calls, fetchFn } = recordingFetch({
      issuer: 'http://idp.example.com',
      authorization_endpoint: 'http://idp.example.com/a',
      token_endpoint: 'http://idp.example.com/t',
      jwks_uri: 'http://idp.example.com/j',
    });
    await assert.rejects(
      new OidcClient('http://idp.example.com', 'client', fetchFn).discover(),
      (e: Error) => httpsMessage.test(e.message) && /OIDC issuer/.test(e.message),
    );
    assert.deepEqual(calls, []);
  });

  for (const field of ['token_endpoint', 'jwks_uri', 'authorization_endpoint'] as const) {
    it(`an https issuer publishing an http ${field} is refused`, async () => {
      const discovery: Record<string, unknown> = {
        issuer: 'https://idp.example.com',
        authorization_endpoint: 'https://idp.example.com/a',
        token_endpoint: 'https://idp.example.com/t',
        jwks_uri: 'https://idp.example.com/j',
      };
      discovery[field] = 'http://idp.example.com/x';
      const { fetchFn } = recordingFetch(discovery);
      await assert.rejects(new OidcClient('https://idp.example.com', 'client', fetchFn).discover(), (e: Error) => httpsMessage.test(e.message));
    });
  }

  it('a loopback http issuer is still accepted (the emulators)', async () => {
    const { fetchFn } = recordingFetch({
      issuer: 'http://127.0.0.1:9',
      authorization_endpoint: 'http://127.0.0.1:9/a',
      token_endpoint: 'http://127.0.0.1:9/t',
      jwks_uri: 'http://127.0.0.1:9/j',
    });
    assert.equal((await new OidcClient('http://127.0.0.1:9', 'client', fetchFn).discover()).token_endpoint, 'http://127.0.0.1:9/t');
  });

  it('an http Scalekit environment URL is refused, for the credential check and for calls', async () => {
    const credentials = { environmentUrl: 'http://scalekit.invalid', clientId: 'skc_1', clientSecret: 'secret' };
    await assert.rejects(
      ScalekitAccounts.checkCredentials(credentials),
      (e: Error) => httpsMessage.test(e.message) && /Scalekit environment URL/.test(e.message),
    );
    await assert.rejects(new ScalekitAccounts(async () => credentials).status(ada, 'asana'), (e: Error) => httpsMessage.test(e.message));
  });

  it('a Scalekit environment URL changed to plain http after calls went out is refused at the next call', async () => {
    const emu = await startScalekitEmulator();
    try {
      let credentials = { environmentUrl: emu.url, clientId: emu.clientId, clientSecret: emu.clientSecret };
      const accounts = new ScalekitAccounts(async () => credentials);
      assert.equal(await accounts.status(ada, 'asana'), 'NOT_CONNECTED', 'the loopback emulator is allowed');
      credentials = { ...credentials, environmentUrl: 'http://scalekit.invalid' };
      await assert.rejects(accounts.status(ada, 'asana'), (e: Error) => httpsMessage.test(e.message));
    } finally {
      await emu.close();
    }
  });

  it('an http Anthropic base URL is refused', async () => {
    await assert.rejects(
      checkAnthropicKey('sk-ant-x', 'http://anthropic.invalid'),
      (e: Error) => httpsMessage.test(e.message) && /Anthropic base URL/.test(e.message),
    );
  });
});
