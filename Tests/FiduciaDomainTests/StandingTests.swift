import FiduciaDomain
import Foundation
import Testing

/// Standing (D4): proof that has to flow in from the seeds, so that age alone proves nothing.
@Suite("Trust engine: standing against patient sock puppets")
struct StandingTests {
    static let day = 86_400.0
    let start = 1_600_000_000.0

    /// A small honest community: `count` accounts rating each other well over a year, the first
    /// `seeds` of them seeds from the start (when `seeds` > 0).
    func community(count: Int32 = 40, seeds: Int32 = 6, random seed: UInt64 = 1) -> (TrustEngine, time: Double) {
        var engine = TrustEngine()
        for user in 0..<seeds { engine.addSeed(user, at: start) }
        var random = SplitMix(seed: seed)
        var time = start
        for _ in 0..<1_200 {
            time += Double(random.next() % 30_000)
            let source = Int32(random.next() % UInt64(count))
            var target = Int32(random.next() % UInt64(count))
            if target == source { target = (target + 1) % count }
            engine.observe(.init(source: source, target: target, value: 0.6, time: time))
        }
        return (engine, time)
    }

    /// `size` accounts that appear at `born`, rate two others of the ring moderately, and then
    /// (at `attack`) all rate `target` at the top.
    func patientRing(into engine: inout TrustEngine, first: Int32, size: Int32, born: Double, attack: Double, target: Int32) -> [Int32] {
        let ring = Array(first..<(first + size))
        for (position, member) in ring.enumerated() {
            for step in 1...2 {
                let other = ring[(position + step) % ring.count]
                engine.observe(.init(source: member, target: other, value: 0.5, time: born + Double(position) * 600 + Double(step)))
            }
        }
        for (position, member) in ring.enumerated() {
            engine.observe(.init(source: member, target: target, value: 1, time: attack + Double(position) * 60))
        }
        return ring
    }

    @Test func withoutSeedsAgeAloneProvesAsBefore() {
        var (engine, time) = community(seeds: 0)
        #expect(engine.standing(of: 0) == nil)
        let target: Int32 = 5
        let before = engine.trustValue(of: target, at: time + 201 * Self.day)
        let ring = patientRing(into: &engine, first: 100, size: 20, born: time, attack: time + 200 * Self.day, target: target)
        let after = time + 201 * Self.day
        // The hole standing closes: old enough, the ring is proven and moves its target.
        #expect(ring.allSatisfy { engine.isProven($0, at: after) })
        #expect(engine.trustValue(of: target, at: after) - before > 0.1)
    }

    @Test func aRingWithoutTiesToTheSeedsEarnsNothingHoweverOld() {
        var (engine, time) = community()
        let target: Int32 = 5
        let ring = patientRing(into: &engine, first: 100, size: 20, born: time, attack: time + 200 * Self.day, target: target)
        let after = time + 201 * Self.day
        var reference = community().0
        reference.observe(.init(source: 0, target: 1, value: 0.6, time: after - Self.day))
        for member in ring {
            #expect(!engine.isProven(member, at: after))
            #expect(engine.standing(of: member) == 0)
            #expect(engine.fraudRisk(of: member, at: after).isAlert)
        }
        // The target gains nothing from the ring: its trust is what the honest record gives.
        #expect(abs(engine.trustValue(of: target, at: after) - reference.trustValue(of: target, at: after)) < 0.01)
        // Honest accounts of the same age are proven: standing flows to them from the seeds.
        let honestProven = (Int32(0)..<40).filter { engine.isProven($0, at: after) }.count
        #expect(honestProven >= 36)
    }

    @Test func aSeedIsProvenFromItsStartUntilItsEnd() {
        var (engine, time) = community()
        let newcomer: Int32 = 200
        engine.observe(.init(source: newcomer, target: 3, value: 0.6, time: time + Self.day))
        #expect(!engine.isProven(newcomer, at: time + 2 * Self.day))
        engine.addSeed(newcomer, at: time + 3 * Self.day)
        #expect(!engine.isSeed(newcomer, at: time + 2 * Self.day))
        #expect(engine.isProven(newcomer, at: time + 4 * Self.day))
        engine.removeSeed(newcomer, at: time + 10 * Self.day)
        #expect(engine.isSeed(newcomer, at: time + 9 * Self.day))
        #expect(!engine.isSeed(newcomer, at: time + 11 * Self.day))
        #expect(!engine.isProven(newcomer, at: time + 11 * Self.day))
    }

    @Test func aNewAccountRatedWellByAnEstablishedOneGetsStandingAtOnceButCannotRelayIt() {
        var (engine, time) = community()
        let honest: Int32 = 300, relayed: Int32 = 301
        let before = engine.standingRecomputations
        engine.observe(.init(source: 2, target: honest, value: 0.8, time: time + 60))
        engine.observe(.init(source: honest, target: relayed, value: 0.8, time: time + 120))
        #expect(engine.standingRecomputations == before)
        #expect((engine.standing(of: honest) ?? 0) > 0)
        // Provisional standing is not passed on before the next recomputation.
        #expect(engine.standing(of: relayed) == 0)
    }

    /// Only the times of seeds matter: seeds given before the ratings (as a server rebuilding its
    /// cache does) or as they happen (as a server following along does) give the same engine.
    @Test(arguments: 1...3)
    func seedsGivenUpFrontOrAlongTheWayGiveTheSameState(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var ratings: [TrustEngine.Rating] = []
        var time = start
        for _ in 0..<2_000 {
            time += Double(random.next() % 40_000)
            let source = Int32(random.next() % 80)
            var target = Int32(random.next() % 80)
            if target == source { target = (target + 1) % 80 }
            let value = random.next() % 10 < 8 ? 0.7 : -0.7
            ratings.append(.init(source: source, target: target, value: value, time: time))
        }
        let seedTimes: [(Int32, Double)] = (0..<8).map { (Int32($0 * 3), start + Double($0) * 20 * Self.day) }
        var upFront = TrustEngine()
        for (user, at) in seedTimes { upFront.addSeed(user, at: at) }
        upFront.removeSeed(0, at: start + 300 * Self.day)
        var along = TrustEngine()
        var pending = seedTimes
        var removed = false
        var predictionsUpFront: [Double] = [], predictionsAlong: [Double] = []
        for rating in ratings {
            while let next = pending.first, next.1 <= rating.time {
                along.addSeed(next.0, at: next.1)
                pending.removeFirst()
            }
            if !removed, rating.time >= start + 300 * Self.day {
                along.removeSeed(0, at: start + 300 * Self.day)
                removed = true
            }
            predictionsUpFront.append(upFront.observe(rating))
            predictionsAlong.append(along.observe(rating))
        }
        #expect(upFront.standingRecomputations > 3)
        #expect(predictionsUpFront == predictionsAlong)
        for user in Int32(0)..<80 {
            #expect(upFront.standing(of: user) == along.standing(of: user))
            #expect(upFront.isProven(user, at: time) == along.isProven(user, at: time))
            #expect(upFront.trustValue(of: user, at: time) == along.trustValue(of: user, at: time))
        }
    }

    @Test func standingIsConservedAndAveragesOneOverTheKnownAccounts() {
        let (engine, _) = community()
        let total = (Int32(0)..<40).reduce(0.0) { $0 + (engine.standing(of: $1) ?? 0) }
        // Provisional standing since the last recomputation comes on top of the conserved total.
        #expect(total >= 40 * 0.999)
        #expect(total < 40 * 1.5)
    }
}
