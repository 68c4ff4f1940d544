import MediaVaultCore

/// Schema `collection`: collections, their items (real foreign keys to `media.items`, so deleting media removes it
/// from every collection), share links and the password-attempt counters.
public enum CollectionMigrations {
    public static let all: [Migration] = [
        Migration(
            module: "collection", version: 1, name: "collections_items_share_links",
            statements: [
                "CREATE SCHEMA IF NOT EXISTS collection",
                """
                CREATE TABLE collection.collections (
                    id uuid PRIMARY KEY,
                    owner_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    title text NOT NULL,
                    description text NOT NULL DEFAULT '',
                    is_public boolean NOT NULL DEFAULT false,
                    -- The original's one token per collection; the digest is what lookups use.
                    share_token text NOT NULL,
                    share_token_digest bytea NOT NULL UNIQUE,
                    cover_media_id uuid,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                "CREATE INDEX collections_owner_created_idx ON collection.collections (owner_id, created_at DESC, id DESC)",
                """
                CREATE TABLE collection.items (
                    collection_id uuid NOT NULL REFERENCES collection.collections (id) ON DELETE CASCADE,
                    media_id uuid NOT NULL REFERENCES media.items (id) ON DELETE CASCADE,
                    position integer,
                    added_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (collection_id, media_id)
                )
                """,
                "CREATE INDEX items_media_idx ON collection.items (media_id)",
                // The cover must be one of the collection's items; it clears itself when that item goes.
                """
                ALTER TABLE collection.collections ADD CONSTRAINT collections_cover_fk
                    FOREIGN KEY (id, cover_media_id) REFERENCES collection.items (collection_id, media_id)
                    ON DELETE SET NULL (cover_media_id)
                """,
                """
                CREATE TABLE collection.share_links (
                    id uuid PRIMARY KEY,
                    collection_id uuid NOT NULL REFERENCES collection.collections (id) ON DELETE CASCADE,
                    token text NOT NULL,
                    token_digest bytea NOT NULL UNIQUE,
                    label text,
                    expires_at timestamptz,
                    password_hash text,
                    allow_download boolean NOT NULL DEFAULT false,
                    view_count bigint NOT NULL DEFAULT 0,
                    last_viewed_at timestamptz,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    revoked_at timestamptz
                )
                """,
                "CREATE INDEX share_links_collection_idx ON collection.share_links (collection_id, created_at DESC)",
                """
                CREATE TABLE collection.password_attempts (
                    scope text PRIMARY KEY,
                    attempts integer NOT NULL,
                    window_started_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX password_attempts_window_idx ON collection.password_attempts (window_started_at)",
            ]),
        // What a share link may show besides the pictures: capture details and, separately, the place. Both off:
        // a link shows no EXIF and no GPS unless its owner says so.
        Migration(
            module: "collection", version: 2, name: "share_link_privacy",
            statements: [
                """
                ALTER TABLE collection.share_links ADD COLUMN show_metadata boolean NOT NULL DEFAULT false,
                    ADD COLUMN show_location boolean NOT NULL DEFAULT false
                """
            ]),
    ]
}
