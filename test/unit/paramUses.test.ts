import * as assert from 'node:assert/strict';
import { paramUses } from '../../src/core/insight/top';
import { ensureParser } from '../../src/core/sql';

/** `$n → table.column` for each parameter pgload found a column for. */
const found = (sql: string) => Object.fromEntries(paramUses(sql).filter((u) => u.column && u.table).map((u) => [`$${u.index}`, `${u.table!.name}.${u.column}`]));

describe('pgload top: which column each $n is compared with', () => {
  before(() => ensureParser());

  it("an UPDATE's WHERE compares with the table it changes; $2 in SET q = q + $2 is no value of q", () => {
    assert.deepEqual(found('UPDATE order_items SET quantity = quantity + $2 WHERE product_id = $1'), { $1: 'order_items.product_id' });
    assert.deepEqual(found('DELETE FROM carts WHERE id = $1'), { $1: 'carts.id' });
  });

  it("an INSERT … SELECT's constants are compared with no column of its target", () => {
    assert.deepEqual(found('INSERT INTO t SELECT g + $1, k FROM generate_series($2, $3) g, generate_series(0, 1) k WHERE k < $4'), {});
  });

  it('every comparison form: =, BETWEEN, IN, LIKE, = ANY', () => {
    assert.deepEqual(found('SELECT 1 FROM a WHERE x BETWEEN $1 AND $2 AND y IN ($3) AND z LIKE $4 AND w = ANY($5) AND v >= $6'), {
      $1: 'a.x', $2: 'a.x', $3: 'a.y', $4: 'a.z', $5: 'a.w', $6: 'a.v',
    });
  });
});
