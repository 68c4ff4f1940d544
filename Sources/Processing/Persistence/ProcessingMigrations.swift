import MediaVaultCore

/// Schema `processing`: jobs (the source of truth) and the outbox the relay publishes to NSQ.
public enum ProcessingMigrations {
    public static let all: [Migration] = [
        Migration(
            module: "processing", version: 1, name: "jobs_and_outbox",
            statements: [
                "CREATE SCHEMA IF NOT EXISTS processing",
                """
                CREATE TABLE processing.jobs (
                    id uuid PRIMARY KEY,
                    media_id uuid NOT NULL REFERENCES media.items (id) ON DELETE CASCADE,
                    owner_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    object_key text NOT NULL,
                    mime_type text NOT NULL,
                    status text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
                    attempts integer NOT NULL DEFAULT 0,
                    max_attempts integer NOT NULL DEFAULT 5,
                    progress real NOT NULL DEFAULT 0,
                    error_message text,
                    worker_id text,
                    heartbeat_at timestamptz,
                    available_at timestamptz NOT NULL DEFAULT now(),
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    started_at timestamptz,
                    finished_at timestamptz
                )
                """,
                // At most one live job per media: a duplicate schedule or reprocess cannot run two transcodes.
                """
                CREATE UNIQUE INDEX jobs_one_live_per_media_idx ON processing.jobs (media_id)
                    WHERE status IN ('queued', 'processing')
                """,
                "CREATE INDEX jobs_media_created_idx ON processing.jobs (media_id, created_at DESC)",
                "CREATE INDEX jobs_claimable_idx ON processing.jobs (available_at) WHERE status = 'queued'",
                "CREATE INDEX jobs_heartbeat_idx ON processing.jobs (heartbeat_at) WHERE status = 'processing'",
                """
                CREATE TABLE processing.outbox (
                    id bigserial PRIMARY KEY,
                    topic text NOT NULL,
                    payload jsonb NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    sent_at timestamptz,
                    attempts integer NOT NULL DEFAULT 0,
                    last_error text
                )
                """,
                "CREATE INDEX outbox_pending_idx ON processing.outbox (id) WHERE sent_at IS NULL",
            ]),
        // Jobs carry where their outputs go, chosen by the Media module when it schedules them. Jobs scheduled before
        // this migration get the keys the worker used to derive itself, so they finish exactly as they would have.
        Migration(
            module: "processing", version: 2, name: "job_output_keys",
            statements: [
                """
                ALTER TABLE processing.jobs ADD COLUMN processed_key text, ADD COLUMN compatibility_key text,
                    ADD COLUMN thumbnail_key text, ADD COLUMN preview_key text
                """,
                """
                UPDATE processing.jobs SET processed_key = 'processed/' || media_id::text || '.mp4',
                    compatibility_key = 'processed/' || media_id::text || '.h264.mp4',
                    thumbnail_key = 'thumbnails/' || media_id::text || '.jpg',
                    preview_key = 'previews/' || media_id::text || '.jpg'
                """,
                """
                ALTER TABLE processing.jobs ALTER COLUMN processed_key SET NOT NULL,
                    ALTER COLUMN compatibility_key SET NOT NULL, ALTER COLUMN thumbnail_key SET NOT NULL,
                    ALTER COLUMN preview_key SET NOT NULL
                """,
            ]),
        // What the original's SHA-256 must be, when its uploader declared one: the worker checks it first.
        Migration(
            module: "processing", version: 3, name: "job_original_checksum",
            statements: ["ALTER TABLE processing.jobs ADD COLUMN original_sha256 bytea"]),
    ]
}
