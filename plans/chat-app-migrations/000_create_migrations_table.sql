-- The app's migration bookkeeping on PostgreSQL (chat-server/migrations/000 in seed 004).
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
