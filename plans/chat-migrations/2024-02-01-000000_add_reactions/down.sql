DROP TABLE IF EXISTS message_reactions;
