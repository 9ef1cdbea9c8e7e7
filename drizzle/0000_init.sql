CREATE TABLE `album_candidates` (
	`album_key` text NOT NULL,
	`provider_album_id` text NOT NULL,
	`title` text NOT NULL,
	`artists` text NOT NULL,
	`score` integer NOT NULL,
	`reason` text NOT NULL,
	`seen_at` integer NOT NULL,
	PRIMARY KEY(`album_key`, `provider_album_id`),
	FOREIGN KEY (`album_key`) REFERENCES `albums`(`album_key`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `albums` (
	`album_key` text PRIMARY KEY NOT NULL,
	`artist` text NOT NULL,
	`album` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`provider_album_id` text,
	`match_reason` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`next_attempt_at` integer,
	`looked_up_at` integer,
	FOREIGN KEY (`provider_album_id`) REFERENCES `provider_albums`(`provider_album_id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `albums_status_idx` ON `albums` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `file_metadata` (
	`file_id` integer PRIMARY KEY NOT NULL,
	`title` text,
	`artist` text,
	`album` text,
	`albumartist` text,
	`track` integer,
	`track_total` integer,
	`disc` integer,
	`disc_total` integer,
	`year` integer,
	`date` text,
	`genre` text,
	`genres_json` text,
	`compilation` integer DEFAULT false NOT NULL,
	`mb_track_id` text,
	`mb_album_id` text,
	`mb_releasegroup_id` text,
	`mb_artist_id` text,
	`mb_albumartist_id` text,
	`album_key` text,
	`enrichment_source` text DEFAULT 'embedded' NOT NULL,
	`enriched_at` integer,
	`enrichment_attempts` integer DEFAULT 0 NOT NULL,
	`last_enrichment_error` text,
	`next_attempt_at` integer,
	`label` text,
	`album_type` text,
	`cover_url` text,
	`release_date` text,
	`total_tracks` integer,
	`total_discs` integer,
	`provider_album_id` text,
	`overrides_json` text,
	`metadata_version` integer DEFAULT 1 NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`file_id`) REFERENCES `files`(`file_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `file_metadata_album_key_idx` ON `file_metadata` (`album_key`);--> statement-breakpoint
CREATE INDEX `file_metadata_due_idx` ON `file_metadata` (`enrichment_source`,`enriched_at`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `file_metadata_artist_idx` ON `file_metadata` (`albumartist`,`artist`);--> statement-breakpoint
CREATE INDEX `file_metadata_genre_idx` ON `file_metadata` (`genre`);--> statement-breakpoint
CREATE INDEX `file_metadata_label_idx` ON `file_metadata` (`label`);--> statement-breakpoint
CREATE INDEX `file_metadata_year_idx` ON `file_metadata` (`year`);--> statement-breakpoint
CREATE INDEX `file_metadata_updated_idx` ON `file_metadata` (`updated_at`);--> statement-breakpoint
CREATE TABLE `files` (
	`file_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`path` blob NOT NULL,
	`path_text` text NOT NULL,
	`root` text NOT NULL,
	`dev` integer NOT NULL,
	`ino` integer NOT NULL,
	`size` integer NOT NULL,
	`mtime_us` integer NOT NULL,
	`format` text,
	`codec` text,
	`duration` real,
	`bitrate` integer,
	`sample_rate` integer,
	`channels` integer,
	`bits_per_sample` integer,
	`lossless` integer,
	`has_picture` integer DEFAULT false NOT NULL,
	`seen_scan_id` integer NOT NULL,
	`parsed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `files_path_uq` ON `files` (`path`);--> statement-breakpoint
CREATE INDEX `files_inode_idx` ON `files` (`dev`,`ino`);--> statement-breakpoint
CREATE INDEX `files_root_seen_idx` ON `files` (`root`,`seen_scan_id`);--> statement-breakpoint
CREATE TABLE `provider_albums` (
	`provider_album_id` text PRIMARY KEY NOT NULL,
	`title` text NOT NULL,
	`artists_json` text NOT NULL,
	`genres_json` text NOT NULL,
	`label` text,
	`release_date` text,
	`album_type` text,
	`cover_url` text,
	`total_tracks` integer,
	`total_discs` integer,
	`fetched_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `scan_errors` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`path` blob NOT NULL,
	`path_text` text NOT NULL,
	`root` text NOT NULL,
	`severity` text DEFAULT 'error' NOT NULL,
	`code` text NOT NULL,
	`message` text NOT NULL,
	`scan_id` integer NOT NULL,
	`seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `scan_errors_path_code_uq` ON `scan_errors` (`path`,`code`);--> statement-breakpoint
CREATE INDEX `scan_errors_code_idx` ON `scan_errors` (`code`);--> statement-breakpoint
CREATE TABLE `scans` (
	`scan_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`roots_json` text NOT NULL,
	`status` text DEFAULT 'running' NOT NULL,
	`added` integer DEFAULT 0 NOT NULL,
	`updated` integer DEFAULT 0 NOT NULL,
	`unchanged` integer DEFAULT 0 NOT NULL,
	`moved` integer DEFAULT 0 NOT NULL,
	`removed` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`pid` integer
);
