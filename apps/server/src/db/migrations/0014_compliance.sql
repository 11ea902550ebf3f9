CREATE TABLE `app_secrets` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `consent_ledger` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` integer NOT NULL,
	`at` integer NOT NULL,
	`state` text NOT NULL,
	`source` text NOT NULL,
	`message_id` integer,
	`agent_id` integer
);
--> statement-breakpoint
CREATE INDEX `consent_ledger_contact_idx` ON `consent_ledger` (`contact_id`,`id`);--> statement-breakpoint
CREATE TABLE `erased_message_refs` (
	`hash` text PRIMARY KEY NOT NULL,
	`erased_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `erased_message_refs_at_idx` ON `erased_message_refs` (`erased_at`);--> statement-breakpoint
CREATE TABLE `suppression_list` (
	`hash` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`opted_out_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `conversations` ADD `possible_opt_out_at` integer;--> statement-breakpoint
ALTER TABLE `conversations` ADD `possible_opt_out_message_id` integer;--> statement-breakpoint
CREATE INDEX `conversations_possible_opt_out_idx` ON `conversations` (`last_message_at`,`id`) WHERE possible_opt_out_at is not null;--> statement-breakpoint
-- The consent ledger starts with today's opt-outs (one row each, at the time and with the source the contact row kept).
INSERT INTO `consent_ledger` (`contact_id`, `at`, `state`, `source`)
  SELECT `id`, `opted_out_at`, 'opted_out', CASE WHEN `opt_out_source` IN ('keyword', 'agent', 'import', 'api', 'erasure') THEN `opt_out_source` ELSE 'agent' END
  FROM `contacts` WHERE `opted_out_at` IS NOT NULL ORDER BY `opted_out_at`, `id`;
--> statement-breakpoint
-- Deletes remove a message's trigrams from the search index itself (not a tombstone beside them), so an erased text leaves nothing there.
INSERT INTO `messages_fts`(`messages_fts`, `rank`) VALUES ('secure-delete', 1);
