import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import FiduciaWeb
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The real application (every middleware and route) over a real database, driven in memory.
struct WebHarness: Sendable {
    let services: AppServices
    let clock: ManualClock
    let client: any TestClientProtocol
    /// Where the test database is (a SQLite file, or a PostgreSQL database).
    var location: DatabaseLocation? = nil

    static func run(
        _ kind: TestDatabaseKind = .sqlite,
        configuration: WebConfiguration = WebConfiguration(),
        settings: ServiceSettings = .forTests,
        _ body: @Sendable (WebHarness) async throws -> Void
    ) async throws {
        let clock = ManualClock()
        try await TestDatabases.withDatabase(kind) { database, location in
            let services = AppServices(database: database, vault: try await TestDatabases.vault(database), settings: settings, clock: clock)
            let router = try await buildRouter(services: services, configuration: configuration)
            let application = Application(router: router, logger: TestDatabases.logger)
            try await application.test(.router) { client in
                try await body(WebHarness(services: services, clock: clock, client: client, location: location))
            }
        }
    }

    @discardableResult
    func request(
        _ method: HTTPRequest.Method,
        _ path: String,
        json: String? = nil,
        token: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> TestResponse {
        var fields = HTTPFields()
        if json != nil { fields[.contentType] = "application/json" }
        if let token { fields[.authorization] = "Bearer \(token)" }
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return try await client.executeRequest(uri: path, method: method, headers: fields, body: json.map { ByteBuffer(string: $0) })
    }

    /// Signs up through the API and returns the new user's id.
    @discardableResult
    func signUp(_ name: String, roles: [String] = ["buyer"], password: String = "correct horse battery") async throws -> String {
        let roleList = roles.map { "\"\($0)\"" }.joined(separator: ",")
        let response = try await request(.post, "/v1/users", json: #"{"email":"\#(name)@example.com","password":"\#(password)","displayName":"\#(name)","roles":[\#(roleList)]}"#)
        try #require(response.status == .created, "sign-up failed: \(response.text)")
        return try #require(response.object["id"] as? String)
    }

    /// Logs in through the API and returns the bearer token.
    func logIn(_ name: String, password: String = "correct horse battery") async throws -> String {
        let response = try await request(.post, "/v1/sessions", json: #"{"email":"\#(name)@example.com","password":"\#(password)"}"#)
        try #require(response.status == .created, "log-in failed: \(response.text)")
        return try #require(response.object["token"] as? String)
    }

    /// A signed-up user's id and token.
    func user(_ name: String, roles: [String] = ["buyer"]) async throws -> (id: String, token: String) {
        let id = try await signUp(name, roles: roles)
        return (id, try await logIn(name))
    }

    /// An administrator's token (made with the same service as `fiducia admin create`).
    func administrator() async throws -> String {
        _ = try await services.accounts.ensureAdministrator(email: "root@example.com", password: "correct horse battery", displayName: "Root")
        return try await logIn("root")
    }

    func userCount() async throws -> Int {
        try await services.store.read { try await $0.users.count() }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body parsed as a JSON object (empty when it is not one).
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    var problemType: String? { object["type"] as? String }

    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

extension WebHarness {
    /// A trade through the API from creation to confirmed receipt; returns the order id.
    func completedTrade(buyer: String, seller: (id: String, token: String), priceMinor: Int = 2_500) async throws -> String {
        let body = #"{"sellerId":"\#(seller.id)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":\#(priceMinor)}]}"#
        let order = try await request(.post, "/v1/orders", json: body, token: buyer)
        let id = try #require(order.object["id"] as? String, "\(order.text)")
        try #require(try await request(.post, "/v1/orders/\(id)/payment", json: #"{"method":"card","cardToken":"tok_visa"}"#, token: buyer).status == .ok)
        try #require(try await request(.post, "/v1/orders/\(id)/shipment", json: #"{"carrier":"X","trackingNumber":"1"}"#, token: seller.token).status == .ok)
        try #require(try await request(.post, "/v1/orders/\(id)/receipt-confirmation", token: buyer).status == .ok)
        return id
    }
}

/// A browser without JavaScript over the harness: a cookie jar, and forms posted with their CSRF token.
struct PageBrowser {
    let web: WebHarness
    var cookies: [String: String] = [:]

    init(web: WebHarness) {
        self.web = web
    }

    var cookieHeader: String { cookies.filter { !$0.value.isEmpty }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

    mutating func visit(_ method: HTTPRequest.Method, _ path: String, form: [String: String]? = nil) async throws -> TestResponseLike {
        var headers = ["Cookie": cookieHeader]
        if form != nil { headers["Content-Type"] = "application/x-www-form-urlencoded" }
        let response = try await web.client.executeRequest(
            uri: path, method: method,
            headers: HTTPFields(headers.filter { !$0.value.isEmpty }.map { HTTPField(name: HTTPField.Name($0.key)!, value: $0.value) }),
            body: form.map { .init(string: Self.form($0)) }
        )
        let like = TestResponseLike(response)
        for header in like.setCookies {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) } else if pair.count == 1 { cookies[String(pair[0])] = "" }
        }
        return like
    }

    /// Posts a form found on `page` (fetched first for its CSRF token) to `action`.
    mutating func submit(on page: String, to action: String, _ fields: [String: String]) async throws -> TestResponseLike {
        let token = try #require(Self.csrfToken(in: try await visit(.get, page).text), "no form on \(page)")
        return try await visit(.post, action, form: fields.merging(["csrfToken": token]) { own, _ in own })
    }

    mutating func logIn(_ name: String, password: String = "correct horse battery") async throws {
        let response = try await submit(on: "/login", to: "/login", ["email": "\(name)@example.com", "password": password])
        try #require(response.status == .seeOther, "log-in failed: \(response.text)")
    }

    static func csrfToken(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrfToken" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func form(_ fields: [String: String]) -> String {
        fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
    }
}

/// What the page tests read of a response.
struct TestResponseLike {
    let status: HTTPResponse.Status
    let text: String
    let location: String?
    let setCookies: [String]

    init(_ response: TestResponse) {
        status = response.status
        text = String(buffer: response.body)
        location = response.headers[.location]
        setCookies = response.headers[values: .setCookie]
    }
}
