import MediaVaultCore

/// Schema `auth`: users and their sessions.
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
            ])
    ]
}
