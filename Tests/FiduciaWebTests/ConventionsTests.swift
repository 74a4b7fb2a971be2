import FiduciaAPI
import FiduciaDomain
import FiduciaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("HTTP conventions")
struct ConventionsTests {
    /// Each of these is refused with a 4xx problem, and none writes anything.
    @Test(arguments: TestDatabases.kinds)
    func badInputGetsAProblemAndChangesNothing(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let cases: [(String, HTTPRequest.Method, String?, [String: String], Int, String)] = [
                ("/v1/users", .post, "{not json", [:], 400, "malformed-request"),
                ("/v1/users", .post, "[]", [:], 400, "malformed-request"),
                ("/v1/users", .post, #"{"email":"a@b.co"}"#, [:], 400, "validation-failed"),
                ("/v1/users", .post, #"{"email":42,"displayName":"A","password":"correct horse"}"#, [:], 400, "validation-failed"),
                ("/v1/users", .post, #"{"email":"a@b.co","displayName":"A","password":"correct horse","roles":["king"]}"#, [:], 400, "validation-failed"),
                ("/v1/users", .post, #"{"email":"a@b.co","displayName":"A","password":"correct horse","surprise":1}"#, [:], 400, "validation-failed"),
                // No body at all reads as {}: every missing field is named.
                ("/v1/users", .post, nil, [:], 400, "validation-failed"),
                ("/v1/users", .post, #"{"email":"a@b.co","displayName":"A","password":"correct horse"}"#, ["Authorization": "Basic YTpi"], 401, "invalid-token"),
                ("/v1/users", .post, #"{"email":"a@b.co","displayName":"A","password":"correct horse"}"#, ["Authorization": "Bearer fs_nope"], 401, "invalid-token"),
                ("/v1/nothing-here", .get, nil, [:], 404, "route-not-found"),
                ("/v1/users/me", .get, nil, [:], 401, "authentication-required"),
                ("/v1/users", .post, String(repeating: "x", count: 70_000), [:], 413, "body-too-large"),
            ]
            for (path, method, body, headers, status, code) in cases {
                let response = try await web.request(method, path, json: body, headers: headers)
                #expect(response.status.code == status, "\(method) \(path) \(body?.prefix(40) ?? "")")
                #expect(response.problemType == "/problems/\(code)", "\(method) \(path): \(response.text)")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.object["requestId"] as? String == response.header("X-Request-Id"))
                #expect((response.object["detail"] as? String)?.isEmpty == false)
            }
            let wrongType = try await web.request(.post, "/v1/users", headers: ["Content-Type": "text/plain"])
            #expect(wrongType.status.code == 415, "\(wrongType.text)")
            #expect(wrongType.problemType == "/problems/unsupported-media-type")
            #expect(try await web.userCount() == 0)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func idempotencyKeyReplaysTheFirstResponse(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let body = #"{"email":"ann@example.com","password":"correct horse battery","displayName":"Ann"}"#
            let first = try await web.request(.post, "/v1/users", json: body, headers: ["Idempotency-Key": "signup-1"])
            let second = try await web.request(.post, "/v1/users", json: body, headers: ["Idempotency-Key": "signup-1"])
            #expect(first.status == .created)
            #expect(second.status == .created)
            #expect(second.text == first.text)
            #expect(second.header("Idempotent-Replayed") == "true")
            #expect(first.header("Idempotent-Replayed") == nil)
            #expect(try await web.userCount() == 1)

            // Without signing in, a key is scoped to the whole request: a stranger's other body
            // with the same key is a request of its own (here refused on its merits), never a
            // collision with Ann's.
            let stranger = try await web.request(.post, "/v1/users", json: body.replacingOccurrences(of: "Ann", with: "Bob"), headers: ["Idempotency-Key": "signup-1"])
            #expect(stranger.problemType == "/problems/email-taken")

            // Log-in takes a key too: the retry gets the same session, not a second one.
            let credentials = #"{"email":"ann@example.com","password":"correct horse battery"}"#
            let session = try await web.request(.post, "/v1/sessions", json: credentials, headers: ["Idempotency-Key": "login-1"])
            let sessionAgain = try await web.request(.post, "/v1/sessions", json: credentials, headers: ["Idempotency-Key": "login-1"])
            #expect(session.status == .created)
            #expect(sessionAgain.header("Idempotent-Replayed") == "true")
            #expect(sessionAgain.object["token"] as? String == session.object["token"] as? String)
            let token = try #require(session.object["token"] as? String)
            #expect(try await web.request(.get, "/v1/users/me", token: token).status == .ok)

            // A signed-in caller's key with another body is a mistake, and said so.
            let seller = try await web.signUp("tea", roles: ["seller"])
            let order = #"{"sellerId":"\#(seller)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":500}]}"#
            let placed = try await web.request(.post, "/v1/orders", json: order, token: token, headers: ["Idempotency-Key": "order-9"])
            #expect(placed.status == .created, "\(placed.text)")
            let different = try await web.request(.post, "/v1/orders", json: order.replacingOccurrences(of: "500", with: "600"), token: token, headers: ["Idempotency-Key": "order-9"])
            #expect(different.status == .unprocessableContent)
            #expect(different.problemType == "/problems/idempotency-key-reused")

            // A named error is an answer too: replayed, not run again.
            let conflict = try await web.request(.post, "/v1/users", json: body, headers: ["Idempotency-Key": "signup-2"])
            #expect(conflict.problemType == "/problems/email-taken")
            let replayedConflict = try await web.request(.post, "/v1/users", json: body, headers: ["Idempotency-Key": "signup-2"])
            #expect(replayedConflict.text == conflict.text)
            #expect(replayedConflict.header("Idempotent-Replayed") == "true")

            let invalid = try await web.request(.post, "/v1/users", json: body, headers: ["Idempotency-Key": "has space"])
            #expect(invalid.problemType == "/problems/validation-failed")
            #expect(try await web.userCount() == 2)

            // Without signing in, a POST that needs it is refused before any key is claimed: the
            // 401 is not stored, so the same key still works once the caller signs in.
            let strangersOrder = #"{"sellerId":"usr_nobody","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":500}]}"#
            for _ in 0..<2 {
                let anonymous = try await web.request(.post, "/v1/orders", json: strangersOrder, headers: ["Idempotency-Key": "order-1"])
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.header("Idempotent-Replayed") == nil)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func requestIDsAreKeptWhenSaneAndMadeOtherwise(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let kept = try await web.request(.get, "/health", headers: ["X-Request-Id": "trace-123"])
            #expect(kept.header("X-Request-Id") == "trace-123")
            let replaced = try await web.request(.get, "/health", headers: ["X-Request-Id": "bad id\twith tab"])
            #expect(replaced.header("X-Request-Id") != nil)
            #expect(replaced.header("X-Request-Id") != "bad id\twith tab")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func operationsEndpoints(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            #expect(try await web.request(.get, "/health").object["status"] as? String == "ok")
            let ready = try await web.request(.get, "/ready")
            #expect(ready.status == .ok)
            #expect(ready.object["database"] as? String == kind.rawValue)
            try await web.signUp("ann")
            let metrics = try await web.request(.get, "/metrics")
            #expect(metrics.text.contains(#"fiducia_http_requests_total{method="POST",route="/v1/users",status="201"} 1"#))
            #expect(metrics.text.contains("fiducia_http_request_duration_seconds_bucket"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func openAPIDocumentAndReferenceAreServed(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let document = try await web.request(.get, "/openapi.yaml")
            #expect(document.status == .ok)
            #expect(document.text.hasPrefix("openapi: 3.1"))
            let docs = try await web.request(.get, "/docs")
            #expect(docs.status == .ok)
            for operation in ["createUser", "createSession", "getCurrentUser"] {
                #expect(docs.text.contains(#"id="\#(operation)""#))
            }
            let problems = try await web.request(.get, "/problems")
            #expect(problems.text.contains("idempotency-key-reused"))
            #expect(problems.text.contains("rule-not-met"))
        }
    }

    /// SQLite reads text only up to a NUL: a NUL in a request's text is refused at the door
    /// rather than cutting a stored text short. An escaped backslash before "u0000" is plain text.
    @Test(arguments: TestDatabases.kinds)
    func textWithANulCharacterIsRefused(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let refused = try await web.request(.post, "/v1/users", json: #"{"email":"nul@example.com","password":"correct horse battery","displayName":"Ann\u0000Lee"}"#)
            #expect(refused.status == .badRequest)
            #expect(refused.problemType == "/problems/malformed-request")
            let plain = try await web.request(.post, "/v1/users", json: #"{"email":"nul@example.com","password":"correct horse battery","displayName":"Ann\\u0000Lee"}"#)
            #expect(plain.status == .created, "\(plain.text)")
            #expect(plain.object["displayName"] as? String == #"Ann\u0000Lee"#)
            // The pages' forms pass the same gate.
            var browser = PageBrowser(web: web)
            let form = try await browser.submit(on: "/signup", to: "/signup", [
                "displayName": "Bob\u{0}Lee", "email": "bob@example.com", "password": "correct horse battery", "buyer": "on",
            ])
            #expect(form.status == .badRequest)
            #expect(try await web.userCount() == 1)
        }
    }

    /// The document lists exactly the currencies the server accepts: a client generated from it
    /// never offers one the server refuses, nor lacks one it takes.
    @Test func documentedCurrenciesAreTheAcceptedOnes() throws {
        let document = try OpenAPIDocument.yaml()
        let line = try #require(document.split(separator: "\n").first { $0.contains("enum: [AED,") })
        let listed = line.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(listed == Currency.all.map(\.code))
    }
}
