-- API tokens gain scopes (existing tokens: read,send — no longer admin) and an optional expiry.
ALTER TABLE `api_tokens` ADD `scopes` text DEFAULT 'read,send' NOT NULL;--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `expires_at` integer;