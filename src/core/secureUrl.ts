// The one rule for every URL OnBehalf sends a token, key, secret or ID token to: https,
// except plain http to a loopback address (local emulators and dev servers):
// 127.0.0.0/8, ::1 and localhost. Pure, so it is unit-tested.

/**
 * True for 127.0.0.0/8, ::1 and localhost (a URL's `hostname`, IPv6 in brackets or not),
 * including 127.0.0.0/8 written as an IPv4-mapped IPv6 address (`[::ffff:7f00:1]`, the
 * spelling the sandbox uses to get past code-server's localhost proxy). WHATWG URLs already
 * turn shorthand such as `127.1` into `127.0.0.1`.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  const mapped = /^(?:::|0:0:0:0:0:)ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(host);
  if (mapped) return parseInt(mapped[1]!, 16) >> 8 === 127;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets.slice(1).every((o) => Number(o) <= 255) && octets[1] === '127';
}

/** Why `value` may not be used for `what`, or undefined when it is https or loopback http. */
export function insecureUrlProblem(value: string, what: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${what} is not a valid URL.`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === 'http:')
    return `${what} must use https (${url.protocol}//${url.host}); plain http is allowed only for loopback addresses (127.0.0.0/8, ::1, localhost).`;
  return `${what} must use https (it uses ${url.protocol}).`;
}

/** The parsed URL, or throws `onError(problem)`. */
export function checkSecureUrl(value: string, what: string, onError: (problem: string) => Error): URL {
  const problem = insecureUrlProblem(value, what);
  if (problem) throw onError(problem);
  return new URL(value);
}
