// The logging seam for code that must not import vscode. The host backs it with the
// one LogOutputChannel; tests back it with an array.

export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export function taggedLogger(logger: Logger, component: string): Logger {
  const tag = (m: string) => `[${component}] ${m}`;
  return {
    trace: (m) => logger.trace(tag(m)),
    debug: (m) => logger.debug(tag(m)),
    info: (m) => logger.info(tag(m)),
    warn: (m) => logger.warn(tag(m)),
    error: (m) => logger.error(tag(m)),
  };
}
