CREATE TABLE `health_probe` (
	`id` integer PRIMARY KEY NOT NULL,
	`checked_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `webhook_log` ADD `body_sha256` text;--> statement-breakpoint
ALTER TABLE `webhook_log` ADD `body_bytes` integer;