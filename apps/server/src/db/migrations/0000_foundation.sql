CREATE TABLE `contacts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`phone` text NOT NULL,
	`name` text,
	`opted_out_at` integer,
	`opt_out_source` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_phone_unique` ON `contacts` (`phone`);--> statement-breakpoint
CREATE TABLE `conversations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` integer NOT NULL,
	`our_number` text NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`assigned_agent_id` integer,
	`last_message_at` integer,
	`last_message_preview` text,
	`last_message_direction` text,
	`unread_count` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `conversations_contact_number_uq` ON `conversations` (`contact_id`,`our_number`);--> statement-breakpoint
CREATE INDEX `conversations_last_message_idx` ON `conversations` (`last_message_at`,`id`);--> statement-breakpoint
CREATE INDEX `conversations_status_last_idx` ON `conversations` (`status`,`last_message_at`,`id`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `message_status_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` integer,
	`provider_message_uuid` text NOT NULL,
	`client_ref` text,
	`status` text NOT NULL,
	`provider_timestamp` integer NOT NULL,
	`received_at` integer NOT NULL,
	`applied` integer DEFAULT false NOT NULL,
	`raw` text NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `status_history_dedupe_uq` ON `message_status_history` (`provider_message_uuid`,`status`,`provider_timestamp`);--> statement-breakpoint
CREATE INDEX `status_history_message_idx` ON `message_status_history` (`message_id`);--> statement-breakpoint
CREATE INDEX `status_history_orphan_ref_idx` ON `message_status_history` (`client_ref`) WHERE message_id is null;--> statement-breakpoint
CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`conversation_id` integer NOT NULL,
	`direction` text NOT NULL,
	`provider_message_uuid` text,
	`client_ref` text,
	`from` text NOT NULL,
	`to` text NOT NULL,
	`text` text NOT NULL,
	`encoding` text NOT NULL,
	`segments` integer NOT NULL,
	`status` text NOT NULL,
	`status_at` integer NOT NULL,
	`error_code` text,
	`error_title` text,
	`error_detail` text,
	`error_reason` text,
	`price` text,
	`currency` text,
	`agent_id` integer,
	`campaign_id` integer,
	`provider_timestamp` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_provider_message_uuid_unique` ON `messages` (`provider_message_uuid`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_client_ref_unique` ON `messages` (`client_ref`);--> statement-breakpoint
CREATE INDEX `messages_conversation_created_idx` ON `messages` (`conversation_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `webhook_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`path` text NOT NULL,
	`received_at` integer NOT NULL,
	`signature_ok` integer NOT NULL,
	`headers` text NOT NULL,
	`raw_body` text NOT NULL,
	`http_status` integer NOT NULL,
	`outcome` text NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `webhook_log_received_idx` ON `webhook_log` (`received_at`);