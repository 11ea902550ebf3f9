CREATE TABLE `campaign_recipients` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` integer NOT NULL,
	`line` integer NOT NULL,
	`input` text NOT NULL,
	`phone` text,
	`name` text,
	`state` text NOT NULL,
	`reason` text,
	`message_id` integer,
	`contact_id` integer,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `campaign_recipients_state_idx` ON `campaign_recipients` (`campaign_id`,`state`,`id`);--> statement-breakpoint
CREATE TABLE `campaigns` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`text` text NOT NULL,
	`status` text NOT NULL,
	`our_number` text NOT NULL,
	`provider` text NOT NULL,
	`encoding` text NOT NULL,
	`segments` integer NOT NULL,
	`total_count` integer NOT NULL,
	`invalid_count` integer NOT NULL,
	`duplicate_count` integer NOT NULL,
	`skipped_count` integer NOT NULL,
	`created_by_agent_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `messages_stats_idx` ON `messages` (`direction`,`status`,`created_at`,`status_at`);--> statement-breakpoint
CREATE INDEX `messages_campaign_status_idx` ON `messages` (`campaign_id`,`status`,`error_code`) WHERE campaign_id is not null;