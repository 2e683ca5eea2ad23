-- The starting price book: public list prices (standard tier, prompts up to 200k tokens) in
-- micro-dollars per million tokens, as published by each provider when last checked (August 2025).
-- Providers change prices: check them and add a dated entry in the app rather than editing these.
-- Providers that charge no premium for cache writes carry their input price there; reasoning
-- tokens are billed at the output price.
INSERT INTO prices (provider, model, input_micros_per_mtok, output_micros_per_mtok,
    cache_read_micros_per_mtok, cache_write_micros_per_mtok, reasoning_micros_per_mtok,
    effective_from, effective_to, source, checked_on, created_at)
VALUES
    ('openai', 'gpt-4o', 2500000, 10000000, 1250000, 2500000, 10000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('openai', 'gpt-4o-mini', 150000, 600000, 75000, 150000, 600000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('openai', 'gpt-4.1', 2000000, 8000000, 500000, 2000000, 8000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('openai', 'gpt-4.1-mini', 400000, 1600000, 100000, 400000, 1600000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('openai', 'gpt-4.1-nano', 100000, 400000, 25000, 100000, 400000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('openai', 'gpt-5', 1250000, 10000000, 125000, 1250000, 10000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('openai', 'gpt-5-mini', 250000, 2000000, 25000, 250000, 2000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('openai', 'o4-mini', 1100000, 4400000, 275000, 1100000, 4400000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('anthropic', 'claude-opus-4-1', 15000000, 75000000, 1500000, 18750000, 75000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('anthropic', 'claude-sonnet-4-5', 3000000, 15000000, 300000, 3750000, 15000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('anthropic', 'claude-sonnet-4', 3000000, 15000000, 300000, 3750000, 15000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('anthropic', 'claude-haiku-4-5', 1000000, 5000000, 100000, 1250000, 5000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('anthropic', 'claude-3-5-haiku', 800000, 4000000, 80000, 1000000, 4000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('gcp.gemini', 'gemini-2.5-pro', 1250000, 10000000, 310000, 1250000, 10000000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('gcp.gemini', 'gemini-2.5-flash', 300000, 2500000, 75000, 300000, 2500000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('gcp.gemini', 'gemini-2.0-flash', 100000, 400000, 25000, 100000, 400000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000),
    ('deepseek', 'deepseek-chat', 270000, 1100000, 70000, 270000, 1100000, 1735689600000, NULL, 'provider list price', '2025-08', 1735689600000);
