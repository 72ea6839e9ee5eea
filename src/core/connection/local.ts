/** Whether a server is this machine: a local host name or address, or a Unix socket folder. */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLocalHost(host: string | undefined): boolean {
  const h = (host ?? 'localhost').trim().toLowerCase();
  return h === '' || h.startsWith('/') || LOCAL_HOSTS.has(h) || /^127\.\d+\.\d+\.\d+$/.test(h);
}
