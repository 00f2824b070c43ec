-- Flatten a JSON Lines usage log into the `usage_records` table that price_usage.sql prices (DuckDB).
-- Reads Messages responses / usage records ({"model", "usage", "timestamp"}) and Message Batches result
-- lines ({"custom_id", "result": {"type": "succeeded", "message": {...}}}, billed at the batch price).
-- Replace 'usage.jsonl' with your file or a glob ('logs/*.jsonl.gz' works too).
CREATE TABLE usage_records AS
WITH raw AS (
  SELECT
    COALESCE(model, json_extract_string(result, '$.message.model')) AS model,
    COALESCE(usage, json_extract(result, '$.message.usage')) AS u,
    result IS NOT NULL AS from_batch_file,
    timestamp
  FROM read_json(
    'usage.jsonl',
    format = 'newline_delimited',
    columns = {model: 'VARCHAR', usage: 'JSON', result: 'JSON', timestamp: 'VARCHAR'}
  )
),
counts AS (
  SELECT
    model,
    -- the UTC calendar day decides the price period
    CAST(timezone('UTC', CAST(timestamp AS TIMESTAMPTZ)) AS DATE) AS day,
    COALESCE(CAST(json_extract_string(u, '$.input_tokens') AS BIGINT), 0) AS input_tokens,
    COALESCE(CAST(json_extract_string(u, '$.output_tokens') AS BIGINT), 0) AS output_tokens,
    COALESCE(CAST(json_extract_string(u, '$.cache_creation_input_tokens') AS BIGINT), 0) AS written,
    json_extract(u, '$.cache_creation') AS split,
    COALESCE(CAST(json_extract_string(u, '$.cache_creation.ephemeral_5m_input_tokens') AS BIGINT), 0) AS e5,
    COALESCE(CAST(json_extract_string(u, '$.cache_creation.ephemeral_1h_input_tokens') AS BIGINT), 0) AS e1,
    COALESCE(CAST(json_extract_string(u, '$.cache_read_input_tokens') AS BIGINT), 0) AS cache_read,
    COALESCE(CAST(json_extract_string(u, '$.server_tool_use.web_search_requests') AS BIGINT), 0)
      AS web_search_requests,
    from_batch_file OR json_extract_string(u, '$.service_tier') = 'batch' AS batch,
    NULLIF(json_extract_string(u, '$.inference_geo'), 'global') AS inference_geo,
    COALESCE(json_extract_string(u, '$.speed'), 'standard') AS speed
  FROM raw
  WHERE u IS NOT NULL  -- errored / canceled / expired batch results are not billed
)
SELECT
  day, model, input_tokens, output_tokens,
  -- the 5m/1h split: cache_creation splits the writes by TTL; writes it does not account for are
  -- 5-minute writes (the API's default TTL); without a split every write is a 5-minute write
  CASE WHEN split IS NULL OR json_type(split) = 'NULL' THEN written
       ELSE e5 + GREATEST(written - e5 - e1, 0) END AS cache_write_5m,
  CASE WHEN split IS NULL OR json_type(split) = 'NULL' THEN 0 ELSE e1 END AS cache_write_1h,
  cache_read, web_search_requests, batch, inference_geo, speed
FROM counts;
