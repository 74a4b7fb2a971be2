import Foundation

/// What Fiducia collects about a person and why (G2), as versioned notices. A person accepts the
/// current version at sign-up and again when a new one takes effect; every acceptance is kept.
public struct PrivacyNotice: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public let what, why, kept: String
    }

    public let version: Int
    /// `YYYY-MM-DD`.
    public let effective: String
    /// What changed from the version before.
    public let changes: String
    public let items: [Item]

    public static let versions: [PrivacyNotice] = [
        PrivacyNotice(version: 1, effective: "2026-11-24", changes: "The first notice.", items: [
            Item(what: "Your e-mail address and your password's hash",
                 why: "To sign you in and to write to you about your orders. The address is encrypted with a key of your own.",
                 kept: "Until you delete your account."),
            Item(what: "Your display name",
                 why: "Shown with your ratings, offers and posts, so that others know whom they trade with.",
                 kept: "Until you delete your account; then it becomes \"Deleted account\"."),
            Item(what: "Orders, payments, refunds and the ledger records of money you moved",
                 why: "Escrow: to hold and release money, settle disputes and meet bookkeeping law.",
                 kept: "As long as the law requires (commonly 10 years), also after you delete your account."),
            Item(what: "Ratings you give and receive, replies, community posts, messages on orders",
                 why: "Reputation and dispute evidence; published ratings are also in the public tamper-evident rating log.",
                 kept: "Kept after deletion under a pseudonym (your account id, no name or e-mail)."),
            Item(what: "Verification details and identity documents",
                 why: "To show buyers who is behind an account, when you ask for a verification.",
                 kept: "Until they expire or you delete your account; they are encrypted with your key, which deletion destroys."),
            Item(what: "Disputes, reports, penalties and appeals",
                 why: "To protect buyers and sellers and to apply the published rules.",
                 kept: "As long as their consequences last, and in the staff audit log."),
            Item(what: "Sessions (when you signed in, from which kind of client) and failed sign-ins by network address",
                 why: "To keep your account safe and to slow down password guessing.",
                 kept: "Sessions until they expire; failed sign-ins for 15 minutes."),
            Item(what: "Friends, blocks and trust lists",
                 why: "So that your friends' experience reaches you before you pay.",
                 kept: "Until you remove them or delete your account."),
        ]),
    ]

    public static var current: PrivacyNotice { versions[versions.count - 1] }

    public static func version(_ number: Int) -> PrivacyNotice? { versions.first { $0.version == number } }
}

/// Why an account cannot be deleted yet, or why a data-rights request is refused.
public enum DataRightsError: DomainError, Equatable {
    /// Orders, disputes, money or payouts that must be finished first, in words.
    case unfinished([String])
    case staffAccount
    case noticeNotCurrent(current: Int)
    case accountDeleted

    public var kind: FailureKind {
        switch self {
        case .unfinished: .conflict
        case .staffAccount, .noticeNotCurrent: .unprocessable
        case .accountDeleted: .unauthenticated
        }
    }

    public var code: String {
        switch self {
        case .unfinished: "unfinished-business"
        case .staffAccount: "staff-account"
        case .noticeNotCurrent: "privacy-notice-not-current"
        case .accountDeleted: "account-deleted"
        }
    }

    public var title: String {
        switch self {
        case .unfinished: "Finish these first"
        case .staffAccount: "Staff accounts are not deleted this way"
        case .noticeNotCurrent: "Not the current privacy notice"
        case .accountDeleted: "Account deleted"
        }
    }

    public var detail: String {
        switch self {
        case .unfinished(let things): "The account can be deleted once nothing is left open: \(things.joined(separator: "; "))."
        case .staffAccount: "Another administrator removes your staff roles first (setUserRoles), so that no decision loses the person answerable for it."
        case .noticeNotCurrent(let current): "The privacy notice in force is version \(current); read and accept that one."
        case .accountDeleted: "This account was deleted by its owner."
        }
    }
}

/// What stands in the way of deleting an account: counted by the service, judged here.
public struct DeletionObstacles: Sendable {
    public var openOrders = 0
    public var openDisputes = 0
    public var pendingAppeals = 0
    public var openStatements = 0
    public var pendingPayouts = 0
    /// Money still in the person's accounts, by what it is: a balance (or a hold on it) to pay
    /// out, a security deposit, a debt to the guarantee fund.
    public var money: [(kind: LedgerAccountKind, amount: Money)] = []

    public init() {}

    /// What is left open, in words (empty: the account may be deleted).
    public var unfinished: [String] {
        var things: [String] = []
        func count(_ n: Int, _ one: String, _ many: String) { if n > 0 { things.append(n == 1 ? "1 \(one)" : "\(n) \(many)") } }
        count(openOrders, "order not yet completed, cancelled or refunded", "orders not yet completed, cancelled or refunded")
        count(openDisputes, "dispute not yet resolved", "disputes not yet resolved")
        count(pendingAppeals, "appeal not yet decided", "appeals not yet decided")
        count(openStatements, "monthly statement not yet settled", "monthly statements not yet settled")
        count(pendingPayouts, "payout on its way", "payouts on their way")
        for (kind, amount) in money {
            switch kind {
            case .deposit:
                things.append("a security deposit of \(amount) to withdraw (from your wallet, once it backs no sale) and pay out")
            case .debt: things.append("a debt of \(amount) to the buyer guarantee fund")
            default: things.append("a balance of \(amount) to pay out (or money on its way)")
            }
        }
        return things
    }

    public func check() throws(DataRightsError) {
        let things = unfinished
        if !things.isEmpty { throw .unfinished(things) }
    }
}
