-- savings.sql — fixture for plans/savings.yaml (seed 000: the TujiFund/ChamaVault savings-group app).
--
-- A chama is a savings group: members pay a fixed contribution at each meeting, and the pot lends
-- to members, who repay with interest. The Go app used database/sql with SQLite, so the schema is
-- plain hand-written DDL: INTEGER PRIMARY KEY AUTOINCREMENT ids, money declared NUMERIC(12,2),
-- calendar dates as 'YYYY-MM-DD' text, and created_at filled by CURRENT_TIMESTAMP (UTC, no offset).
--
-- Things a reviewer should know (each is handled by the plan, none is an orphan or a lost row):
--   * NUMERIC(12,2) has NUMERIC affinity, so 500.00 is stored as the INTEGER 500 while 150.50 is
--     stored as the REAL 150.5: one column, two storage classes. Both become numeric(12,2).
--   * Rows were deleted from contributions and loans, so sqlite_sequence is ABOVE max(id) for
--     both: the PostgreSQL sequences must continue after sqlite_sequence, not after max(id).
--   * loans.term_months holds one text value, '6 months', typed into an admin form before the
--     form validated input (the one deliberate trap; the plan strips it to 6).
--   * members.full_name has one value with stray spaces; the plan trims it.
--
-- Rebuilt by plans/data/build.sh; every row is fixed, nothing random.

PRAGMA foreign_keys = ON;

CREATE TABLE groups (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL UNIQUE,
    meeting_day         TEXT    NOT NULL CHECK (meeting_day IN ('monday','tuesday','wednesday','thursday','friday','saturday','sunday')),
    contribution_amount NUMERIC(12,2) NOT NULL CHECK (contribution_amount > 0),
    currency            TEXT    NOT NULL DEFAULT 'KES',
    founded_on          DATE    NOT NULL,
    created_at          DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE members (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    full_name  TEXT    NOT NULL,
    phone      TEXT    NOT NULL,
    email      TEXT,
    role       TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('chair','treasurer','secretary','member')),
    joined_on  DATE    NOT NULL,
    is_active  INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (group_id, phone)
);

CREATE TABLE contributions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id       INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id      INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    amount         NUMERIC(12,2) NOT NULL CHECK (amount > 0),
    contributed_on DATE    NOT NULL,
    method         TEXT    NOT NULL CHECK (method IN ('mpesa','cash','bank')),
    reference      TEXT,                                   -- M-Pesa or bank reference; NULL for cash
    created_at     DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE loans (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id      INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id     INTEGER NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
    principal     NUMERIC(12,2) NOT NULL CHECK (principal > 0),
    interest_rate REAL    NOT NULL,                        -- percent per month, e.g. 1.5
    term_months   INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','active','repaid','defaulted','rejected')),
    issued_on     DATE,                                    -- NULL until the loan is disbursed
    due_on        DATE,
    created_at    DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE repayments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    loan_id    INTEGER NOT NULL REFERENCES loans (id) ON DELETE CASCADE,
    amount     NUMERIC(12,2) NOT NULL CHECK (amount > 0),
    paid_on    DATE    NOT NULL,
    method     TEXT    NOT NULL CHECK (method IN ('mpesa','cash','bank')),
    reference  TEXT,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_members_group ON members (group_id);
CREATE INDEX idx_contributions_member_date ON contributions (member_id, contributed_on);
CREATE INDEX idx_contributions_group_date ON contributions (group_id, contributed_on DESC);
CREATE INDEX idx_loans_member ON loans (member_id);
CREATE INDEX idx_loans_open ON loans (group_id, due_on) WHERE status = 'active';
CREATE INDEX idx_repayments_loan ON repayments (loan_id);

-- ---------------------------------------------------------------------------------------------
-- groups: three chamas. Contribution amounts show both storage classes (see the header).
INSERT INTO groups (id, name, meeting_day, contribution_amount, currency, founded_on, created_at) VALUES
    (1, 'Umoja Women Group',      'saturday', 500.00, 'KES', '2021-03-06', '2023-01-10 07:45:12'),
    (2, 'Kilimani Boda Riders',   'sunday',   250.50, 'KES', '2022-07-17', '2023-01-10 08:02:40'),
    (3, 'Tumaini Teachers Chama', 'friday',   1000.00, 'KES', '2019-11-01', '2023-02-03 16:20:05');

-- members: 14 people. Phone numbers are unique per group, not globally (Wanjiru is in two groups).
INSERT INTO members (id, group_id, full_name, phone, email, role, joined_on, is_active, created_at) VALUES
    (1,  1, 'Grace Wanjiru',      '+254711000101', 'grace.wanjiru@example.org', 'chair',     '2021-03-06', 1, '2023-01-10 07:50:00'),
    (2,  1, 'Mercy Achieng',      '+254711000102', NULL,                        'treasurer', '2021-03-06', 1, '2023-01-10 07:51:10'),
    (3,  1, 'Faith Njeri',        '+254711000103', 'faith.njeri@example.org',   'secretary', '2021-03-20', 1, '2023-01-10 07:52:31'),
    -- Stray spaces around the name (typed on a phone keyboard); the plan trims full_name.
    (4,  1, '  Esther Mwikali ',  '+254711000104', NULL,                        'member',    '2021-06-12', 1, '2023-01-10 07:53:02'),
    (5,  1, 'Lucy Chebet',        '+254711000105', NULL,                        'member',    '2022-01-08', 0, '2023-01-10 07:54:48'),
    (6,  2, 'Brian Otieno',       '+254722000201', 'brian.otieno@example.org',  'chair',     '2022-07-17', 1, '2023-01-10 08:05:00'),
    (7,  2, 'Kevin Mutua',        '+254722000202', NULL,                        'treasurer', '2022-07-17', 1, '2023-01-10 08:05:40'),
    (8,  2, 'Dennis Kiprono',     '+254722000203', NULL,                        'member',    '2022-08-14', 1, '2023-01-10 08:06:22'),
    (9,  2, 'Grace Wanjiru',      '+254711000101', 'grace.wanjiru@example.org', 'member',    '2023-01-08', 1, '2023-01-10 08:07:05'),
    (10, 3, 'Peter Kamau',        '+254733000301', 'p.kamau@example.org',       'chair',     '2019-11-01', 1, '2023-02-03 16:22:00'),
    (11, 3, 'Alice Wambui',       '+254733000302', 'a.wambui@example.org',      'treasurer', '2019-11-01', 1, '2023-02-03 16:22:45'),
    (12, 3, 'Samuel Odhiambo',    '+254733000303', NULL,                        'secretary', '2020-01-03', 1, '2023-02-03 16:23:30'),
    (13, 3, 'Joyce Nduta',        '+254733000304', 'j.nduta@example.org',       'member',    '2020-02-07', 1, '2023-02-03 16:24:12'),
    (14, 3, 'Daniel Mwangi',      '+254733000305', NULL,                        'member',    '2021-09-03', 1, '2023-02-03 16:25:00');

-- contributions: 30 rows entered, then ids 29 and 30 deleted (see the end of the file), so
-- max(id) = 28 while sqlite_sequence says 30.
INSERT INTO contributions (id, group_id, member_id, amount, contributed_on, method, reference, created_at) VALUES
    (1,  1, 1,  500.00,  '2024-01-06', 'mpesa', 'SA61HK2P0Q', '2024-01-06 09:14:03'),
    (2,  1, 2,  500.00,  '2024-01-06', 'mpesa', 'SA61HK7T4W', '2024-01-06 09:15:47'),
    (3,  1, 3,  500.00,  '2024-01-06', 'cash',  NULL,         '2024-01-06 10:02:11'),
    (4,  1, 4,  500.00,  '2024-01-06', 'mpesa', 'SA61HL0B9C', '2024-01-06 10:30:29'),
    (5,  1, 1,  500.00,  '2024-01-13', 'mpesa', 'SA68JQ1M2N', '2024-01-13 09:01:55'),
    (6,  1, 2,  500.00,  '2024-01-13', 'mpesa', 'SA68JQ3R8S', '2024-01-13 09:03:20'),
    (7,  1, 3,  250.00,  '2024-01-13', 'cash',  NULL,         '2024-01-13 10:10:00'),   -- half now, half later
    (8,  1, 3,  250.00,  '2024-01-20', 'cash',  NULL,         '2024-01-20 10:12:41'),
    (9,  1, 4,  500.00,  '2024-01-13', 'mpesa', 'SA68JR0D5F', '2024-01-13 11:45:03'),
    (10, 2, 6,  250.50,  '2024-01-07', 'mpesa', 'SA72AB1C2D', '2024-01-07 18:20:14'),
    (11, 2, 7,  250.50,  '2024-01-07', 'mpesa', 'SA72AB3E4F', '2024-01-07 18:22:09'),
    (12, 2, 8,  250.50,  '2024-01-07', 'mpesa', 'SA72AB5G6H', '2024-01-07 18:25:50'),
    (13, 2, 9,  250.50,  '2024-01-07', 'mpesa', 'SA72AB7J8K', '2024-01-07 18:31:37'),
    (14, 2, 6,  250.50,  '2024-01-14', 'mpesa', 'SA79CD1L2M', '2024-01-14 18:02:44'),
    (15, 2, 7,  250.50,  '2024-01-14', 'cash',  NULL,         '2024-01-14 18:40:00'),
    (16, 2, 8,  125.25,  '2024-01-14', 'mpesa', 'SA79CD3N4P', '2024-01-14 19:05:18'),   -- part payment
    (17, 2, 8,  125.25,  '2024-01-21', 'mpesa', 'SA86EF1Q2R', '2024-01-21 18:11:27'),
    (18, 3, 10, 1000.00, '2024-01-05', 'bank',  'FT24005K7Z', '2024-01-05 14:00:00'),
    (19, 3, 11, 1000.00, '2024-01-05', 'bank',  'FT24005K8A', '2024-01-05 14:00:00'),
    (20, 3, 12, 1000.00, '2024-01-05', 'mpesa', 'SA55GH1S2T', '2024-01-05 15:12:36'),
    (21, 3, 13, 1000.00, '2024-01-05', 'mpesa', 'SA55GH3U4V', '2024-01-05 15:40:02'),
    (22, 3, 14, 1000.00, '2024-01-05', 'cash',  NULL,         '2024-01-05 17:30:00'),
    (23, 3, 10, 1000.00, '2024-02-02', 'bank',  'FT24033M1B', '2024-02-02 14:00:00'),
    (24, 3, 11, 1000.00, '2024-02-02', 'bank',  'FT24033M2C', '2024-02-02 14:00:00'),
    (25, 3, 12, 1000.00, '2024-02-02', 'mpesa', 'SA83JK1W2X', '2024-02-02 16:05:09'),
    (26, 3, 13, 999.99,  '2024-02-02', 'mpesa', 'SA83JK3Y4Z', '2024-02-02 16:47:51'),   -- one cent short (M-Pesa fee)
    (27, 3, 13, 0.01,    '2024-02-09', 'cash',  NULL,         '2024-02-09 17:02:00'),
    (28, 3, 14, 1000.00, '2024-02-02', 'cash',  NULL,         '2024-02-02 17:15:00'),
    (29, 1, 5,  500.00,  '2024-01-06', 'mpesa', 'SA61HM4X0X', '2024-01-06 12:00:00'),   -- deleted below
    (30, 1, 5,  500.00,  '2024-01-13', 'mpesa', 'SA68JS4X0X', '2024-01-13 12:00:00');   -- deleted below

-- loans: 8 rows entered, then id 8 (a rejected application) deleted, so max(id) = 7 while
-- sqlite_sequence says 8.
INSERT INTO loans (id, group_id, member_id, principal, interest_rate, term_months, status, issued_on, due_on, created_at) VALUES
    (1, 1, 2,  5000.00,  1.5, 6,  'repaid',  '2023-06-10', '2023-12-10', '2023-06-03 10:00:00'),
    (2, 1, 4,  3000.00,  1.5, 3,  'active',  '2023-12-09', '2024-03-09', '2023-12-02 09:40:00'),
    (3, 2, 8,  2000.00,  2.0, 4,  'active',  '2023-11-19', '2024-03-19', '2023-11-12 19:00:00'),
    -- The one deliberate trap: text in an INTEGER column. '6 months' is not a number, so INTEGER
    -- affinity keeps it as TEXT. The plan's transform keeps the digits only: 6.
    (4, 2, 7,  1500.00,  2.0, '6 months', 'active', '2024-01-07', '2024-07-07', '2024-01-07 19:30:00'),
    (5, 3, 12, 20000.00, 1.0, 12, 'active',  '2023-09-01', '2024-09-01', '2023-08-25 15:00:00'),
    (6, 3, 14, 8000.00,  1.0, 6,  'defaulted', '2023-03-03', '2023-09-03', '2023-02-24 15:10:00'),
    (7, 3, 13, 5000.00,  1.0, 6,  'pending', NULL,         NULL,         '2024-02-02 17:45:00'),
    (8, 1, 5,  10000.00, 1.5, 12, 'rejected', NULL,        NULL,         '2024-01-13 12:30:00');   -- deleted below

-- repayments: 12 rows, none on a deleted loan.
INSERT INTO repayments (id, loan_id, amount, paid_on, method, reference, created_at) VALUES
    (1,  1, 1300.00, '2023-08-12', 'mpesa', 'RH12AA0001', '2023-08-12 09:30:00'),
    (2,  1, 1300.00, '2023-10-14', 'mpesa', 'RJ14AA0002', '2023-10-14 09:31:10'),
    (3,  1, 2850.00, '2023-12-09', 'cash',  NULL,         '2023-12-09 11:00:00'),
    (4,  2, 1045.00, '2024-01-13', 'mpesa', 'SA68KA0004', '2024-01-13 12:04:00'),
    (5,  3, 540.00,  '2023-12-17', 'mpesa', 'RL17BB0005', '2023-12-17 18:45:00'),
    (6,  3, 540.00,  '2024-01-14', 'mpesa', 'SA79BB0006', '2024-01-14 18:50:00'),
    (7,  3, 540.00,  '2024-02-11', 'cash',  NULL,         '2024-02-11 19:00:00'),
    (8,  4, 280.00,  '2024-02-04', 'mpesa', 'SB04CC0008', '2024-02-04 18:15:00'),
    (9,  5, 1866.67, '2023-10-06', 'bank',  'FT23279C9D', '2023-10-06 14:00:00'),
    (10, 5, 1866.67, '2023-11-03', 'bank',  'FT23307D1E', '2023-11-03 14:00:00'),
    (11, 5, 1866.66, '2023-12-01', 'bank',  'FT23335E2F', '2023-12-01 14:00:00'),
    (12, 6, 1500.00, '2023-04-07', 'cash',  NULL,         '2023-04-07 16:00:00');

-- Deletions that leave sqlite_sequence above max(id): two contributions recorded for a member who
-- had already left, and a rejected loan application the treasurer removed.
DELETE FROM contributions WHERE id IN (29, 30);
DELETE FROM loans WHERE id = 8;
