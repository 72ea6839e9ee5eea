-- The demo shop: about 1 million rows in four tables, shaped like the FastAPI + SQLAlchemy app that
-- prompted pgload (customers, products, orders, order items). Deterministic: setseed() fixes random().
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SELECT setseed(0.42);

CREATE TABLE customers (
  id         int PRIMARY KEY,
  name       text NOT NULL,
  country    text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE TABLE products (
  id       int PRIMARY KEY,
  name     text NOT NULL,
  category text NOT NULL,
  price    numeric(10, 2) NOT NULL
);
CREATE TABLE orders (
  id          int PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers (id),
  status      text NOT NULL,
  created_at  timestamptz NOT NULL,
  total       numeric(12, 2) NOT NULL
);
CREATE TABLE order_items (
  order_id   int NOT NULL REFERENCES orders (id),
  product_id int NOT NULL REFERENCES products (id),
  quantity   int NOT NULL,
  PRIMARY KEY (order_id, product_id)
);

INSERT INTO customers
SELECT g, 'customer ' || g,
       (ARRAY['DE', 'FR', 'NL', 'US', 'GB', 'ES', 'IT', 'PL'])[1 + (g % 8)],
       timestamptz '2024-01-01' + (g % 700) * interval '1 day'
FROM generate_series(1, 100000) g;

INSERT INTO products
SELECT g, 'product ' || g,
       (ARRAY['books', 'games', 'garden', 'kitchen', 'music', 'tools', 'toys', 'sports'])[1 + (g % 8)],
       round((5 + random() * 195)::numeric, 2)
FROM generate_series(1, 20000) g;

INSERT INTO orders
SELECT g, 1 + (hashint4(g) & 2147483647) % 100000,
       (ARRAY['new', 'paid', 'shipped', 'shipped', 'shipped', 'delivered', 'cancelled'])[1 + (g % 7)],
       timestamptz '2024-01-01' + (g % 600) * interval '1 day' + (g % 86400) * interval '1 second',
       round((10 + random() * 490)::numeric, 2)
FROM generate_series(1, 300000) g;

INSERT INTO order_items
SELECT o, 1 + (hashint4(o * 4 + k) & 2147483647) % 20000, 1 + k
FROM generate_series(1, 300000) o, generate_series(0, 1) k
ON CONFLICT DO NOTHING;

CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_created_idx ON orders (created_at);
CREATE INDEX order_items_product_idx ON order_items (product_id);
ANALYZE;
