CREATE TABLE `media` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` integer,
	`direction` text NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`provider` text,
	`source_url` text,
	`claimed_type` text,
	`content_type` text,
	`size` integer DEFAULT 0 NOT NULL,
	`name` text,
	`sha256` text,
	`storage_key` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`agent_id` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `media_message_idx` ON `media` (`message_id`);--> statement-breakpoint
CREATE INDEX `media_pending_idx` ON `media` (`next_attempt_at`) WHERE state = 'pending';