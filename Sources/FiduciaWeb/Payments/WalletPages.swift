import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import Foundation
import Hummingbird

/// The user's money: balances, payouts, deposit, saved card and statements; and the
/// administrators' view of the ledger.
struct WalletPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<BasicRequestContext>) {
        router.page("/wallet") { request in try await wallet(request) }
        router.page("/wallet/payout", method: .post) { request in try await payout(request) }
        router.page("/wallet/deposit", method: .post) { request in try await deposit(request) }
        router.page("/wallet/card", method: .post) { request in try await saveCard(request) }
        router.page("/admin/ledger") { request in try await ledger(request, report: nil) }
        router.page("/admin/ledger/verify", method: .post) { request in
            struct VerifyForm: Decodable, CSRFProtectedForm { var csrfToken: String? }
            _ = try await site.form(VerifyForm.self, from: request)
            _ = try site.principal.requireRole(.admin, .moderator)
            return try await ledger(request, report: try await services.ledger.verify())
        }
    }

    struct WalletView: Sendable {
        struct BalanceRow: Sendable {
            let currency, available, heldAsBuyer, incomingAsSeller, payingOut, deposit, debt, statement: String
        }
        struct PayoutRow: Sendable { let id, amount, destination, status: String }
        struct StatementRow: Sendable { let month: String; let itemCount: Int; let total, status: String }
        let balances: [BalanceRow]
        let payouts: [PayoutRow]
        let statements: [StatementRow]
        let card: String?
        let isSeller: Bool
        let error: String?
    }

    private func wallet(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let balances = try await services.ledger.balances(of: viewer.id)
        let payouts = try await services.payments.payouts(by: site.principal)
        let statements = try await services.payments.statements(by: site.principal)
        let card = try await services.payments.savedCard(by: site.principal)
        let view = WalletView(
            balances: balances.map { balance in
                let format = { (minor: Int64) in Money.format(minor, balance.currency) }
                return .init(
                    currency: balance.currency.code, available: format(balance.availableMinor), heldAsBuyer: format(balance.heldAsBuyerMinor),
                    incomingAsSeller: format(balance.incomingAsSellerMinor), payingOut: format(balance.payingOutMinor),
                    deposit: format(balance.depositMinor), debt: format(balance.debtMinor), statement: format(balance.statementMinor)
                )
            },
            payouts: payouts.map {
                .init(id: $0.id.rawValue, amount: Money.format($0.amountMinor, $0.currency), destination: $0.destination,
                      status: $0.status.rawValue + ($0.failureReason.map { " (\($0))" } ?? ""))
            },
            statements: statements.map {
                .init(month: $0.month, itemCount: $0.itemCount, total: Money.format($0.totalMinor, $0.currency),
                      status: $0.status.rawValue + ($0.failureReason.map { " (\($0))" } ?? ""))
            },
            card: card?.label,
            isSeller: viewer.has(.seller),
            error: error
        )
        return site.renderer.render("wallet", page: view, request: request, status: status)
    }

    struct MoneyForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var amount: String?
        var currency: String?
        var destination: String?
        var source: String?
        var cardToken: String?

        func amountMinor() throws -> Int64 {
            let currency = Currency((self.currency ?? "").uppercased()) ?? Currency("EUR")!
            guard let minor = Money.parseMinor(amount ?? "", currency: currency) else {
                throw ValidationError(field: "amount", "Write the amount like 12.50.")
            }
            return minor
        }
    }

    /// Runs a money form's action; a named error re-renders the wallet with its sentence.
    private func handle(_ request: Request, notice: String, _ body: (MoneyForm) async throws -> Void) async throws -> Response {
        let form = try await site.form(MoneyForm.self, from: request)
        do {
            try await body(form)
            return PageRenderer.redirect(to: "/wallet?notice=\(notice)")
        } catch let error as any DomainError where error.kind != .unauthenticated {
            return try await wallet(request, error: error.detail, status: error.kind.httpStatus)
        }
    }

    private func payout(_ request: Request) async throws -> Response {
        try await handle(request, notice: "payout-requested") { form in
            _ = try await services.payments.requestPayout(
                currency: (form.currency ?? "").uppercased(), amountMinor: try form.amountMinor(), destination: form.destination ?? "", by: site.principal
            )
        }
    }

    private func deposit(_ request: Request) async throws -> Response {
        try await handle(request, notice: "deposit-placed") { form in
            let source: PaymentsService.Source = form.source == "balance" ? .balance : .card(token: "tok_visa")
            _ = try await services.payments.placeDeposit(currency: (form.currency ?? "").uppercased(), amountMinor: try form.amountMinor(), from: source, by: site.principal)
        }
    }

    private func saveCard(_ request: Request) async throws -> Response {
        try await handle(request, notice: "card-saved") { form in
            _ = try await services.payments.saveCard(token: form.cardToken ?? "", by: site.principal)
        }
    }

    // MARK: Administrators

    struct LedgerView: Sendable {
        struct Totals: Sendable { let currency, escrow, fees, fund, claims, users: String }
        struct TransferRow: Sendable { let at, purpose, mode, amount, reference: String }
        struct ReportView: Sendable { let clean: Bool; let transfersChecked: Int; let accountsChecked: Int; let problems: [String] }
        let transferCount: Int
        let totals: [Totals]
        let transfers: [TransferRow]
        let report: ReportView?
    }

    private func ledger(_ request: Request, report: LedgerAudit.Report?) async throws -> Response {
        _ = try site.requireViewer(request)
        _ = try site.principal.requireRole(.admin, .moderator)
        let (count, accounts, recent, held) = try await services.store.read { repositories in
            (
                try await repositories.ledger.transferCount(), try await repositories.ledger.allAccounts(),
                try await repositories.ledger.recentTransfers(limit: 25), try await repositories.orders.heldTotals()
            )
        }
        var byCurrency: [Currency: [LedgerAccountKind: Int64]] = [:]
        for account in accounts {
            byCurrency[account.currency, default: [:]][account.kind, default: 0] += account.balances.postedCreditBalance
        }
        let totals = Set(byCurrency.keys).union(held.keys).sorted().map { currency -> LedgerView.Totals in
            let kinds = byCurrency[currency] ?? [:]
            let format = { (minor: Int64) in Money.format(minor, currency) }
            return .init(
                currency: currency.code, escrow: format(held[currency] ?? 0), fees: format(kinds[.fees] ?? 0),
                fund: format(kinds[.guaranteeFund] ?? 0), claims: format(kinds[.guaranteeClaims] ?? 0),
                users: format((kinds[.available] ?? 0) + (kinds[.deposit] ?? 0))
            )
        }
        let view = LedgerView(
            transferCount: count,
            totals: totals,
            transfers: recent.map {
                .init(at: PageFormat.dateTime($0.createdAt), purpose: $0.purpose.rawValue, mode: $0.mode.storageName,
                      amount: Money.format($0.amountMinor, $0.currency), reference: $0.reference)
            },
            report: report.map { .init(clean: $0.isClean, transfersChecked: $0.transfersChecked, accountsChecked: $0.accountsChecked, problems: $0.problems) }
        )
        return site.renderer.render("admin-ledger", page: view, request: request)
    }
}
