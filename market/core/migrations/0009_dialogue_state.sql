-- The shopping assistant's dialogue state after each turn: what the shopper is looking for (words, category,
-- budget, brands and colours wanted and turned down), the needs set aside, a clarifying question's options.
ALTER TABLE conversation_turns ADD COLUMN state jsonb NOT NULL DEFAULT '{}';
