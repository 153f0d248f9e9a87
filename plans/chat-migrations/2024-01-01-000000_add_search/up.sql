-- Full-text search over messages: something the SQLite version never had.
-- Runs on PostgreSQL after decant has loaded the data (step `app-migrations` in plans/chat.yaml),
-- so the generated column is computed for every migrated message when it is added.
--
-- 'simple' keeps words as typed (lower-cased, no stemming): the chat is multilingual.
-- Queries: WHERE search @@ websearch_to_tsquery('simple', $1)
ALTER TABLE messages
    ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;

CREATE INDEX messages_search_idx ON messages USING gin (search);
