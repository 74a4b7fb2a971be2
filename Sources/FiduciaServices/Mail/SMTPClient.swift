import Foundation
import NIOCore
import NIOPosix

/// A minimal SMTP client (RFC 5321) for handing mail to a relay: EHLO, MAIL FROM, RCPT TO, DATA
/// (with dot-stuffing), QUIT. It speaks plain SMTP, for a relay on the same host or network (a
/// local Postfix, a sidecar); STARTTLS and AUTH are not implemented.
struct SMTPClient: Sendable {
    let host: String
    let port: Int
    /// The name this client gives in EHLO.
    let clientName: String
    let timeout: TimeAmount

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func send(from sender: String, to recipient: String, message: String) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                throw Failure(description: "The SMTP relay \(host):\(port) did not finish within the time allowed.")
            }
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var replies = SMTPReplyReader(inbound.makeAsyncIterator())
                    func expect(_ codes: ClosedRange<Int>, after command: String?) async throws {
                        if let command { try await outbound.write(ByteBuffer(string: command + "\r\n")) }
                        let (code, text) = try await replies.next()
                        guard codes.contains(code) else {
                            throw Failure(description: "The SMTP relay answered \(code) \(text) to \(command.map { String($0.prefix(10)) } ?? "the greeting").")
                        }
                    }
                    try await expect(220...220, after: nil)
                    try await expect(250...250, after: "EHLO \(clientName)")
                    try await expect(250...250, after: "MAIL FROM:<\(sender)>")
                    try await expect(250...251, after: "RCPT TO:<\(recipient)>")
                    try await expect(354...354, after: "DATA")
                    try await expect(250...250, after: Self.dotStuffed(message) + "\r\n.")
                    try await outbound.write(ByteBuffer(string: "QUIT\r\n"))
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// The message with CRLF line ends and every line that starts with a dot given one more (RFC 5321 §4.5.2).
    static func dotStuffed(_ message: String) -> String {
        message.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n")
    }
}

/// Reads SMTP replies (`CODE-text` lines continued until `CODE text`) from a byte stream.
struct SMTPReplyReader {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var pending: [UInt8] = []

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.iterator = iterator
    }

    mutating func line() async throws -> String {
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                pending.removeSubrange(...end)
                return line
            }
            guard pending.count < 64 * 1024, var buffer = try await iterator.next() else {
                throw SMTPClient.Failure(description: "The SMTP relay closed the connection.")
            }
            pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
    }

    mutating func next() async throws -> (Int, String) {
        var text: [String] = []
        while true {
            let line = try await line()
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw SMTPClient.Failure(description: "The SMTP relay sent '\(line.prefix(80))'.") }
            text.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return (code, text.joined(separator: " ")) }
        }
    }
}
