/** "Test connection": open one session, read the server version, close it. */
import { closeSession, describeTarget, resolveConnection, type ConnectionInput, type ResolveEnvironment } from './connection';
import { openControlSession } from './pooler';

export interface ProbeResult {
  target: string;
  version: string;
  ssl: boolean;
  warnings: string[];
  /** How a connection pooler in front of the server was recognised, when there is one. */
  pooler: string | null;
}

export async function probeConnection(input: ConnectionInput, environment?: ResolveEnvironment): Promise<ProbeResult> {
  const conn = resolveConnection(input, environment);
  const { session, detectedBy } = await openControlSession(conn, { statementTimeoutMs: 10_000, readOnly: true });
  try {
    const r = await session.client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return { target: describeTarget(conn), version: r.rows[0].v, ssl: session.ssl, warnings: conn.warnings, pooler: detectedBy };
  } finally {
    await closeSession(session);
  }
}
