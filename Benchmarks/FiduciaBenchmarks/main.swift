// fiducia-bench: completed trades per second through Fiducia's HTTP API.
//
// Each trade is four requests, as a marketplace would send them: create the order, pay it by
// card into escrow, ship it, confirm receipt (which releases the money on the ledger). Several
// workers trade at once between a pool of buyers and sellers. Run by scripts/bench-trades.sh
// against a release build on SQLite and on PostgreSQL.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

struct Options: Sendable {
    var baseURL = "http://127.0.0.1:8080"
    var trades = 2_000
    var concurrency = 16
    /// Buyers, and as many sellers: hundreds, so that the hot rows are the platform's, not a few users'.
    var people = 200

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--base-url": baseURL = iterator.next() ?? baseURL
            case "--trades": trades = Int(iterator.next() ?? "") ?? trades
            case "--concurrency": concurrency = Int(iterator.next() ?? "") ?? concurrency
            case "--people": people = Int(iterator.next() ?? "") ?? people
            default:
                print("usage: fiducia-bench [--base-url URL[,URL...]] [--trades N] [--concurrency C] [--people P]")
                exit(2)
            }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
}

struct API: Sendable {
    let client: HTTPClient
    let base: String

    /// The same API at another server of the deployment.
    func at(_ base: String) -> API { API(client: client, base: base) }

    /// Every POST carries an Idempotency-Key, as a careful marketplace sends them.
    func post(_ path: String, _ body: String, token: String? = nil) async throws -> [String: Any] {
        try await send(.POST, path, body, token: token, key: UUID().uuidString)
    }

    func send(_ method: HTTPMethod, _ path: String, _ body: String?, token: String?, key: String? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key { request.headers.add(name: "Idempotency-Key", value: key) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
        guard (200..<300).contains(response.status.code) else {
            throw BenchError(description: "\(method) \(path) → \(response.status.code): \(String(buffer: bytes))")
        }
        return object
    }
}

/// Latencies in milliseconds, for percentiles.
actor Recorder {
    var latencies: [Double] = []
    var failures: [String] = []
    func record(_ milliseconds: Double) { latencies.append(milliseconds) }
    func fail(_ message: String) { failures.append(message) }
}

@main
struct Bench {
    static func main() async throws {
        let options = Options(CommandLine.arguments)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: options.concurrency * 2)))
        // Several servers of one deployment: --base-url A,B; workers take turns among them.
        let bases = options.baseURL.split(separator: ",").map(String.init)
        let api = API(client: client, base: bases[0])
        let run = String(UUID().uuidString.prefix(8)).lowercased()

        // Buyers and sellers (bcrypt makes this part slow; it is not measured).
        var buyers: [String] = []
        var sellers: [(id: String, token: String)] = []
        for index in 0..<options.people {
            for role in ["buyer", "seller"] {
                let email = "bench-\(run)-\(role)-\(index)@example.com"
                let created = try await api.post("/v1/users", #"{"email":"\#(email)","password":"benchmark password","displayName":"Bench \#(role) \#(index)","roles":["\#(role)"]}"#)
                let session = try await api.post("/v1/sessions", #"{"email":"\#(email)","password":"benchmark password"}"#)
                let token = session["token"] as! String
                if role == "buyer" { buyers.append(token) } else { sellers.append((created["id"] as! String, token)) }
            }
            if (index + 1) % 50 == 0 { print("  \(index + 1) of \(options.people) buyers and sellers signed up") }
        }

        let recorder = Recorder()
        let counter = Counter(limit: options.trades)
        let buyerTokens = buyers
        let sellerAccounts = sellers
        let concurrency = options.concurrency
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                let api = api.at(bases[worker % bases.count])
                group.addTask {
                    var index = worker
                    while await counter.next() {
                        let buyer = buyerTokens[index % buyerTokens.count]
                        let seller = sellerAccounts[(index / buyerTokens.count + index) % sellerAccounts.count]
                        index += concurrency
                        let tradeStart = ContinuousClock.now
                        do {
                            let order = try await api.post("/v1/orders", #"{"sellerId":"\#(seller.id)","currency":"EUR","items":[{"title":"Benchmark tea","quantity":1,"unitPriceMinor":\#(1_000 + index % 997)}]}"#, token: buyer)
                            let id = order["id"] as! String
                            _ = try await api.post("/v1/orders/\(id)/payment", #"{"method":"card","cardToken":"tok_visa"}"#, token: buyer)
                            _ = try await api.post("/v1/orders/\(id)/shipment", #"{"carrier":"Bench Express","trackingNumber":"B\#(index)"}"#, token: seller.token)
                            _ = try await api.post("/v1/orders/\(id)/receipt-confirmation", "{}", token: buyer)
                            let elapsed = ContinuousClock.now - tradeStart
                            await recorder.record(Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15)
                        } catch {
                            await recorder.fail(String(describing: error))
                        }
                    }
                }
            }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let latencies = await recorder.latencies.sorted()
        let failures = await recorder.failures
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print(String(format: "completed trades: %d in %.2f s = %.1f trades/s (%.1f requests/s); failures: %d", latencies.count, seconds, Double(latencies.count) / seconds, Double(latencies.count * 4) / seconds, failures.count))
        print(String(format: "trade latency (4 requests): p50 %.1f ms, p90 %.1f ms, p99 %.1f ms; concurrency %d", percentile(0.5), percentile(0.9), percentile(0.99), options.concurrency))
        for failure in failures.prefix(5) { print("failure: \(failure)") }
        try await client.shutdown()
        if !failures.isEmpty { exit(1) }
    }
}

actor Counter {
    var remaining: Int
    init(limit: Int) { remaining = limit }
    func next() -> Bool {
        guard remaining > 0 else { return false }
        remaining -= 1
        return true
    }
}
