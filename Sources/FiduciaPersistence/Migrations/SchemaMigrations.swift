/// Every migration Fiducia has, in order. Append; never edit one that has shipped.
public enum SchemaMigrations {
    public static let all: [Migration] = [
        accounts,
    ]

    /// Users, sessions, API clients, idempotency keys, server secrets and the jobs table.
    static let accounts = Migration(version: 1, name: "accounts, sessions, idempotency, jobs") { _ in
        [
            """
            CREATE TABLE api_clients (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                created_by_user_id TEXT,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT
            )
            """,
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL,
                display_name TEXT NOT NULL,
                password_hash TEXT,
                roles TEXT NOT NULL,
                created_by_client_id TEXT REFERENCES api_clients (id),
                external_id TEXT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX users_email ON users (email)",
            "CREATE UNIQUE INDEX users_client_external_id ON users (created_by_client_id, external_id)",
            """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL REFERENCES users (id),
                kind TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                revoked_at BIGINT
            )
            """,
            "CREATE INDEX sessions_user ON sessions (user_id)",
            """
            CREATE TABLE idempotency_keys (
                scope TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                locked_until BIGINT,
                status_code INTEGER,
                response_headers TEXT,
                response_body TEXT,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (scope, idempotency_key)
            )
            """,
            "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
            """
            CREATE TABLE server_secrets (
                name TEXT PRIMARY KEY,
                secret TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                unique_key TEXT NOT NULL UNIQUE,
                payload TEXT NOT NULL,
                due_at BIGINT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                lease_owner TEXT,
                lease_expires_at BIGINT,
                last_error TEXT,
                created_at BIGINT NOT NULL,
                finished_at BIGINT
            )
            """,
            "CREATE INDEX jobs_due ON jobs (state, due_at)",
        ]
    }
}
