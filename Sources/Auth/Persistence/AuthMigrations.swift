import MediaVaultCore

/// Schema `auth`: users, their sessions and their personal API keys.
public enum AuthMigrations {
    public static let all: [Migration] = [
        Migration(
            module: "auth", version: 1, name: "users_and_sessions",
            statements: [
                "CREATE SCHEMA IF NOT EXISTS auth",
                """
                CREATE TABLE auth.users (
                    id uuid PRIMARY KEY,
                    discord_id text NOT NULL UNIQUE,
                    username text NOT NULL,
                    global_name text,
                    avatar_hash text,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    last_login_at timestamptz
                )
                """,
                """
                CREATE TABLE auth.sessions (
                    id uuid PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    token_hash bytea NOT NULL UNIQUE,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    expires_at timestamptz NOT NULL,
                    revoked_at timestamptz,
                    user_agent text,
                    client_ip text
                )
                """,
                "CREATE INDEX sessions_user_id_idx ON auth.sessions (user_id)",
                "CREATE INDEX sessions_expires_at_idx ON auth.sessions (expires_at)",
            ]),
        Migration(
            module: "auth", version: 2, name: "api_keys",
            statements: [
                // Revoked keys stay (revoked_at set) so a key seen in old logs can still be traced to its owner.
                """
                CREATE TABLE auth.api_keys (
                    id uuid PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
                    visible_prefix text NOT NULL,
                    secret_hash bytea NOT NULL UNIQUE,
                    scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
                    created_at timestamptz NOT NULL DEFAULT now(),
                    expires_at timestamptz,
                    revoked_at timestamptz,
                    last_used_at timestamptz
                )
                """,
                "CREATE INDEX api_keys_user_id_idx ON auth.api_keys (user_id, created_at) WHERE revoked_at IS NULL",
            ]),
    ]
}
