-- Flatten a JSON Lines usage log into the `usage_records` view that price_usage.sql prices (Spark SQL).
-- The Spark twin of load_jsonl.duckdb.sql, with the same rules: Messages responses / usage records
-- ({"model", "usage", "timestamp"}) and Message Batches result lines ({"custom_id", "result": {"type":
-- "succeeded", "message": {...}}}, billed at the batch price); errored, canceled and expired results carry no
-- usage and are left out. Replace 'usage.jsonl' with your file, folder or glob; run with the session time
-- zone set to UTC (spark.sql.session.timeZone=UTC) so a request's day is its UTC calendar day.
CREATE OR REPLACE TEMPORARY VIEW usage_log_lines USING text OPTIONS (path 'usage.jsonl');

CREATE OR REPLACE TEMPORARY VIEW usage_records AS
WITH raw AS (
  SELECT
    COALESCE(get_json_object(value, '$.model'), get_json_object(value, '$.result.message.model')) AS model,
    COALESCE(get_json_object(value, '$.usage'), get_json_object(value, '$.result.message.usage')) AS u,
    get_json_object(value, '$.result') IS NOT NULL AS from_batch_file,
    get_json_object(value, '$.timestamp') AS ts
  FROM usage_log_lines
  WHERE trim(value) <> ''
),
counts AS (
  SELECT
    model,
    to_date(CAST(ts AS TIMESTAMP)) AS day,
    COALESCE(CAST(get_json_object(u, '$.input_tokens') AS BIGINT), 0) AS input_tokens,
    COALESCE(CAST(get_json_object(u, '$.output_tokens') AS BIGINT), 0) AS output_tokens,
    COALESCE(CAST(get_json_object(u, '$.cache_creation_input_tokens') AS BIGINT), 0) AS written,
    get_json_object(u, '$.cache_creation') AS split,
    COALESCE(CAST(get_json_object(u, '$.cache_creation.ephemeral_5m_input_tokens') AS BIGINT), 0) AS e5,
    COALESCE(CAST(get_json_object(u, '$.cache_creation.ephemeral_1h_input_tokens') AS BIGINT), 0) AS e1,
    COALESCE(CAST(get_json_object(u, '$.cache_read_input_tokens') AS BIGINT), 0) AS cache_read,
    COALESCE(CAST(get_json_object(u, '$.server_tool_use.web_search_requests') AS BIGINT), 0) AS web_search_requests,
    from_batch_file OR get_json_object(u, '$.service_tier') = 'batch' AS batch,
    NULLIF(get_json_object(u, '$.inference_geo'), 'global') AS inference_geo,
    COALESCE(get_json_object(u, '$.speed'), 'standard') AS speed
  FROM raw
  WHERE u IS NOT NULL
)
SELECT
  day, model, input_tokens, output_tokens,
  -- the 5m/1h split: writes that cache_creation does not account for are 5-minute writes (the API's default)
  CASE WHEN split IS NULL THEN written ELSE e5 + GREATEST(written - e5 - e1, 0) END AS cache_write_5m,
  CASE WHEN split IS NULL THEN 0 ELSE e1 END AS cache_write_1h,
  cache_read, web_search_requests, batch, inference_geo, speed
FROM counts;
