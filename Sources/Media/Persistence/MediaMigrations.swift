import MediaVaultCore

/// Schema `media`: items, their tags, per-user storage accounting and storage deletions still to do.
public enum MediaMigrations {
    public static let all: [Migration] = [
        Migration(
            module: "media", version: 1, name: "items_tags_storage",
            statements: [
                "CREATE SCHEMA IF NOT EXISTS media",
                // Trigram search on titles and file names; a trusted extension, so the database owner may add it.
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                """
                CREATE TABLE media.items (
                    id uuid PRIMARY KEY,
                    owner_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    title text NOT NULL,
                    original_filename text NOT NULL,
                    mime_type text NOT NULL,
                    size_bytes bigint NOT NULL DEFAULT 0,
                    declared_size_bytes bigint,
                    status text NOT NULL CHECK (status IN ('uploading', 'queued', 'processing', 'ready', 'failed')),
                    object_key text NOT NULL,
                    multipart_upload_id text,
                    part_size bigint,
                    processed_key text,
                    processed_size_bytes bigint,
                    thumbnail_key text,
                    duration_seconds double precision,
                    width integer,
                    height integer,
                    video_codec text,
                    audio_codec text,
                    error_message text,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    confirmed_at timestamptz
                )
                """,
                "CREATE INDEX items_owner_created_idx ON media.items (owner_id, created_at DESC, id DESC)",
                "CREATE INDEX items_owner_status_created_idx ON media.items (owner_id, status, created_at DESC, id DESC)",
                """
                CREATE INDEX items_search_idx ON media.items
                    USING gin ((lower(title || ' ' || original_filename)) gin_trgm_ops)
                """,
                "CREATE INDEX items_uploading_idx ON media.items (created_at) WHERE status = 'uploading'",
                """
                CREATE TABLE media.tags (
                    media_id uuid NOT NULL REFERENCES media.items (id) ON DELETE CASCADE,
                    owner_id uuid NOT NULL,
                    tag text NOT NULL,
                    PRIMARY KEY (media_id, tag)
                )
                """,
                "CREATE INDEX tags_owner_tag_idx ON media.tags (owner_id, tag, media_id)",
                """
                CREATE TABLE media.user_storage (
                    user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
                    item_count bigint NOT NULL DEFAULT 0,
                    used_bytes bigint NOT NULL DEFAULT 0,
                    quota_bytes bigint
                )
                """,
                """
                CREATE TABLE media.pending_deletions (
                    id bigserial PRIMARY KEY,
                    object_key text NOT NULL,
                    multipart_upload_id text,
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL DEFAULT now(),
                    last_error text,
                    created_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                "CREATE INDEX pending_deletions_due_idx ON media.pending_deletions (next_attempt_at)",
            ]),
        // The list's other sort orders, so a large library pages by title or size without sorting every row.
        Migration(
            module: "media", version: 2, name: "sort_indexes",
            statements: [
                "CREATE INDEX items_owner_title_idx ON media.items (owner_id, lower(title), id)",
                "CREATE INDEX items_owner_size_idx ON media.items (owner_id, size_bytes, id)",
            ]),
        // Playable files of a video, each with the exact codec string a browser chooses by. Stored renditions count
        // towards the owner's quota (user_storage.used_bytes) and are removed with their media.
        Migration(
            module: "media", version: 3, name: "renditions",
            statements: [
                """
                CREATE TABLE media.renditions (
                    media_id uuid NOT NULL REFERENCES media.items (id) ON DELETE CASCADE,
                    kind text NOT NULL CHECK (kind IN ('primary', 'compatibility', 'original')),
                    object_key text NOT NULL,
                    mime_type text NOT NULL,
                    video_codec text NOT NULL,
                    width integer,
                    height integer,
                    bit_rate bigint,
                    size_bytes bigint NOT NULL,
                    is_hdr boolean NOT NULL DEFAULT false,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (media_id, kind)
                )
                """
            ]),
        // Capture time and place from the file's own metadata: typed where the list sorts and filters, JSON for the
        // camera details. Items without a capture time sort after those with one. And photos' previews.
        Migration(
            module: "media", version: 4, name: "capture_metadata",
            statements: [
                """
                ALTER TABLE media.items ADD COLUMN taken_at timestamptz, ADD COLUMN taken_at_source text,
                    ADD COLUMN latitude double precision, ADD COLUMN longitude double precision,
                    ADD COLUMN altitude double precision, ADD COLUMN capture_details jsonb, ADD COLUMN preview_key text
                """,
                "CREATE INDEX items_owner_taken_idx ON media.items (owner_id, taken_at DESC NULLS LAST, id DESC)",
            ]),
    ]
}
