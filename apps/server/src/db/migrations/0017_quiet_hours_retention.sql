CREATE TABLE `job_runs` (
	`name` text PRIMARY KEY NOT NULL,
	`last_run_at` integer NOT NULL,
	`result` text
);
--> statement-breakpoint
ALTER TABLE `campaign_recipients` ADD `held_until` integer;--> statement-breakpoint
CREATE INDEX `campaign_recipients_held_idx` ON `campaign_recipients` (`campaign_id`,`held_until`) WHERE state = 'held';--> statement-breakpoint
ALTER TABLE `campaigns` ADD `quiet_hours` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `held_until` integer;