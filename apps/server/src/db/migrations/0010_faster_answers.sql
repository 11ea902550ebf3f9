CREATE TABLE `canned_replies` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`shortcut` text NOT NULL,
	`text` text NOT NULL,
	`created_by` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `canned_replies_shortcut_unique` ON `canned_replies` (`shortcut`);--> statement-breakpoint
ALTER TABLE `conversations` ADD `snooze_until` integer;--> statement-breakpoint
CREATE INDEX `conversations_snooze_idx` ON `conversations` (`snooze_until`) WHERE status = 'snoozed';--> statement-breakpoint
ALTER TABLE `messages` ADD `send_at` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `retry_of` integer;--> statement-breakpoint
CREATE INDEX `messages_scheduled_idx` ON `messages` (`send_at`) WHERE status = 'scheduled';--> statement-breakpoint
CREATE UNIQUE INDEX `messages_retry_of_uq` ON `messages` (`retry_of`) WHERE retry_of is not null;