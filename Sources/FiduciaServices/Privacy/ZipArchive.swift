import Foundation

/// Writes a ZIP archive (PKWARE APPNOTE 6.3, the subset every unzip reads): files stored
/// without compression, UTF-8 names, no ZIP64. A person's export is small (JSON and a few
/// documents), and storing keeps this short enough to read in one sitting.
struct ZipArchive {
    private(set) var bytes: [UInt8] = []
    private var central: [UInt8] = []
    private var count = 0
    let modified: Date

    init(modified: Date) {
        self.modified = modified
    }

    enum Failure: Error { case tooLarge }

    mutating func add(_ name: String, _ data: [UInt8]) throws {
        // ZIP without its 64-bit extension counts in 32 bits and 16-bit entry counts.
        guard data.count < Int(UInt32.max), bytes.count + data.count < Int(UInt32.max) - 65_536, count < Int(UInt16.max) else { throw Failure.tooLarge }
        let nameBytes = Array(name.utf8)
        let crc = Self.crc32(data)
        let (time, date) = dosTimeAndDate
        let offset = UInt32(bytes.count)
        // Local file header.
        bytes += Self.le32(0x0403_4B50) + Self.le16(20) + Self.le16(0x0800) + Self.le16(0) + Self.le16(time) + Self.le16(date)
        bytes += Self.le32(crc) + Self.le32(UInt32(data.count)) + Self.le32(UInt32(data.count)) + Self.le16(UInt16(nameBytes.count)) + Self.le16(0)
        bytes += nameBytes + data
        // Its central directory entry: made by 3.0 on Unix, read-only permissions 0644.
        central += Self.le32(0x0201_4B50) + Self.le16(0x031E) + Self.le16(20) + Self.le16(0x0800) + Self.le16(0) + Self.le16(time) + Self.le16(date)
        central += Self.le32(crc) + Self.le32(UInt32(data.count)) + Self.le32(UInt32(data.count)) + Self.le16(UInt16(nameBytes.count))
        central += Self.le16(0) + Self.le16(0) + Self.le16(0) + Self.le16(0) + Self.le32(0o100644 << 16) + Self.le32(offset)
        central += nameBytes
        count += 1
    }

    /// The archive: the files, the central directory, and its end record.
    func finished() -> [UInt8] {
        let directoryOffset = UInt32(bytes.count)
        var end = Self.le32(0x0605_4B50) + Self.le16(0) + Self.le16(0) + Self.le16(UInt16(count)) + Self.le16(UInt16(count))
        end += Self.le32(UInt32(central.count)) + Self.le32(directoryOffset) + Self.le16(0)
        return bytes + central + end
    }

    /// MS-DOS time and date (two-second resolution, from 1980), in UTC.
    private var dosTimeAndDate: (UInt16, UInt16) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: modified)
        let year = max(0, (parts.year ?? 1980) - 1980)
        let time = UInt16((parts.hour ?? 0) << 11 | (parts.minute ?? 0) << 5 | (parts.second ?? 0) / 2)
        let date = UInt16(year << 9 | (parts.month ?? 1) << 5 | (parts.day ?? 1))
        return (time, date)
    }

    private static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    private static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }

    /// CRC-32 as ZIP uses it (reflected polynomial 0xEDB88320).
    static func crc32(_ data: [UInt8]) -> UInt32 {
        ~data.reduce(~UInt32(0)) { crc, byte in crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
}
