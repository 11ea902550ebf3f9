ALTER TABLE `webhook_log` ADD `signature_headers` text;--> statement-breakpoint
ALTER TABLE `webhook_log` ADD `replayed_at` integer;--> statement-breakpoint
ALTER TABLE `webhook_log` ADD `replay_outcome` text;--> statement-breakpoint
ALTER TABLE `webhook_log` ADD `replay_status` integer;--> statement-breakpoint
ALTER TABLE `webhook_log` ADD `replay_error` text;--> statement-breakpoint
ALTER TABLE `webhook_log` ADD `dismissed_at` integer;