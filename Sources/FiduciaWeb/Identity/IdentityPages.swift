import FiduciaDomain
import FiduciaServices
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The verification centre, a seal's public verification page and badge, and the published keys
/// and revocation list.
struct IdentityPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/verifications") { request in try await centre(request) }
        router.page("/verifications", method: .post) { request in try await start(request) }
        router.page("/verifications/origins", method: .post) { request in try await saveOrigins(request) }
        router.page("/verifications/{id}/code", method: .post) { request in try await code(request) }
        router.page("/verifications/{id}/document", method: .post) { request in try await document(request) }
        router.page("/seals/{id}") { request in try await seal(request) }
        router.get("/seals/{id}/badge.svg") { request, context in try await badge(request, id: context.parameters.get("id") ?? "") }
        router.get("/.well-known/fiducia/keys.json") { _, _ in try await json(services.seals.publishedKeys()) }
        router.get("/.well-known/fiducia/revocations.json") { _, _ in try await json(services.seals.revocationList()) }
    }

    private func json(_ value: JSONValue) throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "public, max-age=60", HTTPField.Name("Access-Control-Allow-Origin")!: "*"],
            body: .init(byteBuffer: ByteBuffer(string: try CanonicalJSON.string(value)))
        )
    }

    // MARK: Verification centre

    struct Row: Sendable {
        let id, level, state, stateClass, created: String
        let expires, reason, sentTo: String?
        let awaitingCode, awaitingDocument, renewalDue: Bool
    }
    struct LevelChoice: Sendable { let value, label: String; let fields: [Field]; let verified: Bool }
    struct Field: Sendable { let name, label: String }
    struct OwnSeal: Sendable { let id, certifierName, status, statusClass, validUntil, embed: String }
    struct CentreView: Sendable {
        let rows: [Row]
        let levels: [LevelChoice]
        let isSeller: Bool
        let origins: [String]
        let seals: [OwnSeal]
        let error: String?
    }

    static func fieldLabel(_ name: String) -> String {
        switch name {
        case "phone": "Phone number (international form, e.g. +49 151 2345 6789)"
        case "fullName": "Full name as on the document"
        case "documentNumber": "Document number"
        case "companyName": "Registered company name"
        case "licenceNumber": "Business licence number"
        case "taxRegistration": "Tax registration (VAT) number"
        default: name
        }
    }

    private func centre(_ request: Request, error: String? = nil, sentTo: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let mine = try await services.identity.mine(by: site.principal)
        let now = services.clock.now()
        let verified = VerificationRules.verifiedLevels(mine, at: now)
        let rows = mine.map { verification in
            let state = verification.state(at: now)
            return Row(
                id: verification.id.rawValue, level: verification.level.label, state: Self.stateLabel(state),
                stateClass: state == .approved ? "good" : state == .rejected || state == .expired ? "bad" : "warn",
                created: PageFormat.dateTime(verification.createdAt), expires: verification.expiresAt.map(PageFormat.date), reason: verification.reason,
                sentTo: state == .awaitingCode ? sentTo : nil, awaitingCode: state == .awaitingCode, awaitingDocument: state == .awaitingDocument,
                renewalDue: verification.isDueForRenewal(at: now)
            )
        }
        let levels = VerificationLevel.allCases.map { level in
            LevelChoice(
                value: level.rawValue, label: level.label,
                fields: VerificationRules.requiredDetails(level).map { Field(name: $0, label: Self.fieldLabel($0)) }, verified: verified.contains(level)
            )
        }
        let isSeller = viewer.has(.seller)
        let seals = isSeller ? try await services.seals.seals(of: viewer.id) : []
        let certifiers = try await services.accounts.users(seals.map(\.certifierID))
        let view = CentreView(
            rows: rows, levels: levels, isSeller: isSeller, origins: isSeller ? try await services.seals.origins(of: viewer.id) : [],
            seals: seals.map { seal in
                let state = seal.status(at: now)
                return OwnSeal(
                    id: seal.id.rawValue, certifierName: certifiers[seal.certifierID]?.displayName ?? "",
                    status: Self.sealStatus(state).label, statusClass: Self.sealStatus(state).cssClass,
                    validUntil: PageFormat.date(seal.validUntil), embed: Self.embedSnippet(seal.id, base: services.settings.publicURL)
                )
            },
            error: error
        )
        return site.renderer.render("verifications", page: view, request: request, status: status)
    }

    /// A seal's status as pages show it: its label and the status badge's class.
    static func sealStatus(_ status: Seal.Status) -> (label: String, cssClass: String) {
        switch status {
        case .valid: ("Valid", "good")
        case .revoked: ("Revoked", "bad")
        case .expired: ("Expired", "bad")
        }
    }

    /// The HTML a merchant pastes into their shop: the badge, linked to the seal's verification page.
    static func embedSnippet(_ id: SealID, base: String) -> String {
        let root = base.hasSuffix("/") ? String(base.dropLast()) : base
        return #"<a href="\#(root)/seals/\#(id.rawValue)"><img src="\#(root)/seals/\#(id.rawValue)/badge.svg" width="260" height="60" alt="Certification seal: check it on Fiducia"></a>"#
    }

    struct OriginsForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var origins: String?
    }

    private func saveOrigins(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(OriginsForm.self, from: request)
        do {
            _ = try await services.seals.registerOrigins(PageFormat.lines(form.origins), by: site.principal)
            return PageRenderer.redirect(to: "/verifications?notice=origins-saved#shop")
        } catch let error as any DomainError where error.kind != .unauthenticated {
            return try await centre(request, error: error.fieldErrors.first.map { "\($0.field): \($0.message)" } ?? error.detail, status: error.kind.httpStatus)
        }
    }

    static func stateLabel(_ state: Verification.State) -> String {
        switch state {
        case .awaitingCode: "Waiting for the code"
        case .awaitingDocument: "Waiting for the document"
        case .pending: "With a moderator"
        case .approved: "Verified"
        case .rejected: "Refused"
        case .expired: "Expired"
        }
    }

    struct StartForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var level, phone, fullName, documentNumber, companyName, licenceNumber, taxRegistration: String?
    }

    private func start(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(StartForm.self, from: request)
        do {
            guard let level = VerificationLevel(rawValue: form.level ?? "") else { throw ValidationError(field: "level", "Choose what to verify.") }
            let given: [String: String?] = [
                "phone": form.phone, "fullName": form.fullName, "documentNumber": form.documentNumber, "companyName": form.companyName,
                "licenceNumber": form.licenceNumber, "taxRegistration": form.taxRegistration,
            ]
            let wanted = Set(VerificationRules.requiredDetails(level))
            let details = given.compactMapValues { $0 }.filter { wanted.contains($0.key) }
            let started = try await services.identity.start(level, details: details, by: site.principal)
            return try await centre(request, sentTo: started.sentTo)
        } catch let error as any DomainError where error.kind != .unauthenticated {
            return try await centre(request, error: error.fieldErrors.first.map { "\($0.field): \($0.message)" } ?? error.detail, status: error.kind.httpStatus)
        }
    }

    struct CodeForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var code: String?
    }

    private func code(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(CodeForm.self, from: request)
        do {
            _ = try await services.identity.submitCode(VerificationID(try request.pathSegment(1)), code: form.code ?? "", by: site.principal)
            return PageRenderer.redirect(to: "/verifications")
        } catch let error as any DomainError where error.kind != .unauthenticated && error.kind != .notFound {
            return try await centre(request, error: error.detail, status: error.kind.httpStatus)
        }
    }

    private func document(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.multipartForm(from: request)
        do {
            guard let file = form.files.first else { throw VerificationError.documentRequired }
            _ = try await services.identity.uploadDocument(VerificationID(try request.pathSegment(1)), bytes: file.bytes, by: site.principal)
            return PageRenderer.redirect(to: "/verifications")
        } catch let error as any DomainError where error.kind != .unauthenticated && error.kind != .notFound {
            return try await centre(request, error: error.detail, status: error.kind.httpStatus)
        }
    }

    // MARK: Seals

    struct SealView: Sendable {
        let id, merchantName, merchantId, certifierName, issued, validUntil, status, statusClass: String
        let checks: [String]
        let origins: [String]
        let revocation: String?
        let document: String
    }

    private func seal(_ request: Request) async throws -> Response {
        let shown = try await services.seals.seal(SealID(try request.pathSegment(1)))
        let view = SealView(
            id: shown.seal.id.rawValue, merchantName: shown.merchantName, merchantId: shown.seal.merchantID.rawValue, certifierName: shown.certifierName,
            issued: PageFormat.date(shown.seal.issuedAt), validUntil: PageFormat.date(shown.seal.validUntil),
            status: Self.sealStatus(shown.status).label, statusClass: Self.sealStatus(shown.status).cssClass,
            checks: shown.seal.checks, origins: shown.origins,
            revocation: shown.seal.revokedAt.map { "Revoked on \(PageFormat.date($0)): \(shown.seal.revocationReason ?? "")" }, document: shown.seal.document
        )
        return site.renderer.render("seal", page: view, request: request)
    }

    /// The embeddable seal badge. It says "verified" only when the seal is valid and the page that
    /// shows it is one of the merchant's registered shop origins (the browser's `Origin`, or the
    /// origin of its `Referer`); copied to another site it says "not verified for this site".
    private func badge(_ request: Request, id: String) async throws -> Response {
        let origin = request.headers[.origin] ?? request.headers[.referer].flatMap { referer in
            URL(string: referer).flatMap { url in url.scheme.flatMap { scheme in url.host.map { "\(scheme)://\($0)\(url.port.map { ":\($0)" } ?? "")" } } }
        }
        let (shown, verified) = try await services.seals.badge(SealID(id), requestOrigin: origin)
        let name = Charts.escape(String(shown.merchantName.prefix(24)))
        let certifier = Charts.escape(String(shown.certifierName.prefix(28)))
        let (color, line) =
            verified ? ("#1a7f37", "Certified by \(certifier)")
            : shown.status != .valid ? ("#cf222e", "Seal \(shown.status.rawValue)") : ("#cf222e", "Not verified for this site")
        let svg = #"""
            <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="260" height="60" viewBox="0 0 260 60" role="img" aria-label="\#(name): \#(line)">
            <title>\#(name): \#(line)</title>
            <a xlink:href="/seals/\#(Charts.escape(id))" target="_top">
            <rect width="260" height="60" rx="8" fill="#ffffff" stroke="\#(color)" stroke-width="2"/>
            <text x="14" y="25" font-family="sans-serif" font-size="13" font-weight="700" fill="#1b1f24">\#(name)</text>
            <text x="14" y="45" font-family="sans-serif" font-size="11" fill="\#(color)">\#(line)</text>
            </a>
            </svg>
            """#
        return Response(
            status: .ok,
            headers: [
                .contentType: "image/svg+xml; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("Vary")!: "Origin, Referer",
                HTTPField.Name("Cross-Origin-Resource-Policy")!: "cross-origin", .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: svg))
        )
    }
}
