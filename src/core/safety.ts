/**
 * The user's database is not ours: decide how a statement may run, or refuse it with the reason. Every request runs in
 * a transaction that ends in ROLLBACK (./connection/envelope.ts):
 *  - a plain query runs in a READ ONLY transaction (the server itself rejects any write that slips through); with
 *    writes allowed in a read-write one (it may call functions that write);
 *  - a query that locks rows (FOR UPDATE / SHARE) runs in a read-write transaction (a read-only one refuses the lock);
 *  - DML runs only when writes are allowed;
 *  - DDL, utility statements and transaction control are refused;
 *  - a call of a function whose effects escape the transaction (./escapes.ts) is refused, writes allowed or not.
 */
import type { ExecutionMode } from '../shared/result';
import { PgloadError } from './errors';
import { refuseEscapingCalls } from './escapes';
import type { SqlStatement } from './sql';

export function executionModeFor(statement: SqlStatement, allowWrites: boolean): ExecutionMode {
  const mode = modeByKind(statement, allowWrites);
  refuseEscapingCalls(statement.text);
  return mode;
}

function modeByKind(statement: SqlStatement, allowWrites: boolean): ExecutionMode {
  switch (statement.kind) {
    case 'query':
      // With writes allowed a SELECT may call functions that write: its transaction is read-write (and rolled back,
      // like every request's). Without, it is READ ONLY and the server itself rejects any write.
      return statement.locksRows || allowWrites ? 'rolled-back' : 'read-only';
    case 'dml':
      if (!allowWrites) {
        throw new PgloadError(
          'input',
          `This statement changes data (${describeNode(statement.nodeType)}); pgload refuses it unless writes are allowed (CLI: --allow-writes). ` +
            'With writes allowed every request runs inside a transaction that is rolled back, so no row is kept.',
        );
      }
      return 'rolled-back';
    case 'ddl':
      throw new PgloadError(
        'input',
        `pgload does not run schema changes (${describeNode(statement.nodeType)}): they cannot be repeated under load and are not always undone by a rollback. Profile the queries that use the schema instead.`,
      );
    case 'transaction':
      throw new PgloadError(
        'input',
        `pgload refuses transaction control (${describeNode(statement.nodeType)}): it manages transactions itself. Select the statement inside the transaction instead.`,
      );
    case 'utility':
      throw new PgloadError('input', utilityReason(statement.nodeType));
  }
}

function utilityReason(nodeType: string): string {
  switch (nodeType) {
    case 'ExplainStmt':
      return 'pgload runs EXPLAIN itself; select the query without the EXPLAIN in front of it.';
    case 'VariableSetStmt':
      return 'pgload refuses SET: it would change the session for every later request. Put the setting in the connection options, or use SET LOCAL inside a function.';
    case 'CopyStmt':
      return 'pgload refuses COPY: it can read or write files and programs on the server. Profile a SELECT instead.';
    case 'VacuumStmt':
      return 'pgload refuses VACUUM / ANALYZE: they are maintenance, not queries to repeat under load.';
    case 'CallStmt':
    case 'DoStmt':
      return 'pgload refuses CALL and DO: procedures and anonymous blocks can commit their own changes, which a rollback cannot undo.';
    default:
      return `pgload refuses ${describeNode(nodeType)}: it is a utility command, not a query to repeat under load.`;
  }
}

/** `DeleteStmt` → `DELETE`, `CreateStmt` → `CREATE …`, for messages. */
export function describeNode(nodeType: string): string {
  const known: Record<string, string> = {
    SelectStmt: 'SELECT',
    InsertStmt: 'INSERT',
    UpdateStmt: 'UPDATE',
    DeleteStmt: 'DELETE',
    MergeStmt: 'MERGE',
    TransactionStmt: 'BEGIN / COMMIT / ROLLBACK',
    CreateStmt: 'CREATE TABLE',
    CreateTableAsStmt: 'CREATE TABLE AS',
    IndexStmt: 'CREATE INDEX',
    DropStmt: 'DROP',
    AlterTableStmt: 'ALTER TABLE',
    TruncateStmt: 'TRUNCATE',
    VariableSetStmt: 'SET',
    VariableShowStmt: 'SHOW',
    ExplainStmt: 'EXPLAIN',
    CopyStmt: 'COPY',
    VacuumStmt: 'VACUUM / ANALYZE',
    GrantStmt: 'GRANT / REVOKE',
  };
  return known[nodeType] ?? nodeType.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}
