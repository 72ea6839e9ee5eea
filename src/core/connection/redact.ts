/** Removing secrets from text before it is shown, logged or stored. */

const MASK = '***';

/** `scheme://user:secret@host` → `scheme://user:***@host`, for any scheme. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):([^@\s]*)@/gi;
/** `password=secret` in libpq keyword/value strings and query strings. */
const KEYWORD_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi;

export function redactUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, `$1:${MASK}@`).replace(KEYWORD_PASSWORD, `$1${MASK}`);
}

/**
 * A function that removes every given secret (as is and percent-encoded) and every URL password from text.
 * Secrets shorter than 3 characters are masked only where they appear as URL or keyword passwords,
 * so that a password like "a" does not garble every message.
 */
export function makeRedactor(secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 3) continue;
    needles.add(s);
    needles.add(encodeURIComponent(s));
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = redactUrlPasswords(text);
    for (const n of sorted) out = out.split(n).join(MASK);
    return out;
  };
}

/**
 * A URL that may not parse (a password with "/", "#", "?", "@" or a space in it), its credentials masked: everything
 * between the user name and the last "@" before the host is the password as libpq would read it.
 */
export function maskUrlCredentials(text: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(text.trim());
  if (!m) return redactUrlPasswords(text);
  const rest = m[2];
  const at = rest.lastIndexOf('@');
  if (at < 0) return redactUrlPasswords(text);
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  return colon < 0 ? text.trim() : `${m[1]}${userinfo.slice(0, colon)}:${MASK}${rest.slice(at)}`;
}
