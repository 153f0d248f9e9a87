-- The chat server's base schema, in PostgreSQL syntax, as the app's team wrote it (seed 004:
-- "001_initial_schema.sql uses PostgreSQL syntax"). decant loads the SQLite data into it.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id            serial PRIMARY KEY,
    username      citext NOT NULL UNIQUE,           -- handles are unique without regard to case
    display_name  text NOT NULL,
    email         text UNIQUE,
    password_hash text NOT NULL,
    status        text NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'away', 'offline')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz
);

CREATE TABLE channels (
    id              serial PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    topic           text,
    is_private      boolean NOT NULL DEFAULT false,
    created_by      integer REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz
);

CREATE TABLE channel_members (
    channel_id integer NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
    muted      boolean NOT NULL DEFAULT false,
    joined_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, user_id)
);

CREATE TABLE messages (
    id          serial PRIMARY KEY,
    channel_id  integer NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id     integer REFERENCES users (id) ON DELETE SET NULL,
    reply_to_id integer REFERENCES messages (id) ON DELETE SET NULL,
    body        text NOT NULL,
    body_length integer GENERATED ALWAYS AS (char_length(body)) STORED,
    created_at  timestamptz NOT NULL DEFAULT now(),
    edited_at   timestamptz
);

CREATE INDEX idx_channel_members_user ON channel_members (user_id);
CREATE INDEX idx_messages_channel_created ON messages (channel_id, created_at DESC);
CREATE INDEX idx_messages_reply_to ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL;

-- Keeps channels.last_message_at current as messages arrive.
CREATE FUNCTION messages_touch_channel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE channels SET last_message_at = NEW.created_at WHERE id = NEW.channel_id;
    RETURN NEW;
END $$;
CREATE TRIGGER messages_touch_channel AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_touch_channel();
