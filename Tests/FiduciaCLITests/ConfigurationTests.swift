import FiduciaPersistence
import Foundation
import Testing

@testable import FiduciaCLI

@Suite("Configuration")
struct ConfigurationTests {
    @Test func defaultsNeedNoConfigurationAtAll() throws {
        let configuration = try Configuration.resolve(environment: [:])
        #expect(configuration.database == .sqlite(path: "fiducia-data/fiducia.sqlite"))
        #expect(configuration.web.host == "127.0.0.1")
        #expect(configuration.web.port == 8080)
        #expect(configuration.settings.bcryptCost == 12)
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fiducia-\(UUID().uuidString).conf")
        try """
            # a comment
            FIDUCIA_PORT = 9000
            FIDUCIA_HOST="0.0.0.0"
            FIDUCIA_DATABASE_URL=postgres://app:pw@db:5432/fiducia?sslmode=disable
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let fromFile = try Configuration.resolve(environment: [:], configFile: file.path)
        #expect(fromFile.web.port == 9000)
        #expect(fromFile.web.host == "0.0.0.0")
        #expect(fromFile.database == .postgres(.init(host: "db", username: "app", password: "pw", database: "fiducia", tls: .disable)))

        let fromEnvironment = try Configuration.resolve(environment: ["FIDUCIA_PORT": "9100"], configFile: file.path)
        #expect(fromEnvironment.web.port == 9100)
        let fromFlag = try Configuration.resolve(environment: ["FIDUCIA_PORT": "9100"], configFile: file.path, overrides: ["FIDUCIA_PORT": "9200"])
        #expect(fromFlag.web.port == 9200)
    }

    @Test func badValuesAreRefusedWithTheirName() {
        #expect(throws: ConfigurationError.self) { try Configuration.resolve(environment: ["FIDUCIA_PORT": "eighty"]) }
        #expect(throws: ConfigurationError.self) { try Configuration.resolve(environment: ["FIDUCIA_BCRYPT_COST": "2"]) }
        #expect(throws: DatabaseLocationError.self) { try Configuration.resolve(environment: ["FIDUCIA_DATABASE_URL": "mysql://x@y/z"]) }
        #expect(throws: ConfigurationError.self) { try Configuration.resolve(environment: [:], overrides: ["FIDUCIA_NOPE": "1"]) }
    }

    @Test func theREADMEListsEverySettingAsTheCodeDefinesIt() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        for key in Configuration.keys {
            #expect(text.contains(key.markdownRow), "README is missing or out of date for \(key.name); paste `fiducia config --markdown`")
        }
    }
}
