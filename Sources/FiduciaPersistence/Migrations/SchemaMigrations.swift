/// Every migration Fiducia has, in order. Append; never edit one that has shipped.
public enum SchemaMigrations {
    public static let all: [Migration] = [
        accounts,
        escrow,
        ratings,
        sellerRanking,
        logInThrottling,
        moneySafety,
        enforcement,
        identity,
        externalSignIn,
        social,
        community,
        socialGeneration,
        sessionActivity,
        logInClients,
        ratingLog,
        auditLog,
        feedbackAndReports,
        dataRights,
        incidents,
        customerCare,
        fraudFeed,
        fraudFeedWithdrawals,
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

    /// Orders, the double-entry ledger, payouts, monthly statements, payment-provider records.
    static let escrow = Migration(version: 2, name: "orders, ledger, payouts, statements, webhooks") { kind in
        var statements = [
            """
            CREATE TABLE seller_policies (
                seller_id TEXT PRIMARY KEY REFERENCES users (id),
                return_window_days INTEGER NOT NULL,
                genuine_goods_guarantee INTEGER NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE orders (
                id TEXT PRIMARY KEY,
                buyer_id TEXT NOT NULL REFERENCES users (id),
                seller_id TEXT NOT NULL REFERENCES users (id),
                currency TEXT NOT NULL,
                total_minor BIGINT NOT NULL CHECK (total_minor > 0),
                status TEXT NOT NULL,
                payment_method TEXT,
                pay_by BIGINT NOT NULL,
                paid_at BIGINT,
                shipped_at BIGINT,
                confirm_by BIGINT,
                completed_at BIGINT,
                closed_at BIGINT,
                refunded_minor BIGINT NOT NULL,
                confirmation_extended INTEGER NOT NULL,
                escrow_frozen INTEGER NOT NULL,
                fee_basis_points INTEGER NOT NULL,
                fund_share_basis_points INTEGER NOT NULL,
                details TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX orders_buyer ON orders (buyer_id, id)",
            "CREATE INDEX orders_seller ON orders (seller_id, id)",
            "CREATE INDEX orders_status ON orders (status)",
            """
            CREATE TABLE ledger_accounts (
                id TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                kind TEXT NOT NULL,
                currency TEXT NOT NULL,
                debits_posted BIGINT NOT NULL,
                credits_posted BIGINT NOT NULL,
                debits_pending BIGINT NOT NULL,
                credits_pending BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (owner, kind, currency)
            )
            """,
            """
            CREATE TABLE ledger_transfers (
                id TEXT PRIMARY KEY,
                debit_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
                credit_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
                amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
                currency TEXT NOT NULL,
                mode TEXT NOT NULL,
                pending_id TEXT REFERENCES ledger_transfers (id),
                purpose TEXT NOT NULL,
                reference TEXT NOT NULL UNIQUE,
                order_id TEXT,
                created_at BIGINT NOT NULL,
                CHECK (debit_account_id <> credit_account_id)
            )
            """,
            // A hold is posted or voided once: the database refuses a second resolution even if two
            // servers race past every check above it.
            "CREATE UNIQUE INDEX ledger_transfers_resolution ON ledger_transfers (pending_id)",
            "CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account_id, created_at)",
            "CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account_id, created_at)",
            "CREATE INDEX ledger_transfers_order ON ledger_transfers (order_id)",
            """
            CREATE TABLE payouts (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id),
                currency TEXT NOT NULL,
                amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
                destination TEXT NOT NULL,
                status TEXT NOT NULL,
                failure_reason TEXT,
                created_at BIGINT NOT NULL,
                settled_at BIGINT
            )
            """,
            "CREATE INDEX payouts_user ON payouts (user_id, id)",
            """
            CREATE TABLE statements (
                id TEXT PRIMARY KEY,
                buyer_id TEXT NOT NULL REFERENCES users (id),
                currency TEXT NOT NULL,
                month TEXT NOT NULL,
                status TEXT NOT NULL,
                total_minor BIGINT NOT NULL,
                item_count INTEGER NOT NULL,
                failure_reason TEXT,
                created_at BIGINT NOT NULL,
                settled_at BIGINT,
                UNIQUE (buyer_id, currency, month)
            )
            """,
            """
            CREATE TABLE payment_cards (
                user_id TEXT PRIMARY KEY REFERENCES users (id),
                token TEXT NOT NULL,
                label TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE webhook_events (
                provider TEXT NOT NULL,
                event_id TEXT NOT NULL,
                type TEXT NOT NULL,
                payload TEXT NOT NULL,
                received_at BIGINT NOT NULL,
                PRIMARY KEY (provider, event_id)
            )
            """,
            """
            CREATE TABLE sandbox_charges (
                idempotency_key TEXT PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                amount_minor BIGINT NOT NULL,
                currency TEXT NOT NULL,
                card_token TEXT NOT NULL,
                status TEXT NOT NULL,
                refunded_minor BIGINT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
        ]
        // Transfers are append-only: the database itself refuses to change or delete one.
        switch kind {
        case .sqlite:
            statements += [
                """
                CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE ON ledger_transfers
                BEGIN SELECT RAISE(ABORT, 'ledger transfers are append-only'); END
                """,
                """
                CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers
                BEGIN SELECT RAISE(ABORT, 'ledger transfers are append-only'); END
                """,
            ]
        case .postgres:
            statements += [
                """
                CREATE FUNCTION ledger_transfers_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'ledger transfers are append-only'; END $$
                """,
                """
                CREATE TRIGGER ledger_transfers_no_change BEFORE UPDATE OR DELETE ON ledger_transfers
                FOR EACH ROW EXECUTE FUNCTION ledger_transfers_append_only()
                """,
            ]
        }
        return statements
    }

    /// Ratings (double-blind, with replies), credit scores with their history, tier changes,
    /// commendations, and a counter that orders rating publications for the trust engine.
    static let ratings = Migration(version: 3, name: "ratings, credit scores, tiers, commendations") { _ in
        [
            """
            CREATE TABLE ratings (
                id TEXT PRIMARY KEY,
                order_id TEXT NOT NULL REFERENCES orders (id),
                rater_id TEXT NOT NULL REFERENCES users (id),
                ratee_id TEXT NOT NULL REFERENCES users (id),
                side TEXT NOT NULL,
                overall TEXT NOT NULL,
                item_as_described INTEGER,
                service_attitude INTEGER,
                shipping_speed INTEGER,
                comment TEXT,
                flags TEXT NOT NULL,
                order_total_minor BIGINT NOT NULL,
                currency TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                published_at BIGINT,
                publication BIGINT UNIQUE,
                reply TEXT,
                replied_at BIGINT,
                UNIQUE (order_id, rater_id)
            )
            """,
            "CREATE INDEX ratings_ratee ON ratings (ratee_id, side, published_at)",
            "CREATE INDEX ratings_rater ON ratings (rater_id, id)",
            """
            CREATE TABLE counters (
                name TEXT PRIMARY KEY,
                value BIGINT NOT NULL
            )
            """,
            "INSERT INTO counters (name, value) VALUES ('rating_publication', 0)",
            """
            CREATE TABLE credit_scores (
                user_id TEXT NOT NULL REFERENCES users (id),
                role TEXT NOT NULL,
                score INTEGER NOT NULL,
                tier TEXT NOT NULL,
                confidence DOUBLE PRECISION NOT NULL,
                uncertainty INTEGER NOT NULL,
                breakdown TEXT NOT NULL,
                computed_at BIGINT NOT NULL,
                PRIMARY KEY (user_id, role)
            )
            """,
            """
            CREATE TABLE credit_score_history (
                user_id TEXT NOT NULL REFERENCES users (id),
                role TEXT NOT NULL,
                at BIGINT NOT NULL,
                score INTEGER NOT NULL,
                tier TEXT NOT NULL
            )
            """,
            "CREATE INDEX credit_score_history_user ON credit_score_history (user_id, role, at)",
            """
            CREATE TABLE tier_changes (
                user_id TEXT NOT NULL REFERENCES users (id),
                role TEXT NOT NULL,
                at BIGINT NOT NULL,
                from_tier TEXT NOT NULL,
                to_tier TEXT NOT NULL
            )
            """,
            "CREATE INDEX tier_changes_user ON tier_changes (user_id, role, at)",
            """
            CREATE TABLE commendations (
                seller_id TEXT NOT NULL REFERENCES users (id),
                month TEXT NOT NULL,
                awarded_at BIGINT NOT NULL,
                PRIMARY KEY (seller_id, month)
            )
            """,
        ]
    }

    /// The home page ranks sellers by score.
    static let sellerRanking = Migration(version: 4, name: "seller ranking index") { _ in
        ["CREATE INDEX credit_scores_ranking ON credit_scores (role, score)"]
    }

    /// Failed log-ins, counted per email address so that every server throttles the same way.
    static let logInThrottling = Migration(version: 5, name: "failed log-ins") { _ in
        [
            "CREATE TABLE failed_log_ins (email TEXT NOT NULL, at BIGINT NOT NULL)",
            "CREATE INDEX failed_log_ins_email ON failed_log_ins (email, at)",
        ]
    }

    /// Escrow must hold: card charges recorded before the provider is asked (reconciled after a
    /// crash), staff decisions with maker–checker, each order's return deadline as a column (the
    /// payout reserve sums over it), payout submission, and the sandbox provider's refunds.
    static let moneySafety = Migration(version: 6, name: "charge attempts, staff decisions, return deadlines, payout submission") { kind in
        let returnWindowDays =
            switch kind {
            case .sqlite: "CAST(json_extract(details, '$.policy.returnWindowDays') AS INTEGER)"
            case .postgres: "CAST((details::jsonb -> 'policy' ->> 'returnWindowDays') AS BIGINT)"
            }
        return [
            """
            CREATE TABLE charge_attempts (
                id TEXT PRIMARY KEY,
                purpose TEXT NOT NULL,
                subject_id TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users (id),
                amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
                currency TEXT NOT NULL,
                card_token TEXT NOT NULL,
                state TEXT NOT NULL,
                charge_id TEXT,
                failure_reason TEXT,
                created_at BIGINT NOT NULL,
                settled_at BIGINT
            )
            """,
            // At most one charge in flight per order (or deposit, or statement): a second request
            // is told to wait instead of charging the card again.
            "CREATE UNIQUE INDEX charge_attempts_one_pending ON charge_attempts (purpose, subject_id) WHERE state = 'pending'",
            "CREATE INDEX charge_attempts_subject ON charge_attempts (purpose, subject_id)",
            """
            CREATE TABLE staff_decisions (
                id TEXT PRIMARY KEY,
                order_id TEXT NOT NULL REFERENCES orders (id),
                action TEXT NOT NULL,
                amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
                currency TEXT NOT NULL,
                reason TEXT NOT NULL,
                proposed_by TEXT NOT NULL REFERENCES users (id),
                proposed_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                approved_by TEXT REFERENCES users (id),
                decided_at BIGINT,
                failure_reason TEXT,
                CHECK (approved_by IS NULL OR approved_by <> proposed_by)
            )
            """,
            "CREATE INDEX staff_decisions_order ON staff_decisions (order_id)",
            "CREATE INDEX staff_decisions_status ON staff_decisions (status, proposed_at)",
            "ALTER TABLE orders ADD COLUMN return_deadline BIGINT",
            "UPDATE orders SET return_deadline = completed_at + \(returnWindowDays) * 86400000 WHERE completed_at IS NOT NULL",
            "CREATE INDEX orders_seller_returns ON orders (seller_id, status, return_deadline)",
            "ALTER TABLE payouts ADD COLUMN submitted_at BIGINT",
            """
            CREATE TABLE sandbox_refunds (
                idempotency_key TEXT PRIMARY KEY,
                charge_id TEXT NOT NULL,
                amount_minor BIGINT NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
        ]
    }

    /// When a trade goes wrong: order messages and their attachments (bytes in a content-addressed
    /// blob table), disputes with their evidence, penalties with their rulebooks and appeals,
    /// reports, hidden ratings, and outbound webhooks with their outbox and delivery log.
    static let enforcement = Migration(version: 7, name: "messages, disputes, penalties, appeals, reports, outbound webhooks") { kind in
        let bytes = kind == .postgres ? "BYTEA" : "BLOB"
        var statements = [
            "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, byte_count BIGINT NOT NULL, data \(bytes) NOT NULL, created_at BIGINT NOT NULL)",
            """
            CREATE TABLE attachments (
                id TEXT PRIMARY KEY,
                sha256 TEXT NOT NULL REFERENCES blobs (sha256),
                file_name TEXT NOT NULL,
                content_type TEXT NOT NULL,
                byte_count BIGINT NOT NULL,
                context_kind TEXT NOT NULL,
                context_id TEXT NOT NULL,
                order_id TEXT,
                owner_id TEXT NOT NULL REFERENCES users (id),
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX attachments_context ON attachments (context_kind, context_id)",
            """
            CREATE TABLE order_messages (
                id TEXT PRIMARY KEY,
                order_id TEXT NOT NULL REFERENCES orders (id),
                author_id TEXT NOT NULL REFERENCES users (id),
                role TEXT NOT NULL,
                body TEXT NOT NULL,
                attachments TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX order_messages_order ON order_messages (order_id, created_at)",
            """
            CREATE TABLE disputes (
                id TEXT PRIMARY KEY,
                order_id TEXT NOT NULL REFERENCES orders (id),
                buyer_id TEXT NOT NULL REFERENCES users (id),
                seller_id TEXT NOT NULL REFERENCES users (id),
                currency TEXT NOT NULL,
                reason TEXT NOT NULL,
                status TEXT NOT NULL,
                moderator_id TEXT REFERENCES users (id),
                deadline_at BIGINT,
                mediation_due_at BIGINT,
                resolution_how TEXT,
                refund_minor BIGINT,
                seller_lost INTEGER NOT NULL,
                details TEXT NOT NULL,
                opened_at BIGINT NOT NULL,
                resolved_at BIGINT
            )
            """,
            // One open dispute per order, however many servers race to open one.
            "CREATE UNIQUE INDEX disputes_one_open ON disputes (order_id) WHERE status <> 'resolved'",
            "CREATE INDEX disputes_order ON disputes (order_id)",
            "CREATE INDEX disputes_queue ON disputes (status, mediation_due_at)",
            "CREATE INDEX disputes_seller ON disputes (seller_id, opened_at)",
            "CREATE INDEX disputes_buyer ON disputes (buyer_id, opened_at)",
            """
            CREATE TABLE dispute_evidence (
                id TEXT PRIMARY KEY,
                dispute_id TEXT NOT NULL REFERENCES disputes (id),
                author_id TEXT NOT NULL REFERENCES users (id),
                role TEXT NOT NULL,
                body TEXT NOT NULL,
                attachments TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX dispute_evidence_dispute ON dispute_evidence (dispute_id, created_at)",
            """
            CREATE TABLE penalty_rulebooks (
                version INTEGER PRIMARY KEY,
                document TEXT NOT NULL,
                status TEXT NOT NULL,
                proposed_by TEXT,
                proposed_at BIGINT NOT NULL,
                decided_by TEXT,
                decided_at BIGINT,
                CHECK (decided_by IS NULL OR proposed_by IS NULL OR decided_by <> proposed_by)
            )
            """,
            """
            CREATE TABLE penalties (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id),
                violation_code TEXT NOT NULL,
                violation_name TEXT NOT NULL,
                points INTEGER NOT NULL,
                fine_minor BIGINT NOT NULL,
                fine_currency TEXT,
                rulebook_version INTEGER NOT NULL,
                reasons TEXT NOT NULL,
                decided_by TEXT REFERENCES users (id),
                dispute_id TEXT REFERENCES disputes (id),
                order_id TEXT,
                applied_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                fine_returned_minor BIGINT NOT NULL
            )
            """,
            "CREATE INDEX penalties_user ON penalties (user_id, applied_at)",
            """
            CREATE TABLE appeals (
                id TEXT PRIMARY KEY,
                penalty_id TEXT NOT NULL REFERENCES penalties (id),
                appellant_id TEXT NOT NULL REFERENCES users (id),
                statement TEXT NOT NULL,
                attachments TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                decided_by TEXT REFERENCES users (id),
                decided_at BIGINT,
                reasons TEXT,
                reduced_points INTEGER
            )
            """,
            "CREATE UNIQUE INDEX appeals_one_pending ON appeals (penalty_id) WHERE status = 'pending'",
            "CREATE INDEX appeals_queue ON appeals (status, created_at)",
            """
            CREATE TABLE reports (
                id TEXT PRIMARY KEY,
                reporter_id TEXT NOT NULL REFERENCES users (id),
                target_kind TEXT NOT NULL,
                target_id TEXT NOT NULL,
                category TEXT NOT NULL,
                body TEXT NOT NULL,
                attachments TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                resolved_by TEXT REFERENCES users (id),
                resolved_at BIGINT,
                reasons TEXT,
                action TEXT,
                penalty_id TEXT
            )
            """,
            "CREATE INDEX reports_queue ON reports (status, created_at)",
            "CREATE INDEX reports_reporter ON reports (reporter_id, created_at)",
            "ALTER TABLE ratings ADD COLUMN hidden_at BIGINT",
            "ALTER TABLE ratings ADD COLUMN hidden_reason TEXT",
            """
            CREATE TABLE webhook_endpoints (
                id TEXT PRIMARY KEY,
                url TEXT NOT NULL,
                secret TEXT NOT NULL,
                kinds TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                disabled_at BIGINT
            )
            """,
            "CREATE TABLE outbound_events (id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject_id TEXT NOT NULL, data TEXT NOT NULL, created_at BIGINT NOT NULL)",
            """
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY,
                endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
                event_id TEXT NOT NULL REFERENCES outbound_events (id),
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                last_status_code INTEGER,
                last_error TEXT,
                next_attempt_at BIGINT,
                delivered_at BIGINT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at)",
            "CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)",
        ]
        // Messages and evidence are evidence: the database refuses to change or delete them.
        for table in ["order_messages", "dispute_evidence"] {
            switch kind {
            case .sqlite:
                statements += [
                    "CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table) BEGIN SELECT RAISE(ABORT, '\(table) are evidence and never change'); END",
                    "CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table) BEGIN SELECT RAISE(ABORT, '\(table) are evidence and never change'); END",
                ]
            case .postgres:
                statements += [
                    """
                    CREATE FUNCTION \(table)_keep() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION '\(table) are evidence and never change'; END $$
                    """,
                    "CREATE TRIGGER \(table)_no_change BEFORE UPDATE OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION \(table)_keep()",
                ]
            }
        }
        return statements
    }

    /// Who is behind an account: personal data sealed at rest (the e-mail column now holds sealed
    /// text and is found by its keyed hash), verifications with their encrypted documents and the
    /// log of who viewed them, the mail outbox and the sandbox SMS gateway, invitations, certifiers'
    /// signing keys, seals, shop origins and issued reputation credentials.
    static let identity = Migration(version: 8, name: "personal data sealed at rest, verifications, invitations, seals, credentials") { _ in
        [
            "ALTER TABLE users ADD COLUMN email_hash TEXT",
            "ALTER TABLE users ADD COLUMN data_key TEXT",
            "ALTER TABLE users ADD COLUMN invited_by TEXT REFERENCES users (id)",
            "DROP INDEX users_email",
            "CREATE UNIQUE INDEX users_email_hash ON users (email_hash)",
            "CREATE TABLE data_keys (name TEXT PRIMARY KEY, wrapped TEXT NOT NULL, created_at BIGINT NOT NULL)",
            """
            CREATE TABLE verifications (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id),
                level TEXT NOT NULL,
                state TEXT NOT NULL,
                details TEXT NOT NULL,
                target_hash TEXT,
                document_id TEXT,
                code_hash TEXT,
                code_attempts INTEGER NOT NULL,
                code_expires_at BIGINT,
                reason TEXT,
                decided_by TEXT REFERENCES users (id),
                decided_at BIGINT,
                expires_at BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX verifications_user ON verifications (user_id, level)",
            "CREATE INDEX verifications_state ON verifications (state, created_at)",
            "CREATE INDEX verifications_target ON verifications (level, target_hash)",
            """
            CREATE TABLE sealed_documents (
                id TEXT PRIMARY KEY,
                owner_id TEXT NOT NULL REFERENCES users (id),
                content_type TEXT NOT NULL,
                byte_count BIGINT NOT NULL,
                data TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE document_views (
                id TEXT PRIMARY KEY,
                document_id TEXT NOT NULL REFERENCES sealed_documents (id),
                verification_id TEXT NOT NULL REFERENCES verifications (id),
                viewer_id TEXT NOT NULL REFERENCES users (id),
                viewed_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX document_views_document ON document_views (document_id, viewed_at)",
            """
            CREATE TABLE mail_outbox (
                id TEXT PRIMARY KEY,
                recipient TEXT NOT NULL,
                subject TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                sent_at BIGINT,
                attempts INTEGER NOT NULL,
                last_error TEXT
            )
            """,
            "CREATE INDEX mail_outbox_pending ON mail_outbox (sent_at, created_at)",
            """
            CREATE TABLE sandbox_sms (
                id TEXT PRIMARY KEY,
                recipient_hash TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX sandbox_sms_recipient ON sandbox_sms (recipient_hash, created_at)",
            """
            CREATE TABLE invitations (
                code_hash TEXT PRIMARY KEY,
                hint TEXT NOT NULL,
                inviter_id TEXT NOT NULL REFERENCES users (id),
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                used_by TEXT REFERENCES users (id),
                used_at BIGINT
            )
            """,
            "CREATE INDEX invitations_inviter ON invitations (inviter_id, created_at)",
            """
            CREATE TABLE certifier_keys (
                key_id TEXT PRIMARY KEY,
                certifier_id TEXT NOT NULL REFERENCES users (id),
                public_key TEXT NOT NULL,
                private_key TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                retired_at BIGINT
            )
            """,
            "CREATE INDEX certifier_keys_certifier ON certifier_keys (certifier_id)",
            """
            CREATE TABLE seals (
                id TEXT PRIMARY KEY,
                certifier_id TEXT NOT NULL REFERENCES users (id),
                merchant_id TEXT NOT NULL REFERENCES users (id),
                checks TEXT NOT NULL,
                origins TEXT NOT NULL,
                issued_at BIGINT NOT NULL,
                valid_until BIGINT NOT NULL,
                document TEXT NOT NULL,
                revoked_at BIGINT,
                revocation_reason TEXT
            )
            """,
            "CREATE INDEX seals_merchant ON seals (merchant_id, issued_at)",
            "CREATE INDEX seals_certifier ON seals (certifier_id, issued_at)",
            """
            CREATE TABLE shop_origins (
                merchant_id TEXT NOT NULL REFERENCES users (id),
                origin TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (merchant_id, origin)
            )
            """,
            """
            CREATE TABLE reputation_credentials (
                id TEXT PRIMARY KEY,
                subject_id TEXT NOT NULL REFERENCES users (id),
                issued_at BIGINT NOT NULL,
                valid_until BIGINT NOT NULL,
                document TEXT NOT NULL
            )
            """,
            "CREATE INDEX reputation_credentials_subject ON reputation_credentials (subject_id, issued_at)",
        ]
    }

    /// Sign-in with external accounts (OpenID Connect): attempts in flight, so that any server can
    /// finish what another started, and the links between external subjects and accounts.
    static let externalSignIn = Migration(version: 9, name: "sign-in with external accounts") { _ in
        [
            """
            CREATE TABLE sign_in_attempts (
                id TEXT PRIMARY KEY,
                provider TEXT NOT NULL,
                purpose TEXT NOT NULL,
                user_id TEXT REFERENCES users (id),
                secrets TEXT NOT NULL,
                browser_hash TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX sign_in_attempts_expiry ON sign_in_attempts (expires_at)",
            """
            CREATE TABLE external_accounts (
                provider TEXT NOT NULL,
                subject_hash TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users (id),
                linked_at BIGINT NOT NULL,
                PRIMARY KEY (provider, subject_hash),
                UNIQUE (user_id, provider)
            )
            """,
        ]
    }

    /// Friends (two rows per friendship, one per direction, so each person's friends are one
    /// index range), friend requests (at most one pending per direction), blocks, trust lists and
    /// their visibility; and an index for the order-volume alerts.
    static let social = Migration(version: 10, name: "friends, blocks, trust lists") { _ in
        [
            """
            CREATE TABLE friend_requests (
                id TEXT PRIMARY KEY,
                from_id TEXT NOT NULL REFERENCES users (id),
                to_id TEXT NOT NULL REFERENCES users (id),
                state TEXT NOT NULL,
                message TEXT,
                created_at BIGINT NOT NULL,
                answered_at BIGINT
            )
            """,
            "CREATE UNIQUE INDEX friend_requests_pending ON friend_requests (from_id, to_id) WHERE state = 'pending'",
            "CREATE INDEX friend_requests_to ON friend_requests (to_id, state)",
            "CREATE INDEX friend_requests_from ON friend_requests (from_id, created_at)",
            """
            CREATE TABLE friendships (
                user_id TEXT NOT NULL REFERENCES users (id),
                friend_id TEXT NOT NULL REFERENCES users (id),
                since BIGINT NOT NULL,
                PRIMARY KEY (user_id, friend_id)
            )
            """,
            """
            CREATE TABLE blocks (
                blocker_id TEXT NOT NULL REFERENCES users (id),
                blocked_id TEXT NOT NULL REFERENCES users (id),
                created_at BIGINT NOT NULL,
                PRIMARY KEY (blocker_id, blocked_id)
            )
            """,
            """
            CREATE TABLE trust_list_entries (
                owner_id TEXT NOT NULL REFERENCES users (id),
                merchant_id TEXT NOT NULL REFERENCES users (id),
                kind TEXT NOT NULL,
                note TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (owner_id, merchant_id)
            )
            """,
            "CREATE INDEX trust_list_entries_merchant ON trust_list_entries (merchant_id, kind)",
            """
            CREATE TABLE trust_list_visibility (
                owner_id TEXT NOT NULL REFERENCES users (id),
                kind TEXT NOT NULL,
                visibility TEXT NOT NULL,
                PRIMARY KEY (owner_id, kind)
            )
            """,
            "CREATE INDEX orders_seller_created ON orders (seller_id, created_at)",
        ]
    }

    /// The community (E4): experiences shared with friends (one per person and order), questions
    /// about merchants, their answers and helpful votes (one per person and answer). Content a
    /// moderator hid keeps its row, with who hid it, when and why.
    static let community = Migration(version: 11, name: "experiences, questions, answers") { _ in
        [
            """
            CREATE TABLE experiences (
                id TEXT PRIMARY KEY,
                author_id TEXT NOT NULL REFERENCES users (id),
                order_id TEXT NOT NULL REFERENCES orders (id),
                merchant_id TEXT NOT NULL REFERENCES users (id),
                body TEXT NOT NULL,
                photos TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                hidden_reason TEXT,
                hidden_at BIGINT,
                hidden_by TEXT
            )
            """,
            "CREATE UNIQUE INDEX experiences_author_order ON experiences (author_id, order_id)",
            "CREATE INDEX experiences_author ON experiences (author_id, id)",
            "CREATE INDEX experiences_merchant ON experiences (merchant_id, id)",
            """
            CREATE TABLE questions (
                id TEXT PRIMARY KEY,
                asker_id TEXT NOT NULL REFERENCES users (id),
                merchant_id TEXT NOT NULL REFERENCES users (id),
                product TEXT,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                accepted_answer_id TEXT,
                hidden_reason TEXT,
                hidden_at BIGINT,
                hidden_by TEXT
            )
            """,
            "CREATE INDEX questions_merchant ON questions (merchant_id, id)",
            "CREATE INDEX questions_asker ON questions (asker_id, created_at)",
            """
            CREATE TABLE answers (
                id TEXT PRIMARY KEY,
                question_id TEXT NOT NULL REFERENCES questions (id),
                author_id TEXT NOT NULL REFERENCES users (id),
                body TEXT NOT NULL,
                mark TEXT,
                created_at BIGINT NOT NULL,
                helpful_votes INTEGER NOT NULL DEFAULT 0,
                hidden_reason TEXT,
                hidden_at BIGINT,
                hidden_by TEXT
            )
            """,
            "CREATE INDEX answers_question ON answers (question_id)",
            "CREATE INDEX answers_author ON answers (author_id, created_at)",
            """
            CREATE TABLE answer_votes (
                answer_id TEXT NOT NULL REFERENCES answers (id),
                voter_id TEXT NOT NULL REFERENCES users (id),
                created_at BIGINT NOT NULL,
                PRIMARY KEY (answer_id, voter_id)
            )
            """,
        ]
    }

    /// One counter, raised in the transaction of every change to friendships, blocks, trust lists
    /// and hidden ratings: a server's cache of network views is valid while it has not moved
    /// (whichever server made the change).
    static let socialGeneration = Migration(version: 12, name: "social generation") { _ in
        [
            "CREATE TABLE social_generation (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)",
            "INSERT INTO social_generation (id, generation) VALUES (1, 0)",
        ]
    }

    /// Sessions end after a time without use (the idle timeout) as well as at their absolute end.
    static let sessionActivity = Migration(version: 13, name: "session activity") { _ in
        ["ALTER TABLE sessions ADD COLUMN last_used_at BIGINT"]
    }

    /// Log-in failures are counted per account and per client address (each a keyed hash).
    static let logInClients = Migration(version: 14, name: "log-in failures by client address") { _ in
        [
            "ALTER TABLE failed_log_ins ADD COLUMN client TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX failed_log_ins_client ON failed_log_ins (client, at)",
        ]
    }

    /// The tamper-evident rating log (X2): its leaves, the hashes of its complete subtrees, and
    /// its signed tree heads; a rating knows its leaf. Hashes are lower-case hex.
    static let ratingLog = Migration(version: 15, name: "rating log") { _ in
        [
            """
            CREATE TABLE rating_log_leaves (
                leaf_index BIGINT PRIMARY KEY,
                rating_id TEXT NOT NULL,
                entry TEXT NOT NULL,
                appended_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX rating_log_leaves_rating ON rating_log_leaves (rating_id, leaf_index)",
            """
            CREATE TABLE rating_log_nodes (
                level INTEGER NOT NULL,
                node_index BIGINT NOT NULL,
                hash TEXT NOT NULL,
                PRIMARY KEY (level, node_index)
            )
            """,
            """
            CREATE TABLE rating_log_heads (
                tree_size BIGINT PRIMARY KEY,
                root_hash TEXT NOT NULL,
                signed_at BIGINT NOT NULL,
                signature TEXT NOT NULL
            )
            """,
            "INSERT INTO counters (name, value) VALUES ('rating_log_size', 0)",
            "ALTER TABLE ratings ADD COLUMN log_index BIGINT",
        ]
    }

    /// The hash-chained audit log of privileged actions (G3). Sequences start at 1.
    static let auditLog = Migration(version: 16, name: "audit log") { _ in
        [
            """
            CREATE TABLE audit_events (
                sequence BIGINT PRIMARY KEY,
                at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL,
                address TEXT,
                previous_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_events_actor ON audit_events (actor, sequence)",
            "INSERT INTO counters (name, value) VALUES ('audit_sequence', 0)",
        ]
    }

    /// Anonymous feedback (no account, no address; the hour it came in) and the monthly
    /// transparency reports, each kept as generated.
    static let feedbackAndReports = Migration(version: 17, name: "feedback, transparency reports") { _ in
        [
            """
            CREATE TABLE feedback (
                id TEXT PRIMARY KEY,
                topic TEXT NOT NULL,
                text TEXT NOT NULL,
                received_hour BIGINT NOT NULL,
                read_by TEXT REFERENCES users (id),
                read_at BIGINT
            )
            """,
            "CREATE INDEX feedback_hour ON feedback (received_hour)",
            """
            CREATE TABLE transparency_reports (
                month TEXT PRIMARY KEY,
                generated_at BIGINT NOT NULL,
                figures TEXT NOT NULL
            )
            """,
        ]
    }

    /// A person's data (G2): which privacy notice they accepted when, and accounts deleted by
    /// their owners (the row stays, emptied, so that ratings and ledger records keep their party).
    static let dataRights = Migration(version: 18, name: "privacy notice acceptances, account deletion") { _ in
        [
            """
            CREATE TABLE privacy_acceptances (
                user_id TEXT NOT NULL REFERENCES users (id),
                version INTEGER NOT NULL,
                accepted_at BIGINT NOT NULL,
                PRIMARY KEY (user_id, version)
            )
            """,
            "ALTER TABLE users ADD COLUMN deleted_at BIGINT",
            "CREATE INDEX users_deleted ON users (deleted_at)",
        ]
    }

    /// Incident mode: the switch's history; `open` is 1 for the one in force (unique), NULL after.
    static let incidents = Migration(version: 19, name: "incidents") { _ in
        [
            """
            CREATE TABLE incidents (
                id TEXT PRIMARY KEY,
                reason TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                started_by TEXT NOT NULL REFERENCES users (id),
                ended_at BIGINT,
                ended_by TEXT REFERENCES users (id),
                open INTEGER UNIQUE
            )
            """,
        ]
    }

    /// Merchants' service commitments and loyalty programmes, and the points ledger: each entry
    /// moves points from one account of a merchant's programme to another (`issued:<seller>`,
    /// `member:<seller>:<buyer>`); points never touch the money ledger.
    static let customerCare = Migration(version: 20, name: "service commitments, loyalty points") { _ in
        [
            """
            CREATE TABLE service_commitments (
                seller_id TEXT PRIMARY KEY REFERENCES users (id),
                answer_within_hours INTEGER,
                ship_within_hours INTEGER,
                since BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE loyalty_programmes (
                seller_id TEXT PRIMARY KEY REFERENCES users (id),
                points_per_unit INTEGER NOT NULL,
                levels TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE loyalty_entries (
                id TEXT PRIMARY KEY,
                seller_id TEXT NOT NULL REFERENCES users (id),
                debit_account TEXT NOT NULL,
                credit_account TEXT NOT NULL,
                points BIGINT NOT NULL CHECK (points > 0),
                rate INTEGER NOT NULL,
                order_id TEXT NOT NULL REFERENCES orders (id),
                reason TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX loyalty_entries_order ON loyalty_entries (order_id)",
            "CREATE INDEX loyalty_entries_credit ON loyalty_entries (credit_account)",
            "CREATE INDEX loyalty_entries_debit ON loyalty_entries (debit_account)",
        ]
    }

    /// The fraud feed shared with partner platforms (D6): the entries this instance publishes
    /// (keyed hashes only), what partners published, this instance's users' keyed hashes under the
    /// shared key (`key_id` names the key, so a new key rehashes), and the matches found.
    static let fraudFeed = Migration(version: 21, name: "fraud feed") { _ in
        [
            """
            CREATE TABLE fraud_feed_entries (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL UNIQUE REFERENCES users (id),
                email_hash TEXT,
                phone_hash TEXT,
                document_hash TEXT,
                reason TEXT NOT NULL,
                listed_on TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE fraud_feed_hashes (
                user_id TEXT NOT NULL REFERENCES users (id),
                kind TEXT NOT NULL,
                hash TEXT NOT NULL,
                key_id TEXT NOT NULL,
                PRIMARY KEY (user_id, kind)
            )
            """,
            "CREATE INDEX fraud_feed_hashes_hash ON fraud_feed_hashes (hash)",
            """
            CREATE TABLE fraud_feed_received (
                partner TEXT NOT NULL,
                entry_id TEXT NOT NULL,
                email_hash TEXT,
                phone_hash TEXT,
                document_hash TEXT,
                reason TEXT NOT NULL,
                listed_on TEXT NOT NULL,
                received_at BIGINT NOT NULL,
                PRIMARY KEY (partner, entry_id)
            )
            """,
            """
            CREATE TABLE fraud_feed_matches (
                partner TEXT NOT NULL,
                entry_id TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users (id),
                kinds TEXT NOT NULL,
                reason TEXT NOT NULL,
                listed_on TEXT NOT NULL,
                matched_at BIGINT NOT NULL,
                PRIMARY KEY (partner, entry_id, user_id)
            )
            """,
        ]
    }

    /// An entry listed in error can be withdrawn (kept, with when and why, so that the hourly job
    /// does not list it again); a partner's match whose entry left the partner's feed is kept,
    /// marked withdrawn, for the moderators who may have acted on it.
    static let fraudFeedWithdrawals = Migration(version: 22, name: "fraud feed withdrawals") { _ in
        [
            "ALTER TABLE fraud_feed_entries ADD COLUMN withdrawn_at BIGINT",
            "ALTER TABLE fraud_feed_entries ADD COLUMN withdrawal_reason TEXT",
            "ALTER TABLE fraud_feed_matches ADD COLUMN withdrawn_at BIGINT",
        ]
    }
}
