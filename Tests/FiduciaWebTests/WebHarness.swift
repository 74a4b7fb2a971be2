import FiduciaDomain
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

    static func run(
        _ kind: TestDatabaseKind = .sqlite,
        configuration: WebConfiguration = WebConfiguration(),
        _ body: @Sendable (WebHarness) async throws -> Void
    ) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services in
            let router = try await buildRouter(services: services, configuration: configuration)
            let application = Application(router: router, logger: TestDatabases.logger)
            try await application.test(.router) { client in
                try await body(WebHarness(services: services, clock: clock, client: client))
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
