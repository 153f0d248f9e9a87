-- escrow.sql — fixture for plans/escrow.yaml (seed 003: ContraLock, a freelance escrow platform
-- on Node.js + Sequelize).
--
-- Written the way Sequelize's SQLite dialect writes it: backquoted camelCase columns, UUID ids as
-- TEXT in a column declared UUID, STRING as VARCHAR(255), BOOLEAN as TINYINT(1) holding 0/1,
-- JSON as text in a column declared JSON, DATE as DATETIME holding Sequelize's own timestamp text
-- '2024-03-01 10:15:00.000 +00:00', and `paranoid: true` soft deletes through deletedAt.
-- SequelizeMeta is Sequelize's migration bookkeeping (the plan leaves it behind).
--
-- UUIDs are fixed and readable on purpose: within a table only the last group changes, so a
-- reviewer can follow a foreign key by eye (users ...-00000000000N, projects ...-00000000010N).
--
-- Traps, mild and handled by the plan:
--   * one email predates the model's lowercasing setter: ' Sofia.Marin@Example.COM ' (spaces and
--     capitals); the plan trims and lowercases emails.
--   * one user and one project are soft-deleted (deletedAt set): they are carried, not dropped.
-- No orphans: every foreign key points at an existing row, soft-deleted or not.
--
-- Rebuilt by plans/data/build.sh; every row is fixed, nothing random.

PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS `SequelizeMeta` (`name` VARCHAR(255) NOT NULL UNIQUE PRIMARY KEY);

CREATE TABLE IF NOT EXISTS `users` (
    `id` UUID NOT NULL PRIMARY KEY,
    `email` VARCHAR(255) NOT NULL UNIQUE,
    `password` VARCHAR(255) NOT NULL,
    `firstName` VARCHAR(255) NOT NULL,
    `lastName` VARCHAR(255) NOT NULL,
    -- DataTypes.ENUM('client','freelancer','admin'): Sequelize writes TEXT on SQLite; the CHECK
    -- came with a hand-written table-rebuild migration after a typo ('freelance') reached production.
    `role` TEXT NOT NULL CHECK (role IN ('client', 'freelancer', 'admin')),
    `avatar` VARCHAR(255) DEFAULT NULL,
    `phone` VARCHAR(255) DEFAULT NULL,
    `bio` TEXT DEFAULT NULL,
    `isEmailVerified` TINYINT(1) DEFAULT 0,
    `isKYCVerified` TINYINT(1) DEFAULT 0,
    `stripeCustomerId` VARCHAR(255) DEFAULT NULL,
    `notificationPreferences` JSON DEFAULT '{"email":true,"push":true,"projectUpdates":true,"paymentNotifications":true}',
    `createdAt` DATETIME NOT NULL,
    `updatedAt` DATETIME NOT NULL,
    `deletedAt` DATETIME
);

CREATE TABLE IF NOT EXISTS `projects` (
    `id` UUID NOT NULL PRIMARY KEY,
    `title` VARCHAR(255) NOT NULL,
    `description` TEXT,
    `clientId` UUID NOT NULL REFERENCES `users` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
    `freelancerId` UUID REFERENCES `users` (`id`) ON DELETE SET NULL ON UPDATE CASCADE,
    `budget` DECIMAL(10,2) NOT NULL,
    `currency` VARCHAR(255) NOT NULL DEFAULT 'USD',
    `status` TEXT NOT NULL DEFAULT 'draft',   -- ENUM('draft','active','in_progress','completed','disputed','cancelled')
    `deadline` DATETIME,
    `createdAt` DATETIME NOT NULL,
    `updatedAt` DATETIME NOT NULL,
    `deletedAt` DATETIME
);

CREATE TABLE IF NOT EXISTS `milestones` (
    `id` UUID NOT NULL PRIMARY KEY,
    `projectId` UUID NOT NULL REFERENCES `projects` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
    `title` VARCHAR(255) NOT NULL,
    `description` TEXT,
    `amount` DECIMAL(10,2) NOT NULL,
    `dueDate` DATETIME,
    `status` TEXT NOT NULL DEFAULT 'pending',  -- ENUM('pending','in_progress','submitted','approved','disputed','released')
    `sortOrder` INTEGER NOT NULL DEFAULT 0,
    `deliverables` JSON,
    `submittedAt` DATETIME,
    `approvedAt` DATETIME,
    `createdAt` DATETIME NOT NULL,
    `updatedAt` DATETIME NOT NULL
);

CREATE TABLE IF NOT EXISTS `escrow_transactions` (
    `id` UUID NOT NULL PRIMARY KEY,
    `projectId` UUID NOT NULL REFERENCES `projects` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
    `milestoneId` UUID REFERENCES `milestones` (`id`) ON DELETE SET NULL ON UPDATE CASCADE,
    `payerId` UUID NOT NULL REFERENCES `users` (`id`) ON DELETE NO ACTION ON UPDATE CASCADE,
    `payeeId` UUID REFERENCES `users` (`id`) ON DELETE NO ACTION ON UPDATE CASCADE,   -- NULL: the platform (fees)
    `type` TEXT NOT NULL,                      -- ENUM('deposit','release','refund','fee')
    `amount` DECIMAL(10,2) NOT NULL,
    `currency` VARCHAR(255) NOT NULL DEFAULT 'USD',
    `stripePaymentIntentId` VARCHAR(255) UNIQUE,
    `status` TEXT NOT NULL DEFAULT 'pending',  -- ENUM('pending','held','released','refunded','failed')
    `metadata` JSON,
    `createdAt` DATETIME NOT NULL,
    `updatedAt` DATETIME NOT NULL
);

CREATE TABLE IF NOT EXISTS `reviews` (
    `id` UUID NOT NULL PRIMARY KEY,
    `projectId` UUID NOT NULL REFERENCES `projects` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
    `reviewerId` UUID NOT NULL REFERENCES `users` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
    `revieweeId` UUID NOT NULL REFERENCES `users` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
    `rating` INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    `comment` TEXT,
    `isPublic` TINYINT(1) DEFAULT 1,
    `createdAt` DATETIME NOT NULL,
    `updatedAt` DATETIME NOT NULL,
    UNIQUE (`projectId`, `reviewerId`)
);

CREATE INDEX `users_role` ON `users` (`role`);
CREATE INDEX `projects_client_id` ON `projects` (`clientId`);
CREATE INDEX `projects_freelancer_id` ON `projects` (`freelancerId`);
CREATE INDEX `milestones_project_id_sort_order` ON `milestones` (`projectId`, `sortOrder`);
CREATE INDEX `escrow_transactions_project_id` ON `escrow_transactions` (`projectId`);
CREATE INDEX `escrow_transactions_status` ON `escrow_transactions` (`status`);
CREATE INDEX `reviews_reviewee_id` ON `reviews` (`revieweeId`);

INSERT INTO `SequelizeMeta` (`name`) VALUES
    ('20240101-create-users-table.js'),
    ('20240102-create-projects-and-milestones.js'),
    ('20240110-create-escrow-transactions.js'),
    ('20240215-create-reviews-and-role-check.js');

-- users: 1 admin, 3 clients, 4 freelancers (one soft-deleted). Passwords are bcrypt hashes of
-- nothing real.
INSERT INTO `users` (`id`, `email`, `password`, `firstName`, `lastName`, `role`, `avatar`, `phone`, `bio`, `isEmailVerified`, `isKYCVerified`, `stripeCustomerId`, `notificationPreferences`, `createdAt`, `updatedAt`, `deletedAt`) VALUES
    ('3f6a2b1c-9d4e-4f7a-8b2c-000000000001', 'admin@contralock.example', '$2b$10$Q1hbGx0cGxhY2Vob2xkZXIuYWRtaW4uaGFzaC4wMDAwMDE', 'Ava', 'Lindqvist', 'admin', NULL, NULL, NULL, 1, 1, NULL,
        '{"email":true,"push":false,"projectUpdates":false,"paymentNotifications":true}',
        '2024-01-02 08:00:00.000 +00:00', '2024-01-02 08:00:00.000 +00:00', NULL),
    ('3f6a2b1c-9d4e-4f7a-8b2c-000000000002', 'olivia.bennett@example.com', '$2b$10$Q2xpZW50Lm9saXZpYS5wbGFjZWhvbGRlci5oYXNoLjAwMDAwMg', 'Olivia', 'Bennett', 'client', 'https://cdn.contralock.example/avatars/olivia.png', '+1 415 555 0102', 'Founder of a two-person marketplace startup.', 1, 1, 'cus_PkQ2Olivia0002',
        '{"email":true,"push":true,"projectUpdates":true,"paymentNotifications":true}',
        '2024-01-15 09:12:44.120 +00:00', '2024-03-01 10:15:00.000 +00:00', NULL),
    ('3f6a2b1c-9d4e-4f7a-8b2c-000000000003', 'marcus.reyes@example.com', '$2b$10$Q2xpZW50Lm1hcmN1cy5wbGFjZWhvbGRlci5oYXNoLjAwMDAwMw', 'Marcus', 'Reyes', 'client', NULL, '+1 646 555 0103', NULL, 1, 0, 'cus_PkQ3Marcus0003',
        '{"email":true,"push":true,"projectUpdates":true,"paymentNotifications":true}',
        '2024-01-20 17:40:03.501 +00:00', '2024-01-20 17:40:03.501 +00:00', NULL),
    -- Predates the lowercasing setter: spaces and capitals. The plan stores 'sofia.marin@example.com'.
    ('3f6a2b1c-9d4e-4f7a-8b2c-000000000004', ' Sofia.Marin@Example.COM ', '$2b$10$Q2xpZW50LnNvZmlhLnBsYWNlaG9sZGVyLmhhc2guMDAwMDA0', 'Sofía', 'Marín', 'client', NULL, NULL, 'Runs a bakery in Valencia; hires for web work twice a year.', 0, 0, NULL,
        '{"email":true,"push":false,"projectUpdates":true,"paymentNotifications":true}',
        '2024-01-05 11:03:27.000 +00:00', '2024-02-11 12:00:00.000 +00:00', NULL),
    ('3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 'priya.natarajan@example.com', '$2b$10$RnJlZWxhbmNlci5wcml5YS5wbGFjZWhvbGRlci5oYXNoLjAwNQ', 'Priya', 'Natarajan', 'freelancer', 'https://cdn.contralock.example/avatars/priya.jpg', '+91 98450 00105', 'Backend engineer: Node, PostgreSQL, Stripe Connect.', 1, 1, 'cus_PkQ5Priya00005',
        '{"email":true,"push":true,"projectUpdates":true,"paymentNotifications":true}',
        '2024-01-08 06:30:00.000 +00:00', '2024-02-28 19:45:10.333 +00:00', NULL),
    ('3f6a2b1c-9d4e-4f7a-8b2c-000000000006', 'tomasz.wojcik@example.com', '$2b$10$RnJlZWxhbmNlci50b21hc3oucGxhY2Vob2xkZXIuaGFzaC4wNg', 'Tomasz', 'Wójcik', 'freelancer', NULL, NULL, 'Brand designer. "Less, but better."', 1, 1, NULL,
        '{"email":false,"push":true,"projectUpdates":true,"paymentNotifications":true}',
        '2024-01-09 14:22:51.900 +00:00', '2024-01-09 14:22:51.900 +00:00', NULL),
    ('3f6a2b1c-9d4e-4f7a-8b2c-000000000007', 'amara.okafor@example.com', '$2b$10$RnJlZWxhbmNlci5hbWFyYS5wbGFjZWhvbGRlci5oYXNoLjAwNw', 'Amara', 'Okafor', 'freelancer', NULL, '+234 803 555 0107', 'QA lead; mobile and accessibility testing.', 1, 0, NULL,
        '{"email":true,"push":true,"projectUpdates":false,"paymentNotifications":true}',
        '2024-01-25 10:00:00.000 +00:00', '2024-01-25 10:00:00.000 +00:00', NULL),
    -- Soft-deleted (paranoid): closed his account in March; his project history stays.
    ('3f6a2b1c-9d4e-4f7a-8b2c-000000000008', 'leo.fischer@example.com', '$2b$10$RnJlZWxhbmNlci5sZW8ucGxhY2Vob2xkZXIuaGFzaC4wMDAwMDg', 'Leo', 'Fischer', 'freelancer', NULL, NULL, NULL, 1, 0, NULL,
        '{"email":true,"push":true,"projectUpdates":true,"paymentNotifications":true}',
        '2024-01-11 16:05:00.000 +00:00', '2024-03-04 09:00:00.000 +00:00', '2024-03-04 09:00:00.000 +00:00');

-- projects: six, one per status a reviewer cares about; P5 is soft-deleted with its client's consent.
INSERT INTO `projects` (`id`, `title`, `description`, `clientId`, `freelancerId`, `budget`, `currency`, `status`, `deadline`, `createdAt`, `updatedAt`, `deletedAt`) VALUES
    ('8c1e5d7a-2b3f-4a9c-9e1d-000000000101', 'Marketplace MVP backend', 'REST API, auth, Stripe Connect payouts.',
        '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 12000.00, 'USD', 'in_progress', '2024-05-31 23:59:59.000 +00:00',
        '2024-01-16 10:00:00.000 +00:00', '2024-03-01 10:15:00.000 +00:00', NULL),
    ('8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'Brand identity refresh', 'Logo, palette, brand book.',
        '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000006', 3500.00, 'USD', 'completed', '2024-02-29 23:59:59.000 +00:00',
        '2024-01-17 08:30:00.000 +00:00', '2024-02-26 15:00:00.000 +00:00', NULL),
    ('8c1e5d7a-2b3f-4a9c-9e1d-000000000103', 'Mobile app QA sprint', 'Two-week test sprint on iOS and Android.',
        '3f6a2b1c-9d4e-4f7a-8b2c-000000000003', '3f6a2b1c-9d4e-4f7a-8b2c-000000000007', 2400.00, 'USD', 'active', '2024-04-15 23:59:59.000 +00:00',
        '2024-02-01 12:00:00.000 +00:00', '2024-02-20 09:30:00.000 +00:00', NULL),
    ('8c1e5d7a-2b3f-4a9c-9e1d-000000000104', 'Landing page copy', NULL,
        '3f6a2b1c-9d4e-4f7a-8b2c-000000000004', NULL, 600.00, 'EUR', 'draft', NULL,
        '2024-02-11 11:58:00.000 +00:00', '2024-02-11 11:58:00.000 +00:00', NULL),
    ('8c1e5d7a-2b3f-4a9c-9e1d-000000000105', 'Data pipeline audit', 'Cancelled when the freelancer left; deposit refunded.',
        '3f6a2b1c-9d4e-4f7a-8b2c-000000000003', '3f6a2b1c-9d4e-4f7a-8b2c-000000000008', 5000.00, 'USD', 'cancelled', '2024-03-31 23:59:59.000 +00:00',
        '2024-02-05 09:00:00.000 +00:00', '2024-03-04 09:05:00.000 +00:00', '2024-03-04 09:05:00.000 +00:00'),
    ('8c1e5d7a-2b3f-4a9c-9e1d-000000000106', 'Stripe Connect integration', 'Onboarding flow and payout webhooks.',
        '3f6a2b1c-9d4e-4f7a-8b2c-000000000004', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 4200.00, 'USD', 'disputed', '2024-03-15 23:59:59.000 +00:00',
        '2024-01-22 13:45:00.000 +00:00', '2024-03-18 16:20:00.000 +00:00', NULL);

-- milestones: twelve; sortOrder is unique within a project (the plan adds a unique index on it).
INSERT INTO `milestones` (`id`, `projectId`, `title`, `description`, `amount`, `dueDate`, `status`, `sortOrder`, `deliverables`, `submittedAt`, `approvedAt`, `createdAt`, `updatedAt`) VALUES
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000201', '8c1e5d7a-2b3f-4a9c-9e1d-000000000101', 'API design', 'OpenAPI spec and data model.', 3000.00, '2024-02-15 23:59:59.000 +00:00', 'released', 1,
        '["openapi.yaml","erd.png"]', '2024-02-12 18:00:00.000 +00:00', '2024-02-14 09:00:00.000 +00:00', '2024-01-16 10:05:00.000 +00:00', '2024-02-14 09:00:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000202', '8c1e5d7a-2b3f-4a9c-9e1d-000000000101', 'Auth & payments', NULL, 4500.00, '2024-03-31 23:59:59.000 +00:00', 'submitted', 2,
        '["auth-service.zip"]', '2024-03-01 10:15:00.000 +00:00', NULL, '2024-01-16 10:05:00.000 +00:00', '2024-03-01 10:15:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000203', '8c1e5d7a-2b3f-4a9c-9e1d-000000000101', 'Admin dashboard', NULL, 4500.00, '2024-05-31 23:59:59.000 +00:00', 'pending', 3,
        NULL, NULL, NULL, '2024-01-16 10:05:00.000 +00:00', '2024-01-16 10:05:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000204', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'Moodboard', NULL, 1000.00, '2024-01-31 23:59:59.000 +00:00', 'released', 1,
        '["moodboard.pdf"]', '2024-01-29 17:00:00.000 +00:00', '2024-01-30 08:00:00.000 +00:00', '2024-01-17 08:35:00.000 +00:00', '2024-01-30 08:00:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000205', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'Logo & palette', NULL, 1500.00, '2024-02-15 23:59:59.000 +00:00', 'released', 2,
        '["logo.svg","palette.ase"]', '2024-02-13 12:00:00.000 +00:00', '2024-02-14 10:30:00.000 +00:00', '2024-01-17 08:35:00.000 +00:00', '2024-02-14 10:30:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000206', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'Brand book', NULL, 1000.00, '2024-02-29 23:59:59.000 +00:00', 'released', 3,
        '["brand-book.pdf"]', '2024-02-24 09:00:00.000 +00:00', '2024-02-26 15:00:00.000 +00:00', '2024-01-17 08:35:00.000 +00:00', '2024-02-26 15:00:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000207', '8c1e5d7a-2b3f-4a9c-9e1d-000000000103', 'Test plan', NULL, 800.00, '2024-02-20 23:59:59.000 +00:00', 'in_progress', 1,
        NULL, NULL, NULL, '2024-02-01 12:05:00.000 +00:00', '2024-02-20 09:30:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000208', '8c1e5d7a-2b3f-4a9c-9e1d-000000000103', 'Regression run', NULL, 1600.00, '2024-04-15 23:59:59.000 +00:00', 'pending', 2,
        NULL, NULL, NULL, '2024-02-01 12:05:00.000 +00:00', '2024-02-01 12:05:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000209', '8c1e5d7a-2b3f-4a9c-9e1d-000000000104', 'First draft', NULL, 600.00, NULL, 'pending', 1,
        NULL, NULL, NULL, '2024-02-11 11:58:30.000 +00:00', '2024-02-11 11:58:30.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000210', '8c1e5d7a-2b3f-4a9c-9e1d-000000000105', 'Audit report', NULL, 5000.00, '2024-03-31 23:59:59.000 +00:00', 'pending', 1,
        NULL, NULL, NULL, '2024-02-05 09:02:00.000 +00:00', '2024-03-04 09:05:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000211', '8c1e5d7a-2b3f-4a9c-9e1d-000000000106', 'Connect onboarding', NULL, 2100.00, '2024-02-20 23:59:59.000 +00:00', 'released', 1,
        '["onboarding.patch"]', '2024-02-17 20:00:00.000 +00:00', '2024-02-19 08:15:00.000 +00:00', '2024-01-22 13:50:00.000 +00:00', '2024-02-19 08:15:00.000 +00:00'),
    ('c4d2a9e6-5f1b-4c3d-a7e2-000000000212', '8c1e5d7a-2b3f-4a9c-9e1d-000000000106', 'Payout webhooks', 'Client says retries are missing.', 2100.00, '2024-03-15 23:59:59.000 +00:00', 'disputed', 2,
        '["webhooks.patch"]', '2024-03-14 22:10:00.000 +00:00', NULL, '2024-01-22 13:50:00.000 +00:00', '2024-03-18 16:20:00.000 +00:00');

-- escrow_transactions: deposits (client → escrow), releases (escrow → freelancer, less the 5 %
-- fee), fees (to the platform: payeeId NULL) and one refund. Money still held in escrow:
-- deposits with status 'held' = 4500.00 + 800.00 + 2100.00 = 7400.00.
INSERT INTO `escrow_transactions` (`id`, `projectId`, `milestoneId`, `payerId`, `payeeId`, `type`, `amount`, `currency`, `stripePaymentIntentId`, `status`, `metadata`, `createdAt`, `updatedAt`) VALUES
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000301', '8c1e5d7a-2b3f-4a9c-9e1d-000000000101', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000201', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 'deposit', 3000.00, 'USD', 'pi_3OeA01Olivia0301', 'released', '{"card":"visa","last4":"4242"}', '2024-01-16 10:20:00.000 +00:00', '2024-02-14 09:00:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000302', '8c1e5d7a-2b3f-4a9c-9e1d-000000000101', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000202', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 'deposit', 4500.00, 'USD', 'pi_3OhB02Olivia0302', 'held', '{"card":"visa","last4":"4242"}', '2024-02-14 09:10:00.000 +00:00', '2024-02-14 09:10:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000303', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000204', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000006', 'deposit', 1000.00, 'USD', 'pi_3OeC03Olivia0303', 'released', NULL, '2024-01-17 08:40:00.000 +00:00', '2024-01-30 08:00:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000304', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000205', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000006', 'deposit', 1500.00, 'USD', 'pi_3OgD04Olivia0304', 'released', NULL, '2024-01-30 08:05:00.000 +00:00', '2024-02-14 10:30:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000305', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000206', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000006', 'deposit', 1000.00, 'USD', 'pi_3OhE05Olivia0305', 'released', NULL, '2024-02-14 10:35:00.000 +00:00', '2024-02-26 15:00:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000306', '8c1e5d7a-2b3f-4a9c-9e1d-000000000103', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000207', '3f6a2b1c-9d4e-4f7a-8b2c-000000000003', '3f6a2b1c-9d4e-4f7a-8b2c-000000000007', 'deposit', 800.00, 'USD', 'pi_3OfF06Marcus0306', 'held', NULL, '2024-02-01 12:30:00.000 +00:00', '2024-02-01 12:30:00.000 +00:00'),
    -- Card declined: recorded, never held. Carried like every other row.
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000307', '8c1e5d7a-2b3f-4a9c-9e1d-000000000103', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000208', '3f6a2b1c-9d4e-4f7a-8b2c-000000000003', '3f6a2b1c-9d4e-4f7a-8b2c-000000000007', 'deposit', 1600.00, 'USD', 'pi_3OiG07Marcus0307', 'failed', '{"declineCode":"insufficient_funds"}', '2024-02-20 09:31:00.000 +00:00', '2024-02-20 09:31:02.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000308', '8c1e5d7a-2b3f-4a9c-9e1d-000000000105', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000210', '3f6a2b1c-9d4e-4f7a-8b2c-000000000003', '3f6a2b1c-9d4e-4f7a-8b2c-000000000008', 'deposit', 5000.00, 'USD', 'pi_3OfH08Marcus0308', 'refunded', NULL, '2024-02-05 09:10:00.000 +00:00', '2024-03-04 09:05:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000309', '8c1e5d7a-2b3f-4a9c-9e1d-000000000106', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000211', '3f6a2b1c-9d4e-4f7a-8b2c-000000000004', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 'deposit', 2100.00, 'USD', 'pi_3OeJ09Sofia00309', 'released', NULL, '2024-01-22 14:00:00.000 +00:00', '2024-02-19 08:15:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000310', '8c1e5d7a-2b3f-4a9c-9e1d-000000000106', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000212', '3f6a2b1c-9d4e-4f7a-8b2c-000000000004', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 'deposit', 2100.00, 'USD', 'pi_3OhK10Sofia00310', 'held', NULL, '2024-02-19 08:20:00.000 +00:00', '2024-02-19 08:20:00.000 +00:00'),
    -- Releases and fees: no payment intent of their own (NULLs never collide in the UNIQUE column).
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000311', '8c1e5d7a-2b3f-4a9c-9e1d-000000000101', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000201', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 'release', 2850.00, 'USD', NULL, 'released', '{"transfer":"tr_1OhA0311"}', '2024-02-14 09:00:00.000 +00:00', '2024-02-14 09:00:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000312', '8c1e5d7a-2b3f-4a9c-9e1d-000000000101', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000201', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', NULL, 'fee', 150.00, 'USD', NULL, 'released', '{"feePercent":5}', '2024-02-14 09:00:00.000 +00:00', '2024-02-14 09:00:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000313', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000204', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000006', 'release', 950.00, 'USD', NULL, 'released', '{"transfer":"tr_1OgC0313"}', '2024-01-30 08:00:00.000 +00:00', '2024-01-30 08:00:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000314', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000204', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', NULL, 'fee', 50.00, 'USD', NULL, 'released', '{"feePercent":5}', '2024-01-30 08:00:00.000 +00:00', '2024-01-30 08:00:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000315', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000205', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000006', 'release', 1425.00, 'USD', NULL, 'released', '{"transfer":"tr_1OhD0315"}', '2024-02-14 10:30:00.000 +00:00', '2024-02-14 10:30:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000316', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000205', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', NULL, 'fee', 75.00, 'USD', NULL, 'released', '{"feePercent":5}', '2024-02-14 10:30:00.000 +00:00', '2024-02-14 10:30:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000317', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000206', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000006', 'release', 950.00, 'USD', NULL, 'released', '{"transfer":"tr_1OiE0317"}', '2024-02-26 15:00:00.000 +00:00', '2024-02-26 15:00:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000318', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000206', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', NULL, 'fee', 50.00, 'USD', NULL, 'released', '{"feePercent":5}', '2024-02-26 15:00:00.000 +00:00', '2024-02-26 15:00:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000319', '8c1e5d7a-2b3f-4a9c-9e1d-000000000105', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000210', '3f6a2b1c-9d4e-4f7a-8b2c-000000000003', '3f6a2b1c-9d4e-4f7a-8b2c-000000000003', 'refund', 5000.00, 'USD', NULL, 'refunded', '{"refund":"re_3OjH0319"}', '2024-03-04 09:05:00.000 +00:00', '2024-03-04 09:05:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000320', '8c1e5d7a-2b3f-4a9c-9e1d-000000000106', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000211', '3f6a2b1c-9d4e-4f7a-8b2c-000000000004', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 'release', 1995.00, 'USD', NULL, 'released', '{"transfer":"tr_1OhJ0320"}', '2024-02-19 08:15:00.000 +00:00', '2024-02-19 08:15:00.000 +00:00'),
    ('e7b3f1c8-6a2d-4e5f-b9c3-000000000321', '8c1e5d7a-2b3f-4a9c-9e1d-000000000106', 'c4d2a9e6-5f1b-4c3d-a7e2-000000000211', '3f6a2b1c-9d4e-4f7a-8b2c-000000000004', NULL, 'fee', 105.00, 'USD', NULL, 'released', '{"feePercent":5}', '2024-02-19 08:15:00.000 +00:00', '2024-02-19 08:15:00.000 +00:00');

-- reviews: one per (project, reviewer).
INSERT INTO `reviews` (`id`, `projectId`, `reviewerId`, `revieweeId`, `rating`, `comment`, `isPublic`, `createdAt`, `updatedAt`) VALUES
    ('a9f4c2d1-7e3b-4d6a-8f5e-000000000401', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000006', 5, 'Tomasz nailed it. Would hire again.', 1, '2024-02-27 09:00:00.000 +00:00', '2024-02-27 09:00:00.000 +00:00'),
    ('a9f4c2d1-7e3b-4d6a-8f5e-000000000402', '8c1e5d7a-2b3f-4a9c-9e1d-000000000102', '3f6a2b1c-9d4e-4f7a-8b2c-000000000006', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', 5, 'Clear brief, fast feedback.', 1, '2024-02-27 18:30:00.000 +00:00', '2024-02-27 18:30:00.000 +00:00'),
    ('a9f4c2d1-7e3b-4d6a-8f5e-000000000403', '8c1e5d7a-2b3f-4a9c-9e1d-000000000101', '3f6a2b1c-9d4e-4f7a-8b2c-000000000002', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 4, 'Great API design; first milestone a little late.', 1, '2024-02-15 08:00:00.000 +00:00', '2024-02-15 08:00:00.000 +00:00'),
    ('a9f4c2d1-7e3b-4d6a-8f5e-000000000404', '8c1e5d7a-2b3f-4a9c-9e1d-000000000106', '3f6a2b1c-9d4e-4f7a-8b2c-000000000004', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', 2, 'Webhooks shipped without retries.', 0, '2024-03-18 16:25:00.000 +00:00', '2024-03-18 16:25:00.000 +00:00'),
    ('a9f4c2d1-7e3b-4d6a-8f5e-000000000405', '8c1e5d7a-2b3f-4a9c-9e1d-000000000106', '3f6a2b1c-9d4e-4f7a-8b2c-000000000005', '3f6a2b1c-9d4e-4f7a-8b2c-000000000004', 3, 'Retries were out of scope; happy to add them.', 0, '2024-03-18 19:02:00.000 +00:00', '2024-03-18 19:02:00.000 +00:00');
