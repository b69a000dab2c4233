import Foundation
import OnTrackProtocol
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
  private let authenticationFailures: [String: Counter]
  let storageFailing: Gauge
  let frameBacklog: Gauge

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
          "Time from a message being read (a frame, or a batch of them) to its answers being sent (WebSocket), or from a frame being read to it being scored and passed to viewers (Axis Neuron, VMC)"
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
    var failures: [String: Counter] = [:]
    for reason in ["invalid", "revoked", "expired", "token_in_query"] {
      failures[reason] = registry.makeCounter(
        descriptor: .init(
          namespace: "ontrack", metricName: "auth_failures", unitName: "total",
          helpText: "Requests refused for their token, by reason"),
        labels: [("reason", reason)])
    }
    authenticationFailures = failures
    storageFailing = registry.makeGauge(
      descriptor: .init(
        namespace: "ontrack", metricName: "storage_failing", unitName: "bool",
        helpText: "1 while frames cannot be written (acknowledgements paused)"))
    frameBacklog = registry.makeGauge(
      descriptor: .init(
        namespace: "ontrack", metricName: "frame_backlog", unitName: "frames",
        helpText: "Frames taken but not yet stored"))
  }

  func authenticationFailed(reason: String) {
    authenticationFailures[reason]?.increment()
  }

  func rejected(_ reason: RejectionReason) {
    rejectedCounters[reason]?.increment()
  }

  /// The text exposition format.
  public func exposition() -> String {
    registry.emitToString()
  }
}
