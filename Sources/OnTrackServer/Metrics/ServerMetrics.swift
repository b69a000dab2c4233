import Foundation
import Prometheus

/// The server's Prometheus metrics, in a registry of its own (so several servers, as in tests,
/// never share counters).
public final class ServerMetrics: Sendable {
  public let registry = PrometheusCollectorRegistry()
  let framesReceived: Counter
  let repetitions: Counter
  let activeSessions: Gauge
  let scoringLatency: DurationHistogram
  private let rejectedCounters: [RejectionReason: Counter]

  init() {
    framesReceived = registry.makeCounter(
      descriptor: .init(
        namespace: "ontrack", metricName: "frames_received", unitName: "total",
        helpText: "Frames received on any stream"))
    repetitions = registry.makeCounter(
      descriptor: .init(
        namespace: "ontrack", metricName: "repetitions_scored", unitName: "total",
        helpText: "Repetitions found and scored"))
    activeSessions = registry.makeGauge(
      descriptor: .init(
        namespace: "ontrack", metricName: "active_sessions", unitName: "count",
        helpText: "Sessions with a stream connected"))
    scoringLatency = registry.makeDurationHistogram(
      descriptor: .init(
        namespace: "ontrack", metricName: "scoring_latency", unitName: "seconds",
        helpText:
          "Time from a frame being read to its result being sent (WebSocket) or scored and passed to viewers (Axis Neuron, VMC)"
      ),
      buckets: [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(50),
      ])
    var rejected: [RejectionReason: Counter] = [:]
    for reason in RejectionReason.allCases {
      rejected[reason] = registry.makeCounter(
        descriptor: .init(
          namespace: "ontrack", metricName: "frames_rejected", unitName: "total",
          helpText: "Frames rejected, by reason"),
        labels: [("reason", reason.rawValue)])
    }
    rejectedCounters = rejected
  }

  func rejected(_ reason: RejectionReason) {
    rejectedCounters[reason]?.increment()
  }

  /// The text exposition format.
  public func exposition() -> String {
    registry.emitToString()
  }
}

/// Why a frame was not scored.
public enum RejectionReason: String, Sendable, CaseIterable, Codable {
  case malformed
  case oversized
  case outOfOrder = "out_of_order"
  case nonFinite = "non_finite"
  case unknownJoint = "unknown_joint"
  case wrongValueCount = "wrong_value_count"
  case noSession = "no_session"
  case notAllowed = "not_allowed"
}
