-- chat.sql — fixture for plans/chat.yaml (seed 004: LiaiZen's chat server, Node.js, which ran
-- on SQLite in development and moves to PostgreSQL on Railway, where 52 SQL migrations define
-- the schema).
--
-- Hand-written SQLite DDL, as a Node app writes it with better-sqlite3:
--   * users.username is unique WITHOUT regard to case (COLLATE NOCASE): 'Noor' and 'noor' cannot
--     both exist. PostgreSQL has no NOCASE; the plan makes the column citext.
--   * timestamps are INTEGER epoch SECONDS, DEFAULT (unixepoch()).
--   * booleans are INTEGER 0/1 with a CHECK.
--   * channel_members has a composite primary key and is WITHOUT ROWID.
--   * messages.body_length is a generated column; messages.reply_to_id points back into
--     messages (a reply to a reply is a chain).
--   * a view (channel_activity) and a trigger (messages_touch_channel, which keeps
--     channels.last_message_at current) — PostgreSQL versions of both are steps in the plan.
--   * schema_migrations is the app's own migration bookkeeping (left behind by the plan).
--
-- Message bodies are deliberately messy in ways a bulk loader must get right (each is commented
-- where it is inserted): LF and CRLF newlines, TAB characters, backslashes, the two characters
-- \N, an empty string that is not NULL, trailing spaces, quotes, emoji with zero-width joiners.
-- None of them needs a transform: they must arrive exactly as they are.
-- One message has user_id NULL: its author's account was deleted (ON DELETE SET NULL). That is
-- a NULL foreign key, not an orphan; foreign_key_check is clean.
--
-- Rebuilt by plans/data/build.sh; every row is fixed, nothing random.

PRAGMA foreign_keys = ON;

CREATE TABLE schema_migrations (
    version    TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL DEFAULT (unixepoch())
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    display_name  TEXT    NOT NULL,
    email         TEXT    UNIQUE,
    password_hash TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'away', 'offline')),
    created_at    INTEGER NOT NULL DEFAULT (unixepoch()),
    last_seen_at  INTEGER
);

CREATE TABLE channels (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    topic           TEXT,
    is_private      INTEGER NOT NULL DEFAULT 0 CHECK (is_private IN (0, 1)),
    created_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL DEFAULT (unixepoch()),
    last_message_at INTEGER                                  -- maintained by messages_touch_channel
);

CREATE TABLE channel_members (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
    muted      INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1)),
    joined_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reply_to_id INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    body        TEXT    NOT NULL,
    body_length INTEGER GENERATED ALWAYS AS (length(body)) VIRTUAL,
    created_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    edited_at   INTEGER
);

CREATE INDEX idx_channel_members_user ON channel_members (user_id);
CREATE INDEX idx_messages_channel_created ON messages (channel_id, created_at DESC);
CREATE INDEX idx_messages_reply_to ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL;

CREATE VIEW channel_activity AS
SELECT c.id AS channel_id,
       c.name,
       count(m.id) AS message_count,
       max(m.created_at) AS last_message_at
FROM channels c
LEFT JOIN messages m ON m.channel_id = c.id
GROUP BY c.id, c.name;

CREATE TRIGGER messages_touch_channel
AFTER INSERT ON messages
BEGIN
    UPDATE channels SET last_message_at = NEW.created_at WHERE id = NEW.channel_id;
END;

-- ---------------------------------------------------------------------------------------------
INSERT INTO schema_migrations (version, applied_at) VALUES
    ('001_initial_schema', 1704186000),
    ('002_channel_members_without_rowid', 1704291000),
    ('003_message_replies', 1705312000);

-- users: handles differ in case on purpose ('Noor', 'MarieC', 'OLA', 'Dev-Bot'); no two collide
-- when case is ignored, as COLLATE NOCASE UNIQUE guarantees.
INSERT INTO users (id, username, display_name, email, password_hash, status, created_at, last_seen_at) VALUES
    (1, 'Noor', 'Noor Haddad', 'noor@liaizen.example', '$argon2id$v=19$m=19456,t=2,p=1$31dd951065a37361825bfb$2b89138389c90e5898b7914727e13f144896720b1d0', 'online', 1704186000, 1709154849),
    (2, 'alex', 'Alex Moreau', 'alex@liaizen.example', '$argon2id$v=19$m=19456,t=2,p=1$20b191e632d18e4b11695e$06d6ef8ccf06cb8423e35cacdecfe9c5853ef0d913a', 'away', 1704186330, 1709193764),
    (3, 'MarieC', 'Marie Cloutier', 'marie.c@liaizen.example', '$argon2id$v=19$m=19456,t=2,p=1$e8263b5e8ade1fe12b7686$c767112c6be64a1d920670e5fd671c589dd0acd386a', 'offline', 1704291600, 1709055900),
    (4, 'kenji_t', 'Kenji Takahashi', 'kenji@liaizen.example', '$argon2id$v=19$m=19456,t=2,p=1$32c4db8ad2877da8261da3$34c29ee4512c11e6e7fe1698ad3411d212054e397f6', 'online', 1704330612, 1709173800),
    (5, 'sam', 'Sam Okoro', NULL, '$argon2id$v=19$m=19456,t=2,p=1$b66ed47c58c9a3d54e57f6$19088649ab169ff7e655cecb328d423b4527a2b0424', 'offline', 1704736800, NULL),
    (6, 'Dev-Bot', 'Deploy Bot', NULL, '$argon2id$v=19$m=19456,t=2,p=1$72963daf9fe51231ec88b5$93782fe3f1271bb55d62bb781fb2d664feb524ad48a', 'online', 1704187800, 1709208000),
    (7, 'priya.r', 'Priya Raman', 'priya.r@liaizen.example', '$argon2id$v=19$m=19456,t=2,p=1$e2616e88dabf45a5d99d98$6c6ea1f5d6ab26858c526311e2b6c70a73f614d5658', 'offline', 1705312800, 1708444800),
    (8, 'OLA', 'Ola Nordmann', 'ola@liaizen.example', '$argon2id$v=19$m=19456,t=2,p=1$d13bd472081c1fb35cae02$87708476f3908d1fe71e08fb68eeac5f0650c4b4cea', 'offline', 1706773500, 1708933800);

-- channels: last_message_at starts NULL; the trigger fills it as messages are inserted below.
-- 'design' has an empty topic (''), 'random' has none (NULL): two different things.
INSERT INTO channels (id, name, topic, is_private, created_by, created_at) VALUES
    (1, 'general', 'Company-wide chatter', 0, 1, 1704186060),
    (2, 'engineering', 'Builds, reviews, incidents', 0, 2, 1704186360),
    (3, 'design', '', 0, 3, 1704291900),
    (4, 'leadership', 'Private: planning', 1, 1, 1704873600),
    (5, 'random', NULL, 0, 4, 1704330900);

-- channel_members: 21 memberships; muted is 0/1.
INSERT INTO channel_members (channel_id, user_id, role, muted, joined_at) VALUES
    (1, 1, 'owner', 0, 1704186060),
    (1, 2, 'admin', 0, 1704186360),
    (1, 3, 'member', 0, 1704291660),
    (1, 4, 'member', 1, 1704330660),
    (1, 5, 'member', 0, 1704736860),
    (1, 6, 'member', 1, 1704187860),
    (1, 7, 'member', 0, 1705312860),
    (1, 8, 'member', 0, 1706773560),
    (2, 2, 'owner', 0, 1704186360),
    (2, 1, 'member', 0, 1704186600),
    (2, 4, 'admin', 0, 1704330720),
    (2, 6, 'member', 0, 1704187890),
    (2, 7, 'member', 0, 1705312920),
    (3, 3, 'owner', 0, 1704291900),
    (3, 1, 'member', 1, 1704292200),
    (3, 8, 'member', 0, 1706774400),
    (4, 1, 'owner', 0, 1704873600),
    (4, 2, 'member', 0, 1704873720),
    (5, 4, 'owner', 0, 1704330900),
    (5, 5, 'member', 0, 1704737100),
    (5, 2, 'member', 1, 1704801600);

-- messages: 36, ids in time order; body_length is generated, so it is not inserted.
INSERT INTO messages (id, channel_id, user_id, reply_to_id, body, created_at, edited_at) VALUES
    (1, 1, 1, NULL, 'Welcome to LiaiZen chat 👋', 1704186130, NULL),
    (2, 1, 2, 1, 'Thanks Noor! Glad to be here.', 1704186180, NULL),
    (3, 2, 2, NULL, 'Setting up CI today.', 1704186420, NULL),
    -- multi-line body (LF newlines, leading spaces)
    (4, 2, 6, NULL, 'Deploy #1 to staging' || char(10) || '  build: ok' || char(10) || '  migrate: ok' || char(10) || '  smoke: ok', 1704189600, NULL),
    (5, 2, 1, 4, '🎉 shipped!', 1704189720, NULL),
    (6, 3, 3, NULL, 'Moodboard is up, feedback welcome', 1704292800, NULL),
    -- double quotes; edited
    (7, 3, 1, 6, 'Love the palette. Can we try a darker "ink" tone?', 1704294000, 1704294120),
    (8, 5, 4, NULL, 'first!', 1704330960, NULL),
    (9, 1, 3, NULL, 'Lunch at 12:30?', 1704452400, NULL),
    (10, 1, 4, 9, 'Yes — the ramen place', 1704452700, NULL),
    -- backslashes: COPY must escape them
    (11, 2, 4, NULL, 'Artifacts are in C:\Users\build\liaizen\artifacts (backslashes, not escapes)', 1704470400, NULL),
    -- apostrophe
    (12, 5, 5, 8, 'It''s 3am Kenji, go to sleep', 1704737160, NULL),
    (13, 4, 1, NULL, 'Q1 planning doc: headcount + budget', 1704873900, NULL),
    (14, 4, 2, 13, 'Reviewed. Two comments inline.', 1704877800, NULL),
    (15, 1, 7, NULL, 'Hi all, Priya here (joined the platform team)', 1705313100, NULL),
    (16, 1, 1, 15, 'Welcome Priya!', 1705313220, NULL),
    (17, 1, 2, 15, 'welcome 🙌', 1705313280, NULL),
    -- the two characters \N: must arrive as text, not as NULL
    (18, 2, 7, NULL, 'In COPY text format \N means NULL. This message is not NULL.', 1705314600, NULL),
    (19, 2, 6, NULL, 'Deploy #2 to production' || char(10) || '  build: ok' || char(10) || '  migrate: ok' || char(10) || '  smoke: ok', 1705395600, NULL),
    -- pasted table: TAB characters (COPY's column separator)
    (20, 2, 1, NULL, 'name' || char(9) || 'count' || char(10) || 'errors' || char(9) || '0' || char(10) || 'warnings' || char(9) || '3', 1705759200, NULL),
    -- CRLF line ends from a Windows client: kept as they are
    (21, 2, 4, NULL, 'Repro steps:' || char(13) || char(10) || '1. open settings' || char(13) || char(10) || '2. toggle dark mode', 1705928400, NULL),
    -- empty body (an image-only message): '' is not NULL
    (22, 5, 2, NULL, '', 1706040000, NULL),
    -- author's account deleted (user_id NULL); trailing spaces kept
    (23, 1, NULL, NULL, 'ok  ', 1706184000, NULL),
    (24, 3, 8, NULL, 'Hei! Første dag — ser bra ut 👍', 1706775000, NULL),
    -- emoji with a zero-width joiner
    (25, 2, 7, NULL, '👩‍💻 pairing on the flaky test', 1707127200, NULL),
    (26, 2, 2, 25, 'Found it: timezone assumption in the fixture 🙃', 1707132600, 1707132660),
    (27, 1, 8, NULL, 'Does anyone have the wifi password?', 1707206400, NULL),
    (28, 1, 3, 27, 'It''s on the fridge.', 1707206520, NULL),
    (29, 2, 6, NULL, 'Deploy #3 to production' || char(10) || '  build: ok' || char(10) || '  migrate: ok' || char(10) || '  smoke: FAILED', 1707728400, NULL),
    (30, 2, 4, 29, 'Rolled back: 502s on /api/messages', 1707729600, NULL),
    -- a reply to a reply
    (31, 2, 4, 30, 'Fixed in #412, redeploying', 1707732300, NULL),
    (32, 4, 1, NULL, 'Offsite 14–15 March, budget approved', 1708012800, NULL),
    -- SQL in a message body is just text
    (33, 5, 5, NULL, 'SELECT * FROM memes WHERE quality > 9000; -- sorry', 1708293600, NULL),
    (34, 1, 2, NULL, 'Reminder: all-hands Thursday 10:00 UTC', 1708938000, NULL),
    (35, 3, 3, NULL, 'v2 mockups: https://figma.example/file/abc?node-id=12%3A34', 1709055600, NULL),
    (36, 1, 1, 34, '👍', 1709154840, NULL);
