-- Hand-written: PostgreSQL's counterparts of the SQL that SQLite's migrations add below their generated part.
--
-- Search (SQLite: the messages_fts trigram FTS5 table of 0005 and its triggers). A pg_trgm GIN index on
-- messages.text serves `text ILIKE '%…%'`, the same case-insensitive substring match as an FTS5 trigram
-- phrase, from the index; rows are rechecked against the pattern, so results are exact. It follows
-- inserts, updates and deletes by itself (no triggers). pg_trgm is a trusted extension: the database
-- owner may create it. Case folding follows the database's LC_CTYPE: create the database with a UTF-8
-- locale (C.UTF-8 or en_US.UTF-8), or non-ASCII letters compare case-sensitively.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE INDEX "messages_text_trgm_idx" ON "messages" USING gin ("text" gin_trgm_ops);
--> statement-breakpoint
-- Stats rollups (SQLite: the triggers of 0012). Same rows, same arithmetic: hours and days are
-- created_at divided by 3 600 000 / 86 400 000 (bigint division truncates, like SQLite's integer
-- division); the delivery bucket is round(100 · log10(max(1, status_at − created_at))) where SQLite's
-- round() is trunc(x + 0.5) in double precision (float8 round() here would round half to even).
-- Deletes subtract nothing. The 0012 backfill has no counterpart: a PostgreSQL database starts empty.
CREATE FUNCTION "stats_delivery_bucket"(created_at bigint, status_at bigint) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT floor(100 * log(greatest(1, status_at - created_at)::double precision) + 0.5)::integer $$;
--> statement-breakpoint
CREATE FUNCTION "stats_messages_ai"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stats_hourly (hour, direction, status, n) VALUES (NEW.created_at / 3600000, NEW.direction, NEW.status, 1)
    ON CONFLICT (hour, direction, status) DO UPDATE SET n = stats_hourly.n + 1;
  IF NEW.direction = 'out' AND NEW.status IN ('delivered', 'read') THEN
    INSERT INTO stats_delivery_daily (day, bucket, n) VALUES (NEW.created_at / 86400000, stats_delivery_bucket(NEW.created_at, NEW.status_at), 1)
      ON CONFLICT (day, bucket) DO UPDATE SET n = stats_delivery_daily.n + 1;
    INSERT INTO stats_delivery_hourly (hour, bucket, n) VALUES (NEW.created_at / 3600000, stats_delivery_bucket(NEW.created_at, NEW.status_at), 1)
      ON CONFLICT (hour, bucket) DO UPDATE SET n = stats_delivery_hourly.n + 1;
  END IF;
  IF NEW.direction = 'out' AND NEW.status IN ('rejected', 'undeliverable', 'failed') THEN
    INSERT INTO stats_failures_hourly (hour, code, reason, n)
      VALUES (NEW.created_at / 3600000, coalesce(NEW.error_code, ''), coalesce(NEW.error_reason, NEW.error_title, NEW.error_code, 'Unknown reason'), 1)
      ON CONFLICT (hour, code, reason) DO UPDATE SET n = stats_failures_hourly.n + 1;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "stats_messages_ai" AFTER INSERT ON "messages" FOR EACH ROW EXECUTE FUNCTION "stats_messages_ai"();
--> statement-breakpoint
CREATE FUNCTION "stats_messages_au_status"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE stats_hourly SET n = n - 1 WHERE hour = OLD.created_at / 3600000 AND direction = OLD.direction AND status = OLD.status;
  INSERT INTO stats_hourly (hour, direction, status, n) VALUES (NEW.created_at / 3600000, NEW.direction, NEW.status, 1)
    ON CONFLICT (hour, direction, status) DO UPDATE SET n = stats_hourly.n + 1;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "stats_messages_au_status" AFTER UPDATE OF "status" ON "messages" FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION "stats_messages_au_status"();
--> statement-breakpoint
CREATE FUNCTION "stats_messages_au_delivery"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.direction = 'out' AND OLD.status IN ('delivered', 'read') THEN
    UPDATE stats_delivery_daily SET n = n - 1 WHERE day = OLD.created_at / 86400000 AND bucket = stats_delivery_bucket(OLD.created_at, OLD.status_at);
    UPDATE stats_delivery_hourly SET n = n - 1 WHERE hour = OLD.created_at / 3600000 AND bucket = stats_delivery_bucket(OLD.created_at, OLD.status_at);
  END IF;
  IF NEW.direction = 'out' AND NEW.status IN ('delivered', 'read') THEN
    INSERT INTO stats_delivery_daily (day, bucket, n) VALUES (NEW.created_at / 86400000, stats_delivery_bucket(NEW.created_at, NEW.status_at), 1)
      ON CONFLICT (day, bucket) DO UPDATE SET n = stats_delivery_daily.n + 1;
    INSERT INTO stats_delivery_hourly (hour, bucket, n) VALUES (NEW.created_at / 3600000, stats_delivery_bucket(NEW.created_at, NEW.status_at), 1)
      ON CONFLICT (hour, bucket) DO UPDATE SET n = stats_delivery_hourly.n + 1;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "stats_messages_au_delivery" AFTER UPDATE OF "status", "status_at" ON "messages" FOR EACH ROW
  WHEN ((OLD.status IS DISTINCT FROM NEW.status OR OLD.status_at IS DISTINCT FROM NEW.status_at)
    AND (OLD.status IN ('delivered', 'read') OR NEW.status IN ('delivered', 'read')))
  EXECUTE FUNCTION "stats_messages_au_delivery"();
--> statement-breakpoint
CREATE FUNCTION "stats_messages_au_failures"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.direction = 'out' AND OLD.status IN ('rejected', 'undeliverable', 'failed') THEN
    UPDATE stats_failures_hourly SET n = n - 1
      WHERE hour = OLD.created_at / 3600000 AND code = coalesce(OLD.error_code, '')
        AND reason = coalesce(OLD.error_reason, OLD.error_title, OLD.error_code, 'Unknown reason');
  END IF;
  IF NEW.direction = 'out' AND NEW.status IN ('rejected', 'undeliverable', 'failed') THEN
    INSERT INTO stats_failures_hourly (hour, code, reason, n)
      VALUES (NEW.created_at / 3600000, coalesce(NEW.error_code, ''), coalesce(NEW.error_reason, NEW.error_title, NEW.error_code, 'Unknown reason'), 1)
      ON CONFLICT (hour, code, reason) DO UPDATE SET n = stats_failures_hourly.n + 1;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "stats_messages_au_failures" AFTER UPDATE OF "status", "error_code", "error_reason", "error_title" ON "messages" FOR EACH ROW
  WHEN ((OLD.status IS DISTINCT FROM NEW.status OR OLD.error_code IS DISTINCT FROM NEW.error_code
      OR OLD.error_reason IS DISTINCT FROM NEW.error_reason OR OLD.error_title IS DISTINCT FROM NEW.error_title)
    AND (OLD.status IN ('rejected', 'undeliverable', 'failed') OR NEW.status IN ('rejected', 'undeliverable', 'failed')))
  EXECUTE FUNCTION "stats_messages_au_failures"();
