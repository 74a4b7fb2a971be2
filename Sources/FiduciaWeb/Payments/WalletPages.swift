import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The user's money: balances (with the payout reserve), payouts, deposit, saved card and statements.
struct WalletPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/wallet") { request in try await wallet(request) }
        router.page("/wallet/payout", method: .post) { request in try await payout(request) }
        router.page("/wallet/deposit", method: .post) { request in try await deposit(request) }
        router.page("/wallet/deposit/withdrawal", method: .post) { request in try await withdrawDeposit(request) }
        router.page("/wallet/card", method: .post) { request in try await saveCard(request) }
    }

    struct WalletView: Sendable {
        struct BalanceRow: Sendable {
            let currency, available, withdrawable, reserved, heldAsBuyer, incomingAsSeller, payingOut, refundingToCard, deposit, debt, statement: String
            let reserveExplanation: String?
        }
        struct PayoutRow: Sendable { let id, amount, destination, status: String }
        struct StatementRow: Sendable { let month: String; let itemCount: Int; let total, status: String }
        /// A deposit, and why it cannot be withdrawn yet (nil: it can).
        struct DepositRow: Sendable { let currency, amount: String; let hold: String? }
        let balances: [BalanceRow]
        let payouts: [PayoutRow]
        let statements: [StatementRow]
        let deposits: [DepositRow]
        let card: String?
        let isSeller: Bool
        /// The payment provider's test cards, when it is the sandbox (a hint beside the card fields).
        let testCards: [String]
        let error: String?
    }

    private func wallet(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let balances = try await services.ledger.balances(of: viewer.id)
        let payouts = try await services.payments.payouts(by: site.principal)
        let statements = try await services.payments.statements(by: site.principal)
        let card = try await services.payments.savedCard(by: site.principal)
        var deposits: [WalletView.DepositRow] = []
        for balance in balances where balance.depositMinor > 0 {
            let hold = try await services.payments.depositWithdrawalHold(currency: balance.currency, depositMinor: balance.depositMinor, by: site.principal)
            deposits.append(.init(currency: balance.currency.code, amount: Money.format(balance.depositMinor, balance.currency), hold: hold?.detail))
        }
        let view = WalletView(
            balances: balances.map { balance in
                let format = { (minor: Int64) in Money.format(minor, balance.currency) }
                return .init(
                    currency: balance.currency.code, available: format(balance.availableMinor), withdrawable: format(balance.withdrawableMinor),
                    reserved: format(balance.reservedMinor), heldAsBuyer: format(balance.heldAsBuyerMinor),
                    incomingAsSeller: format(balance.incomingAsSellerMinor), payingOut: format(balance.payingOutMinor),
                    refundingToCard: format(balance.refundingToCardMinor), deposit: format(balance.depositMinor), debt: format(balance.debtMinor),
                    statement: format(balance.statementMinor), reserveExplanation: balance.reservedMinor > 0 ? balance.reserveExplanation : nil
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
            deposits: deposits,
            card: card?.label,
            isSeller: viewer.has(.seller),
            testCards: services.payments.provider.name == "sandbox" ? SandboxPaymentProvider.testCards : [],
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

        /// The amount in minor units of the form's currency; an unknown currency is refused, never
        /// replaced by a default.
        func amountMinor() throws -> Int64 {
            guard let currency = Currency((self.currency ?? "").uppercased()) else {
                throw ValidationError(field: "currency", "The currency must be an ISO 4217 code such as EUR.")
            }
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
            let source: PaymentsService.Source = form.source == "balance" ? .balance : .card(token: form.cardToken ?? "")
            _ = try await services.payments.placeDeposit(currency: (form.currency ?? "").uppercased(), amountMinor: try form.amountMinor(), from: source, by: site.principal)
        }
    }

    private func withdrawDeposit(_ request: Request) async throws -> Response {
        try await handle(request, notice: "deposit-withdrawn") { form in
            _ = try await services.payments.withdrawDeposit(currency: (form.currency ?? "").uppercased(), amountMinor: try form.amountMinor(), by: site.principal)
        }
    }

    private func saveCard(_ request: Request) async throws -> Response {
        try await handle(request, notice: "card-saved") { form in
            _ = try await services.payments.saveCard(token: form.cardToken ?? "", by: site.principal)
        }
    }
}
