-- Price a usage table inside a SQL engine with the tables of `costplan prices --export sql`.
--
-- Input: usage_records(day DATE, model VARCHAR, input_tokens, output_tokens, cache_write_5m, cache_write_1h,
--        cache_read, web_search_requests BIGINT, batch BOOLEAN, inference_geo VARCHAR, speed VARCHAR)
--        one row per request (load_jsonl.duckdb.sql builds it from a JSON Lines log in DuckDB).
-- Output: cost per model and day in exact DECIMAL, and the requests that could not be priced (unknown
--        model, no price on that day, batch where there was none, fast + batch, a cache price missing).
--
-- Rules, the same as `costplan usage`:
--   period: the row with since <= day < until (until NULL = still in force);
--   tier:   chosen per request by its whole prompt (input + cache writes + cache reads), a cliff:
--           tier_above < prompt <= tier_upto, and every token of the request takes that row's prices;
--   fast:   speed = 'fast' takes the fast row where the period has one, else standard prices;
--   batch:  x batch_multiplier on every token class; geo: x the inference_geo multiplier (absent = 1);
--   fees:   web searches at web_search_per_1000 / 1000 each, not discounted.
-- Portable SQL: runs as is in DuckDB, PostgreSQL, Spark SQL, Snowflake; BigQuery needs NUMERIC/BIGNUMERIC.
WITH u AS (
  SELECT
    r.*,
    n.model_id,
    r.input_tokens + r.cache_write_5m + r.cache_write_1h + r.cache_read AS prompt_tokens
  FROM usage_records r
  LEFT JOIN costplan_model_names n ON n.name = r.model
),
rated AS (
  SELECT
    u.*,
    s.model_id IS NOT NULL AS has_price,
    CASE WHEN f.model_id IS NULL THEN s.input ELSE f.input END AS p_input,
    CASE WHEN f.model_id IS NULL THEN s.output ELSE f.output END AS p_output,
    CASE WHEN f.model_id IS NULL THEN s.cache_write_5m ELSE f.cache_write_5m END AS p_cache_write_5m,
    CASE WHEN f.model_id IS NULL THEN s.cache_write_1h ELSE f.cache_write_1h END AS p_cache_write_1h,
    CASE WHEN f.model_id IS NULL THEN s.cache_read ELSE f.cache_read END AS p_cache_read,
    s.batch_multiplier AS p_batch,
    COALESCE(g.multiplier, 1) AS p_geo,
    fee.web_search_per_1000 AS p_search
  FROM u
  LEFT JOIN costplan_prices s
    ON s.model_id = u.model_id AND s.speed = 'standard'
   AND u.day >= s.since AND (s.until IS NULL OR u.day < s.until)
   AND (s.tier_above IS NULL OR u.prompt_tokens > s.tier_above)
   AND (s.tier_upto IS NULL OR u.prompt_tokens <= s.tier_upto)
  LEFT JOIN costplan_prices f
    ON u.speed = 'fast' AND f.model_id = u.model_id AND f.speed = 'fast'
   AND u.day >= f.since AND (f.until IS NULL OR u.day < f.until)
   AND (f.tier_above IS NULL OR u.prompt_tokens > f.tier_above)
   AND (f.tier_upto IS NULL OR u.prompt_tokens <= f.tier_upto)
  LEFT JOIN costplan_geo_multipliers g
    ON g.model_id = u.model_id AND g.since = s.since AND g.inference_geo = u.inference_geo
  LEFT JOIN costplan_fees fee
    ON u.day >= fee.since AND (fee.until IS NULL OR u.day < fee.until)
),
costed AS (
  SELECT
    model_id,
    day,
    CASE
      WHEN NOT has_price THEN NULL
      WHEN batch AND (speed = 'fast' OR p_batch IS NULL) THEN NULL
      -- a NULL price times tokens stays NULL, so a missing cache price leaves the request unpriced
      ELSE (
          CASE WHEN input_tokens = 0 THEN 0 ELSE input_tokens * p_input END
        + CASE WHEN output_tokens = 0 THEN 0 ELSE output_tokens * p_output END
        + CASE WHEN cache_write_5m = 0 THEN 0 ELSE cache_write_5m * p_cache_write_5m END
        + CASE WHEN cache_write_1h = 0 THEN 0 ELSE cache_write_1h * p_cache_write_1h END
        + CASE WHEN cache_read = 0 THEN 0 ELSE cache_read * p_cache_read END
      ) * CASE WHEN batch THEN p_batch ELSE 1 END * p_geo * 0.000001
      + CASE WHEN web_search_requests = 0 THEN 0 ELSE web_search_requests * p_search * 0.001 END
    END AS cost_usd
  FROM rated
)
SELECT
  model_id,
  day,
  COUNT(*) AS requests,
  SUM(cost_usd) AS cost_usd,
  SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced_requests
FROM costed
GROUP BY model_id, day
ORDER BY model_id, day;
