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
        // List totals that do not grow with the library: per-owner counts by status and by tag, kept by statement
        // triggers in the transaction of every change (uploads, confirmations, processing, tag edits, deletions,
        // imports, sweeps), so no code path can forget them. Transition tables make a bulk statement one counter
        // update per owner, not one per row. Each trigger first takes the owner's advisory lock until commit, so
        // one transaction at a time changes an owner's counters: two tag edits touching the same tags in opposite
        // order would otherwise deadlock on the counter rows. Every path takes it after the rows it changes (the
        // storage row, then the media row), and sign, confirm and delete already queue per owner on the storage row.
        // The periodic check takes the same lock, so it recounts an owner while nothing is mid-change.
        Migration(
            module: "media", version: 5, name: "list_counters",
            statements: [
                """
                CREATE TABLE media.owner_status_counts (
                    owner_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    status text NOT NULL,
                    item_count bigint NOT NULL,
                    PRIMARY KEY (owner_id, status)
                )
                """,
                """
                CREATE TABLE media.owner_tag_counts (
                    owner_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    tag text NOT NULL,
                    item_count bigint NOT NULL,
                    PRIMARY KEY (owner_id, tag)
                )
                """,
                """
                CREATE FUNCTION media.counter_lock_key(owner uuid) RETURNS bigint
                    LANGUAGE sql IMMUTABLE PARALLEL SAFE
                    AS $$ SELECT hashtextextended('media.counters:' || owner::text, 0) $$
                """,
                // Owners in a fixed order, so two bulk statements never wait on each other's counters crosswise.
                """
                CREATE FUNCTION media.count_items_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(media.counter_lock_key(owner_id))
                        FROM (SELECT DISTINCT owner_id FROM new_items ORDER BY owner_id) owners;
                    INSERT INTO media.owner_status_counts AS c (owner_id, status, item_count)
                        SELECT owner_id, status, count(*) FROM new_items GROUP BY owner_id, status
                        ORDER BY owner_id, status
                    ON CONFLICT (owner_id, status) DO UPDATE SET item_count = c.item_count + EXCLUDED.item_count;
                    RETURN NULL;
                END $$
                """,
                // Decrements only update: when a user is deleted their counter rows may already be gone.
                """
                CREATE FUNCTION media.count_items_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(media.counter_lock_key(owner_id))
                        FROM (SELECT DISTINCT owner_id FROM old_items ORDER BY owner_id) owners;
                    UPDATE media.owner_status_counts c SET item_count = c.item_count - d.n
                        FROM (SELECT owner_id, status, count(*) AS n FROM old_items GROUP BY owner_id, status) d
                        WHERE c.owner_id = d.owner_id AND c.status = d.status;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE FUNCTION media.count_items_updated() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NOT EXISTS (
                        SELECT 1 FROM old_items o JOIN new_items n ON n.id = o.id WHERE n.status <> o.status
                    ) THEN
                        RETURN NULL;
                    END IF;
                    PERFORM pg_advisory_xact_lock(media.counter_lock_key(owner_id))
                        FROM (SELECT DISTINCT owner_id FROM new_items ORDER BY owner_id) owners;
                    UPDATE media.owner_status_counts c SET item_count = c.item_count - d.n
                        FROM (SELECT o.owner_id, o.status, count(*) AS n
                              FROM old_items o JOIN new_items n ON n.id = o.id WHERE n.status <> o.status
                              GROUP BY o.owner_id, o.status) d
                        WHERE c.owner_id = d.owner_id AND c.status = d.status;
                    INSERT INTO media.owner_status_counts AS c (owner_id, status, item_count)
                        SELECT n.owner_id, n.status, count(*)
                        FROM old_items o JOIN new_items n ON n.id = o.id WHERE n.status <> o.status
                        GROUP BY n.owner_id, n.status ORDER BY n.owner_id, n.status
                    ON CONFLICT (owner_id, status) DO UPDATE SET item_count = c.item_count + EXCLUDED.item_count;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE FUNCTION media.count_tags_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(media.counter_lock_key(owner_id))
                        FROM (SELECT DISTINCT owner_id FROM new_tags ORDER BY owner_id) owners;
                    INSERT INTO media.owner_tag_counts AS c (owner_id, tag, item_count)
                        SELECT owner_id, tag, count(*) FROM new_tags GROUP BY owner_id, tag ORDER BY owner_id, tag
                    ON CONFLICT (owner_id, tag) DO UPDATE SET item_count = c.item_count + EXCLUDED.item_count;
                    RETURN NULL;
                END $$
                """,
                // A tag nobody carries any more leaves no row behind.
                """
                CREATE FUNCTION media.count_tags_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(media.counter_lock_key(owner_id))
                        FROM (SELECT DISTINCT owner_id FROM old_tags ORDER BY owner_id) owners;
                    UPDATE media.owner_tag_counts c SET item_count = c.item_count - d.n
                        FROM (SELECT owner_id, tag, count(*) AS n FROM old_tags GROUP BY owner_id, tag) d
                        WHERE c.owner_id = d.owner_id AND c.tag = d.tag;
                    DELETE FROM media.owner_tag_counts c USING (SELECT DISTINCT owner_id, tag FROM old_tags) d
                        WHERE c.owner_id = d.owner_id AND c.tag = d.tag AND c.item_count <= 0;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER items_counted_on_insert AFTER INSERT ON media.items
                    REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION media.count_items_inserted()
                """,
                """
                CREATE TRIGGER items_counted_on_delete AFTER DELETE ON media.items
                    REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION media.count_items_deleted()
                """,
                """
                CREATE TRIGGER items_counted_on_update AFTER UPDATE ON media.items
                    REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
                    FOR EACH STATEMENT EXECUTE FUNCTION media.count_items_updated()
                """,
                """
                CREATE TRIGGER tags_counted_on_insert AFTER INSERT ON media.tags
                    REFERENCING NEW TABLE AS new_tags FOR EACH STATEMENT EXECUTE FUNCTION media.count_tags_inserted()
                """,
                """
                CREATE TRIGGER tags_counted_on_delete AFTER DELETE ON media.tags
                    REFERENCING OLD TABLE AS old_tags FOR EACH STATEMENT EXECUTE FUNCTION media.count_tags_deleted()
                """,
                // Tags are never rewritten in place; refusing it keeps the tag counters from silently drifting.
                """
                CREATE FUNCTION media.refuse_tag_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'media.tags rows are not updated in place; delete and insert instead';
                END $$
                """,
                """
                CREATE TRIGGER tags_not_updated BEFORE UPDATE OF media_id, owner_id, tag ON media.tags
                    FOR EACH STATEMENT EXECUTE FUNCTION media.refuse_tag_update()
                """,
                // A tag's newest (or oldest) page, with or without a status, is a walk of one index: each tag row
                // carries its item's creation time and status, filled in on insert and kept in step when the item's
                // status (or, ever, its creation time) changes.
                "ALTER TABLE media.tags ADD COLUMN item_created_at timestamptz, ADD COLUMN item_status text",
                """
                UPDATE media.tags t SET item_created_at = i.created_at, item_status = i.status
                FROM media.items i WHERE i.id = t.media_id
                """,
                """
                ALTER TABLE media.tags ALTER COLUMN item_created_at SET NOT NULL,
                    ALTER COLUMN item_status SET NOT NULL
                """,
                """
                CREATE INDEX tags_owner_tag_created_idx
                    ON media.tags (owner_id, tag, item_created_at DESC, media_id DESC)
                """,
                """
                CREATE INDEX tags_owner_tag_status_created_idx
                    ON media.tags (owner_id, tag, item_status, item_created_at DESC, media_id DESC)
                """,
                """
                CREATE FUNCTION media.fill_tag_item_order() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    -- FOR SHARE: a status change of the item waits for this insert to commit (and its copy to the
                    -- tag rows then sees this row), or this insert waits for the change and copies the new status.
                    -- The owner is the item's, whoever the caller named.
                    SELECT owner_id, created_at, status INTO NEW.owner_id, NEW.item_created_at, NEW.item_status
                    FROM media.items WHERE id = NEW.media_id FOR SHARE;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER tags_item_order BEFORE INSERT ON media.tags
                    FOR EACH ROW EXECUTE FUNCTION media.fill_tag_item_order()
                """,
                """
                CREATE FUNCTION media.follow_item_order() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE media.tags SET item_created_at = NEW.created_at, item_status = NEW.status
                    WHERE media_id = NEW.id;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER items_order_followed AFTER UPDATE OF created_at, status ON media.items
                    FOR EACH ROW
                    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.status IS DISTINCT FROM NEW.status)
                    EXECUTE FUNCTION media.follow_item_order()
                """,
                """
                INSERT INTO media.owner_status_counts (owner_id, status, item_count)
                    SELECT owner_id, status, count(*) FROM media.items GROUP BY owner_id, status
                """,
                """
                INSERT INTO media.owner_tag_counts (owner_id, tag, item_count)
                    SELECT owner_id, tag, count(*) FROM media.tags GROUP BY owner_id, tag
                """,
            ]),
        // Search within one owner's library: the owner is the first column of the trigram index (btree_gin, a
        // trusted extension), so a search reads that owner's entries only. The index over every user's titles made
        // one user's search slower as other users' libraries grew (measured: 16-36 ms against 0.4-1.5 ms for a
        // 10,000-item library beside a 1,000,000-item one).
        Migration(
            module: "media", version: 6, name: "owner_search",
            statements: [
                "CREATE EXTENSION IF NOT EXISTS btree_gin",
                """
                CREATE INDEX items_owner_search_idx ON media.items
                    USING gin (owner_id, (lower(title || ' ' || original_filename)) gin_trgm_ops)
                """,
                "DROP INDEX media.items_search_idx",
            ]),
        // The SHA-256 a client declares at sign time: the worker checks the stored original against it, and a user's
        // uploads are found by it (duplicates refused, re-runs of an import skipped). Items from before have none.
        Migration(
            module: "media", version: 7, name: "content_checksums",
            statements: [
                "ALTER TABLE media.items ADD COLUMN sha256 bytea CHECK (sha256 IS NULL OR octet_length(sha256) = 32)",
                "CREATE INDEX items_owner_sha256_idx ON media.items (owner_id, sha256) WHERE sha256 IS NOT NULL",
            ]),
    ]
}
