CREATE TABLE `webhook_nonces` (
	`provider` text NOT NULL,
	`nonce` text NOT NULL,
	`seen_at` integer NOT NULL,
	PRIMARY KEY(`provider`, `nonce`)
);
--> statement-breakpoint
CREATE INDEX `webhook_nonces_seen_idx` ON `webhook_nonces` (`seen_at`);