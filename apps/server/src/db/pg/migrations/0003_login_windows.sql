CREATE TABLE "login_windows" (
	"key" text PRIMARY KEY NOT NULL,
	"failures" integer NOT NULL,
	"started_at" bigint NOT NULL
);
