-- Audio and image input tokens, priced apart from text where a model's prices differ (the
-- GenAI conventions' gen_ai.usage.audio.input_tokens and gen_ai.usage.image.input_tokens).
-- A call's counts are of uncached input and are part of its input_tokens, as cache tokens are.
-- A price without its own audio or image rate prices those tokens as text input.
ALTER TABLE calls ADD COLUMN audio_input_tokens BIGINT NOT NULL DEFAULT 0
    CHECK (audio_input_tokens >= 0);
ALTER TABLE calls ADD COLUMN image_input_tokens BIGINT NOT NULL DEFAULT 0
    CHECK (image_input_tokens >= 0);
ALTER TABLE prices ADD COLUMN audio_input_micros_per_mtok BIGINT
    CHECK (audio_input_micros_per_mtok >= 0);
ALTER TABLE prices ADD COLUMN image_input_micros_per_mtok BIGINT
    CHECK (image_input_micros_per_mtok >= 0);
