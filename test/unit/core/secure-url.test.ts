import * as assert from 'node:assert/strict';
import { checkSecureUrl, insecureUrlProblem, isLoopbackHost } from '../../../src/core/secureUrl';

// Issue 10: one rule for every URL a secret or token is sent to.

describe('secure URL rule: https, or http only to loopback', () => {
  it('allows https anywhere and http to 127.0.0.0/8, ::1 and localhost', () => {
    for (const ok of [
      'https://api.anthropic.com',
      'https://yourapp.scalekit.dev/',
      'http://127.0.0.1:4000',
      'http://127.8.9.10/x',
      'http://[::1]:3000/',
      'http://localhost:8080',
      'http://LOCALHOST/',
    ]) {
      assert.equal(insecureUrlProblem(ok, 'The URL'), undefined, ok);
    }
  });

  it('refuses http to any other host, with a clear message', () => {
    for (const bad of [
      'http://api.anthropic.com',
      'http://10.0.0.1',
      'http://128.0.0.1',
      'http://127.0.0.1.attacker.example',
      'http://localhost.attacker.example',
      'http://[::2]/',
      'http://[::ffff:a00:1]/',
    ]) {
      assert.match(
        insecureUrlProblem(bad, 'The Anthropic base URL') ?? '',
        /^The Anthropic base URL must use https \(http:\/\/.+\); plain http is allowed only for loopback addresses/,
        bad,
      );
    }
  });

  it('refuses other schemes and malformed URLs', () => {
    assert.match(insecureUrlProblem('ftp://example.com', 'The issuer') ?? '', /must use https \(it uses ftp:\)/);
    assert.match(insecureUrlProblem('file:///etc/passwd', 'The issuer') ?? '', /must use https/);
    assert.match(insecureUrlProblem('not a url', 'The issuer') ?? '', /not a valid URL/);
  });

  it('isLoopbackHost takes hostnames as URL gives them', () => {
    assert.ok(isLoopbackHost(new URL('http://[::1]/').hostname));
    assert.ok(isLoopbackHost('127.255.255.255'));
    assert.ok(!isLoopbackHost('127.0.0.256'));
    assert.ok(!isLoopbackHost('0.0.0.0'));
  });

  it('knows the other spellings of loopback the sandbox uses (127.1, IPv4-mapped IPv6)', () => {
    for (const url of ['http://127.1:8080/', 'http://[::ffff:127.0.0.1]:37983/', 'http://[::ffff:7f00:1]:37983/', 'http://[0:0:0:0:0:ffff:7f00:1]/']) {
      assert.equal(insecureUrlProblem(url, 'The URL'), undefined, url);
    }
    for (const url of ['http://[::ffff:a00:1]/', 'http://[::ffff:808:808]/', 'http://[::ffff:7f00]/']) {
      assert.match(insecureUrlProblem(url, 'The URL') ?? '', /must use https/, url);
    }
  });

  it("checkSecureUrl returns the URL or throws the caller's error", () => {
    assert.equal(checkSecureUrl('https://x.example/a', 'X', (p) => new Error(p)).host, 'x.example');
    assert.throws(() => checkSecureUrl('http://x.example', 'X', (p) => new RangeError(p)), RangeError);
  });
});
