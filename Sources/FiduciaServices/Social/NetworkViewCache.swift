import FiduciaDomain
import FiduciaPersistence

/// The voices of recent network views, kept per viewer and merchant with the stamp they were read
/// under (E3). A view is served from here only while the database's stamp is unchanged, so a new
/// friendship, block, list entry, hidden rating or rating of the merchant, made through any
/// server, is seen at once; checking costs one query of three index seeks instead of the four
/// queries over the network. At most `capacity` entries; the oldest go first.
actor NetworkViewCache {
    struct Key: Hashable {
        let viewer: UserID
        let merchant: UserID
    }

    private struct Entry {
        let stamp: NetworkStamp
        let voices: [NetworkVoice]
    }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []
    private var start = 0
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int = 10_000) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// The cached voices when they were read under `stamp`.
    func voices(for key: Key, stamp: NetworkStamp) -> [NetworkVoice]? {
        guard let entry = entries[key], entry.stamp == stamp else {
            misses += 1
            return nil
        }
        hits += 1
        return entry.voices
    }

    func store(_ voices: [NetworkVoice], for key: Key, stamp: NetworkStamp) {
        if entries.updateValue(Entry(stamp: stamp, voices: voices), forKey: key) == nil {
            order.append(key)
        }
        while entries.count > capacity {
            entries[order[start]] = nil
            start += 1
        }
        // Compact the eviction queue once half of it is spent.
        if start > capacity {
            order.removeFirst(start)
            start = 0
        }
    }

    var count: Int { entries.count }
}
