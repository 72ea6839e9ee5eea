-- The demo's slow query: JOINs, an EXISTS subquery and ORDER BY … LIMIT — the best customers of the
-- last months who bought books. Alone it takes tens to a few hundred milliseconds depending on the machine;
-- under 50 concurrent clients on a small server it queues, and with work_mem = 4MB its hash aggregate
-- spills to temporary files (hash_mem_multiplier = 1, the default of PostgreSQL 13 and 14).
SELECT c.id,
       c.name,
       c.country,
       count(*) AS orders,
       sum(o.total) AS spent,
       max(o.created_at) AS last_order
FROM customers c
JOIN orders o ON o.customer_id = c.id
WHERE o.status = 'shipped'
  AND o.created_at >= timestamptz '2025-01-01'
  AND EXISTS (
    SELECT 1
    FROM order_items x
    JOIN products p ON p.id = x.product_id
    WHERE x.order_id = o.id
      AND p.category = 'books'
  )
GROUP BY c.id, c.name, c.country
ORDER BY spent DESC, c.id
LIMIT 50;
