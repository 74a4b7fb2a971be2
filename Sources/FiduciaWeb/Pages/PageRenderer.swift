import FiduciaDomain
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The data every page's layout needs, around the page's own data.
struct PageView<Page>: Sendable where Page: Sendable {
    let viewer: ViewerView?
    let csrfToken: String
    let notice: String?
    /// What the operators say about an incident in progress, on every page.
    let incident: String?
    let page: Page
}

/// The signed-in person, as the layout shows them.
struct ViewerView: Sendable {
    let id: String
    let displayName: String
    let isStaff: Bool
    let isSeller: Bool
    let isBuyer: Bool
    let isCertifier: Bool

    init(_ user: User) {
        id = user.id.rawValue
        displayName = user.displayName
        isStaff = user.isStaff
        isSeller = user.has(.seller)
        isBuyer = user.has(.buyer)
        isCertifier = user.has(.certifier)
    }
}

/// Renders the Mustache templates shipped in `Resources/Templates`.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let csrf: CSRFProtection

    static func load(csrf: CSRFProtection) async throws -> PageRenderer {
        let directory = Bundle.module.bundleURL.appendingPathComponent("Resources/Templates").path
        let library = try await MustacheLibrary(directory: directory)
        // Fail at start-up, not on the first page view, if the templates are not where they belong.
        guard library.getTemplate(named: "layout") != nil else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: directory])
        }
        return PageRenderer(library: library, csrf: csrf)
    }

    /// Renders `template` with `page` for the current request, with the viewer, a CSRF token (and
    /// its cookie when the browser has none yet) and an optional notice.
    func render<Page: Sendable>(
        _ template: String,
        page: Page,
        request: Request,
        status: HTTPResponse.Status = .ok,
        notice: String? = nil
    ) -> Response {
        let (token, cookie) = csrf.token(for: request)
        let view = PageView(
            viewer: RequestScope.current.principal.actingUser.map(ViewerView.init),
            csrfToken: token,
            notice: notice ?? Notices.message(for: request.uri.queryParameters["notice"].map(String.init)),
            incident: RequestScope.current.incident.map(\.reason),
            page: page
        )
        guard let html = library.render(view, withTemplate: template) else {
            preconditionFailure("missing template \(template)")
        }
        var response = Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
        if let cookie { response.setCookie(cookie) }
        return response
    }

    /// The page shown to people for a problem (the API gets problem+json instead).
    func errorPage(_ problem: Problem, request: Request) -> Response {
        struct ErrorPage: Sendable {
            let title: String
            let detail: String
            let status: Int
            let requestId: String
        }
        let page = ErrorPage(title: problem.title, detail: problem.detail, status: problem.status, requestId: RequestScope.current.requestID)
        return render("error", page: page, request: request, status: .init(code: problem.status))
    }

    /// A 303 redirect after a successful form post, so that reloading does not post again.
    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// `candidate` when it is a path on this site as a browser will read it, else nil. Browsers
    /// drop tabs and line breaks from a URL and read `\` as `/`, so `/\t/evil.example` or
    /// `/\\evil.example` would lead to another site: any control character, white space, backslash,
    /// `//` at the start, or scheme is refused.
    static func localPath(_ candidate: String?) -> String? {
        guard let candidate, candidate.hasPrefix("/"), !candidate.hasPrefix("//"), !candidate.contains("\\"), !candidate.contains("://"),
            !candidate.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control })
        else { return nil }
        return candidate
    }
}

/// Short messages shown after a redirect. Only known keys are shown, so a link cannot put
/// arbitrary text on the page.
enum Notices {
    static func message(for key: String?) -> String? {
        switch key {
        case "welcome": "Welcome to Fiducia! Your account is ready."
        case "logged-in": "You are logged in."
        case "logged-out": "You are logged out."
        case "privacy-changed": "The privacy notice changed since you last accepted it. Please read what changed and accept it."
        case "privacy-accepted": "Thank you: the privacy notice in force is accepted."
        case "feedback-received": "Thank you. Your feedback reached the moderators; nothing about you was kept with it."
        case "feedback-read": "Marked as read."
        case "commitments-saved": "Your service commitments are published; measuring starts now."
        case "loyalty-saved": "Your loyalty programme is saved. Orders completed from now on earn points at this rate."
        case "incident-started": "Incident mode is on: payouts and new orders are paused, and everyone else was signed out."
        case "incident-ended": "Incident mode is off: payouts and new orders resume."
        case "account-deleted": "Your account is deleted. Thank you for having traded here."
        case "order-created": "Order created. Check the seller and the terms, then pay: your money is held in escrow."
        case "paid": "Paid. Your money is held in escrow until you confirm receipt."
        case "shipped": "Marked as shipped. The buyer has been given the tracking number."
        case "tracking-added": "Tracking update added."
        case "confirmed": "Receipt confirmed. The money was released to the seller."
        case "extended": "The confirmation period was extended."
        case "refund-requested": "Refund requested. Automatic completion is paused until the seller answers."
        case "refunded": "Refunded. The money returns to where the buyer paid from; anything still held stays held."
        case "decision-executed": "Decision recorded and carried out."
        case "decision-awaiting-approval": "Decision recorded. It moves more than the approval threshold, so it waits for a second staff member."
        case "decision-rejected": "Decision rejected; nothing moved."
        case "decision-failed": "Decision approved, but the order no longer allows it; nothing moved."
        case "cancelled": "The order was cancelled."
        case "payout-requested": "Payout requested. The amount is held until the bank confirms."
        case "deposit-placed": "Deposit placed."
        case "deposit-withdrawn": "The deposit went back to your available balance."
        case "card-saved": "Card saved."
        case "experience-shared": "Shared with your friends. They see it in their feed and on this merchant's community page."
        case "external-linked": "Linked. You can now sign in with that account too."
        case "external-unlinked": "Unlinked."
        case "verification-decided": "Decision recorded; the person sees it in their verification centre."
        case "origins-saved": "Shop addresses saved. Your badges say \u{201C}verified\u{201D} on these sites only."
        case "seal-issued": "Seal issued and signed. The merchant's badge and score show it now."
        case "seal-revoked": "Seal revoked. It is in the signed revocation list and the badge says so."
        case "policy-saved": "After-sales policy saved. New orders get it."
        case "rated": "Thank you. Your rating stays hidden until the other party rates too or the window closes; then both are published together."
        case "replied": "Your reply is published beside the rating."
        case "message-sent": "Message sent."
        case "dispute-opened": "Dispute opened. The money stays frozen; the seller has until the deadline below to answer."
        case "dispute-answered": "Your answer was sent."
        case "dispute-offer-accepted": "Accepted."
        case "dispute-escalated": "A moderator will look at the dispute."
        case "dispute-withdrawn": "Dispute withdrawn; the order goes on."
        case "dispute-taken": "You took the dispute."
        case "evidence-requested": "Evidence requested; the party has 48 hours."
        case "settlement-proposed": "Settlement proposed to both parties."
        case "dispute-ruled": "Ruling recorded; the money moved."
        case "return-shipped": "Return recorded; the seller confirms when the goods arrive."
        case "return-confirmed": "Return confirmed; the buyer is refunded."
        case "evidence-added": "Evidence added."
        case "report-filed": "Report sent. A moderator will review it; the outcome appears here."
        case "report-resolved": "Report resolved; the reporter sees the outcome and its reasons."
        case "appeal-filed": "Appeal filed. A moderator who did not decide the penalty will review it."
        case "appeal-decided": "Appeal decided."
        case "penalty-applied": "Penalty applied and published with its reasons."
        default: nil
        }
    }
}
