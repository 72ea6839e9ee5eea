/**
 * The core logs through this interface; the channel is injected: the extension passes its
 * LogOutputChannel, the CLI writes to stderr, tests collect lines. Every line passes the redactor.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** A logger that removes the given secrets (and any URL password) from every line before passing it on. */
export function redactingLogger(inner: Logger, redact: (text: string) => string): Logger {
  return {
    debug: (m) => inner.debug(redact(m)),
    info: (m) => inner.info(redact(m)),
    warn: (m) => inner.warn(redact(m)),
    error: (m) => inner.error(redact(m)),
  };
}
