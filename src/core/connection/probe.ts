/** "Test connection": open one session, read the server version, close it. */
import { closeSession, describeTarget, openSession, resolveConnection, type ConnectionInput, type ResolveEnvironment } from './connection';

export interface ProbeResult {
  target: string;
  version: string;
  ssl: boolean;
  warnings: string[];
}

export async function probeConnection(input: ConnectionInput, environment?: ResolveEnvironment): Promise<ProbeResult> {
  const conn = resolveConnection(input, environment);
  const session = await openSession(conn, { statementTimeoutMs: 10_000, readOnly: true });
  try {
    const r = await session.client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return { target: describeTarget(conn), version: r.rows[0].v, ssl: session.ssl, warnings: conn.warnings };
  } finally {
    await closeSession(session);
  }
}
