-- A small shop as a Laravel-style app keeps it in MariaDB; load it with
-- `mariadb shop < plans/mysql/shop.sql`, then `decant rehearse plans/mysql/shop.yaml`.
SET NAMES utf8mb4;

CREATE TABLE customers (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(191) NOT NULL,
  name VARCHAR(120) NOT NULL,
  is_admin TINYINT(1) NOT NULL DEFAULT 0,
  created_at TIMESTAMP NULL DEFAULT NULL,
  UNIQUE KEY customers_email_unique (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE products (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sku CHAR(8) NOT NULL,
  title VARCHAR(200) NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  status ENUM('draft','live','retired') NOT NULL DEFAULT 'draft',
  attributes JSON NULL,
  UNIQUE KEY products_sku_unique (sku)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id BIGINT UNSIGNED NOT NULL,
  placed_on DATE NOT NULL,
  shipped_at DATETIME NULL,
  KEY orders_customer_id_foreign (customer_id),
  CONSTRAINT orders_customer_id_foreign FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE order_items (
  order_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  quantity SMALLINT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (order_id, product_id),
  CONSTRAINT order_items_order_id_foreign FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT order_items_product_id_foreign FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO customers (id, email, name, is_admin, created_at) VALUES
  (1, 'ann@example.com', 'Ann Lee', 1, '2024-01-05 09:30:00'),
  (2, 'bob@example.com', 'Bob Stone', 0, '2024-02-11 17:02:11'),
  (3, 'cem@example.com', 'Cem Yılmaz', 0, NULL);
INSERT INTO products (id, sku, title, price, status, attributes) VALUES
  (1, 'TEA-0001', 'Sencha, 100 g', 7.90, 'live', '{"origin": "Shizuoka"}'),
  (2, 'TEA-0002', 'Rooibos, 250 g', 5.50, 'live', NULL),
  (3, 'MUG-0001', 'Mug, blue', 12.00, 'retired', '{"colour": "blue"}');
INSERT INTO orders (id, customer_id, placed_on, shipped_at) VALUES
  (1, 1, '2024-03-01', '2024-03-02 08:00:00'),
  (2, 2, '2024-03-04', NULL),
  (3, 2, '2024-03-09', '0000-00-00 00:00:00');
INSERT INTO order_items VALUES (1, 1, 2), (1, 3, 1), (2, 2, 1), (3, 1, 3);
