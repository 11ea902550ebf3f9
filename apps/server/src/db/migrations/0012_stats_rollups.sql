-- Stats rollups: stats.summary reads tens of rows per day instead of every message of the range.
-- Triggers keep them inside each write's own transaction; deletes subtract nothing (counts outlive
-- erased or expired messages). Hand-written below the generated tables.
CREATE TABLE `stats_delivery_daily` (
	`day` integer NOT NULL,
	`bucket` integer NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`day`, `bucket`)
);
--> statement-breakpoint
CREATE TABLE `stats_delivery_hourly` (
	`hour` integer NOT NULL,
	`bucket` integer NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`hour`, `bucket`)
);
--> statement-breakpoint
CREATE TABLE `stats_failures_hourly` (
	`hour` integer NOT NULL,
	`code` text NOT NULL,
	`reason` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`hour`, `code`, `reason`)
);
--> statement-breakpoint
CREATE TABLE `stats_hourly` (
	`hour` integer NOT NULL,
	`direction` text NOT NULL,
	`status` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`hour`, `direction`, `status`)
);

--> statement-breakpoint
CREATE TRIGGER `stats_messages_ai` AFTER INSERT ON `messages` BEGIN
  INSERT INTO `stats_hourly` (`hour`, `direction`, `status`, `n`) VALUES (NEW.created_at / 3600000, NEW.direction, NEW.status, 1)
    ON CONFLICT (`hour`, `direction`, `status`) DO UPDATE SET `n` = `n` + 1;
  INSERT INTO `stats_delivery_daily` (`day`, `bucket`, `n`) SELECT NEW.created_at / 86400000, CAST(round(100 * log(max(1, NEW.status_at - NEW.created_at))) AS integer), 1 WHERE NEW.direction = 'out' AND NEW.status IN ('delivered', 'read')
    ON CONFLICT (`day`, `bucket`) DO UPDATE SET `n` = `n` + 1;
  INSERT INTO `stats_delivery_hourly` (`hour`, `bucket`, `n`) SELECT NEW.created_at / 3600000, CAST(round(100 * log(max(1, NEW.status_at - NEW.created_at))) AS integer), 1 WHERE NEW.direction = 'out' AND NEW.status IN ('delivered', 'read')
    ON CONFLICT (`hour`, `bucket`) DO UPDATE SET `n` = `n` + 1;
  INSERT INTO `stats_failures_hourly` (`hour`, `code`, `reason`, `n`) SELECT NEW.created_at / 3600000, coalesce(NEW.error_code, ''), coalesce(NEW.error_reason, NEW.error_title, NEW.error_code, 'Unknown reason'), 1 WHERE NEW.direction = 'out' AND NEW.status IN ('rejected', 'undeliverable', 'failed')
    ON CONFLICT (`hour`, `code`, `reason`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `stats_messages_au_status` AFTER UPDATE OF `status` ON `messages` WHEN OLD.status IS NOT NEW.status BEGIN
  UPDATE `stats_hourly` SET `n` = `n` - 1 WHERE `hour` = OLD.created_at / 3600000 AND `direction` = OLD.direction AND `status` = OLD.status;
  INSERT INTO `stats_hourly` (`hour`, `direction`, `status`, `n`) VALUES (NEW.created_at / 3600000, NEW.direction, NEW.status, 1)
    ON CONFLICT (`hour`, `direction`, `status`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `stats_messages_au_delivery` AFTER UPDATE OF `status`, `status_at` ON `messages`
  WHEN (OLD.status IS NOT NEW.status OR OLD.status_at IS NOT NEW.status_at) AND (OLD.status IN ('delivered', 'read') OR NEW.status IN ('delivered', 'read')) BEGIN
  UPDATE `stats_delivery_daily` SET `n` = `n` - 1 WHERE OLD.direction = 'out' AND OLD.status IN ('delivered', 'read') AND `day` = OLD.created_at / 86400000 AND `bucket` = CAST(round(100 * log(max(1, OLD.status_at - OLD.created_at))) AS integer);
  UPDATE `stats_delivery_hourly` SET `n` = `n` - 1 WHERE OLD.direction = 'out' AND OLD.status IN ('delivered', 'read') AND `hour` = OLD.created_at / 3600000 AND `bucket` = CAST(round(100 * log(max(1, OLD.status_at - OLD.created_at))) AS integer);
  INSERT INTO `stats_delivery_daily` (`day`, `bucket`, `n`) SELECT NEW.created_at / 86400000, CAST(round(100 * log(max(1, NEW.status_at - NEW.created_at))) AS integer), 1 WHERE NEW.direction = 'out' AND NEW.status IN ('delivered', 'read')
    ON CONFLICT (`day`, `bucket`) DO UPDATE SET `n` = `n` + 1;
  INSERT INTO `stats_delivery_hourly` (`hour`, `bucket`, `n`) SELECT NEW.created_at / 3600000, CAST(round(100 * log(max(1, NEW.status_at - NEW.created_at))) AS integer), 1 WHERE NEW.direction = 'out' AND NEW.status IN ('delivered', 'read')
    ON CONFLICT (`hour`, `bucket`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `stats_messages_au_failures` AFTER UPDATE OF `status`, `error_code`, `error_reason`, `error_title` ON `messages`
  WHEN (OLD.status IS NOT NEW.status OR OLD.error_code IS NOT NEW.error_code OR OLD.error_reason IS NOT NEW.error_reason OR OLD.error_title IS NOT NEW.error_title)
    AND (OLD.status IN ('rejected', 'undeliverable', 'failed') OR NEW.status IN ('rejected', 'undeliverable', 'failed')) BEGIN
  UPDATE `stats_failures_hourly` SET `n` = `n` - 1 WHERE OLD.direction = 'out' AND OLD.status IN ('rejected', 'undeliverable', 'failed') AND `hour` = OLD.created_at / 3600000 AND `code` = coalesce(OLD.error_code, '') AND `reason` = coalesce(OLD.error_reason, OLD.error_title, OLD.error_code, 'Unknown reason');
  INSERT INTO `stats_failures_hourly` (`hour`, `code`, `reason`, `n`) SELECT NEW.created_at / 3600000, coalesce(NEW.error_code, ''), coalesce(NEW.error_reason, NEW.error_title, NEW.error_code, 'Unknown reason'), 1 WHERE NEW.direction = 'out' AND NEW.status IN ('rejected', 'undeliverable', 'failed')
    ON CONFLICT (`hour`, `code`, `reason`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
INSERT INTO `stats_hourly` (`hour`, `direction`, `status`, `n`) SELECT created_at / 3600000, direction, status, count(*) FROM messages GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO `stats_delivery_daily` (`day`, `bucket`, `n`) SELECT created_at / 86400000, CAST(round(100 * log(max(1, status_at - created_at))) AS integer), count(*) FROM messages WHERE direction = 'out' AND status IN ('delivered', 'read') GROUP BY 1, 2;
--> statement-breakpoint
INSERT INTO `stats_delivery_hourly` (`hour`, `bucket`, `n`) SELECT created_at / 3600000, CAST(round(100 * log(max(1, status_at - created_at))) AS integer), count(*) FROM messages WHERE direction = 'out' AND status IN ('delivered', 'read') GROUP BY 1, 2;
--> statement-breakpoint
INSERT INTO `stats_failures_hourly` (`hour`, `code`, `reason`, `n`) SELECT created_at / 3600000, coalesce(error_code, ''), coalesce(error_reason, error_title, error_code, 'Unknown reason'), count(*) FROM messages WHERE direction = 'out' AND status IN ('rejected', 'undeliverable', 'failed') GROUP BY 1, 2, 3;
