import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The administrators' view of the ledger: totals, the latest transfers, and verification on demand.
struct AdminLedgerPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/admin/ledger") { request in try await ledger(request, report: nil) }
        router.page("/admin/ledger/verify", method: .post) { request in
            struct VerifyForm: Decodable, CSRFProtectedForm { var csrfToken: String? }
            _ = try await site.form(VerifyForm.self, from: request)
            _ = try site.principal.requireRole(.admin, .moderator)
            return try await ledger(request, report: try await services.ledger.verify())
        }
    }

    struct LedgerView: Sendable {
        struct Totals: Sendable { let currency, escrow, fees, fund, claims, users: String }
        struct TransferRow: Sendable { let at, purpose, mode, amount, reference: String }
        struct Finding: Sendable { let code, message: String }
        struct ReportView: Sendable { let clean: Bool; let transfersChecked: Int; let accountsChecked: Int; let findings: [Finding] }
        let transferCount: Int
        let totals: [Totals]
        let transfers: [TransferRow]
        let report: ReportView?
    }

    private func ledger(_ request: Request, report: LedgerAudit.Report?) async throws -> Response {
        _ = try site.requireViewer(request)
        let overview = try await services.ledger.overview(by: site.principal)
        let view = LedgerView(
            transferCount: overview.transferCount,
            totals: overview.totals.map { totals in
                let format = { (minor: Int64) in Money.format(minor, totals.currency) }
                return .init(
                    currency: totals.currency.code, escrow: format(totals.escrowMinor), fees: format(totals.feesMinor),
                    fund: format(totals.fundMinor), claims: format(totals.claimsMinor), users: format(totals.usersMinor)
                )
            },
            transfers: overview.recent.map {
                .init(at: PageFormat.dateTime($0.createdAt), purpose: $0.purpose.rawValue, mode: $0.mode.storageName,
                      amount: Money.format($0.amountMinor, $0.currency), reference: $0.reference)
            },
            report: report.map {
                .init(clean: $0.isClean, transfersChecked: $0.transfersChecked, accountsChecked: $0.accountsChecked,
                      findings: $0.findings.map { .init(code: $0.code.rawValue, message: $0.message) })
            }
        )
        return site.renderer.render("admin-ledger", page: view, request: request)
    }
}
