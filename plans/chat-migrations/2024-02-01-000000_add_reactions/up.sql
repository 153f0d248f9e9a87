-- Emoji reactions. Until now people "reacted" by replying with a message that is nothing but
-- one emoji; this turns those replies into reactions (the messages stay, for history).
--
-- The foreign keys point at messages(id) and users(id), so this migration needs the primary keys
-- decant creates after the load: plans/chat.yaml runs it after [load, constraints].
CREATE TABLE message_reactions (
    message_id bigint      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      text        NOT NULL CHECK (char_length(emoji) BETWEEN 1 AND 16),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id, emoji)
);

CREATE INDEX message_reactions_user_idx ON message_reactions (user_id);

INSERT INTO message_reactions (message_id, user_id, emoji, created_at)
SELECT reply_to_id, user_id, body, created_at
FROM messages
WHERE reply_to_id IS NOT NULL
  AND user_id IS NOT NULL
  AND body IN ('👍', '🎉', '🙌', '❤️', '😂')
ON CONFLICT DO NOTHING;
