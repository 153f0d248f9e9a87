-- Full-text search over messages, computed by PostgreSQL for every row, loaded ones included.
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search);
