DROP INDEX `outbox_due_idx`;--> statement-breakpoint
ALTER TABLE `outbox` ADD `provider` text DEFAULT 'vonage' NOT NULL;--> statement-breakpoint
CREATE INDEX `outbox_due_idx` ON `outbox` (`provider`,`state`,`priority`,`next_attempt_at`);--> statement-breakpoint
ALTER TABLE `conversations` ADD `provider` text DEFAULT 'vonage' NOT NULL;--> statement-breakpoint
CREATE INDEX `conversations_number_last_idx` ON `conversations` (`our_number`,`last_message_at`,`id`);