// The shapes a benchmark run produces: what bench/run.ts measures and bench/report.ts writes out.

/**
 * ceiling: the native client in a Node script; us: the service; bridge: Strimzi Kafka Bridge; karapace: Aiven's
 * Karapace REST proxy; http-only: our HTTP stack without Kafka.
 */
export type ArmName = 'ceiling' | 'us' | 'bridge' | 'karapace' | 'http-only'

export type WorkloadKind =
  | 'produce' // closed loop: `connections` keep-alive connections, each sends `batch` records per POST, back to back (wrk)
  | 'produce-ndjson' // v3 records route in NDJSON: `connections` long POSTs streaming record lines, reports read as they come
  | 'open-loop' // fixed rate of one-record POSTs, latency from the intended send time (no coordinated omission)
  | 'drain' // read a pre-filled topic through the consumer API
  | 'stream-drain' // read a pre-filled topic through one SSE stream (GET /api/v1/streams/{group}, commit=auto)
  | 'e2e' // produce at a fixed rate while a consumer reads: latency from send to receipt
  | 'consumers-rss' // memory with `consumers` live consumer instances, on a service that has served nothing yet
  | 'consumers-poll' // `consumers` instances (own groups, one partition each of the pre-filled topic) polling at once

export interface Workload {
  id: string
  kind: WorkloadKind
  /** Size of each record's value, in bytes (the JSON text of the value). */
  valueBytes: number
  batch?: number
  connections?: number
  /** Requests (open-loop) or records (e2e) per second. */
  rate?: number
  /** Records in the topic that `drain` reads. */
  records?: number
  consumers?: number
  /** Which arms run it (http-only has no Kafka, so it takes produce-shaped workloads only). */
  arms: ArmName[]
}

/** Milliseconds. */
export interface Latency { p50: number, p99: number, p999: number, max: number, count: number }

/** One arm running one workload once. */
export interface Cell {
  arm: ArmName
  workload: string
  rep: number
  /** Position of the arm in this repetition's order (orders alternate between repetitions). */
  position: number
  requests: number
  /** Records acknowledged by the broker (produce) or received (drain, e2e). */
  records: number
  elapsedSec: number
  recordsPerSec: number
  /** Value bytes per second. */
  mbPerSec: number
  latencyMs: Latency | null
  /** CPU seconds (user + system) of the gateway process (for the ceiling: of the native client's process). */
  cpuSec: number
  recordsPerCpuSec: number
  /**
   * CPU seconds of the load generator: the runner and the wrk it started (closed-loop produce), which share their
   * CPU with the broker: near elapsedSec means it was saturated.
   */
  loadGeneratorCpuSec?: number
  /** CPU seconds of the Kafka broker (when the runner started it), which shares its CPU with the load generator. */
  brokerCpuSec?: number
  /** Highest resident set size of the gateway process seen during the cell, MiB. */
  peakRssMb: number
  /** HTTP status mix ("200": n); "error" for requests that got no HTTP answer; "ok" for the ceiling. */
  statuses: Record<string, number>
  /** How far the topic's end offsets moved (produce workloads); null where not applicable. */
  offsetsMoved: number | null
  /** Produce: offsets moved by exactly the acknowledged records; drain/e2e: every record was received. */
  correct: boolean
  note?: string
}

export interface Stat { median: number, min: number, max: number }

/** The repetitions of one arm on one workload, summarised: median and spread (min, max). */
export interface Summary {
  arm: ArmName
  workload: string
  reps: number
  recordsPerSec: Stat
  mbPerSec: Stat
  p50: Stat | null
  p99: Stat | null
  p999: Stat | null
  cpuSec: Stat
  recordsPerCpuSec: Stat
  peakRssMb: Stat
  statuses: Record<string, number>
  correct: boolean
}

export interface Target { op: '>=' | '<=', value: number }

export interface Ratio {
  /** e.g. "us ÷ ceiling, records/s" */
  name: string
  workload: string
  value: number | null
  /** Where the issue sets a target for this ratio. */
  target?: Target
  met?: boolean
  /** Units of value when it is not a plain ratio (e.g. "ms" for added latency). */
  unit?: string
}

export interface Meta {
  date: string
  mode: 'full' | 'smoke'
  machine: { cpu: string, cores: number, memoryGiB: number, kernel: string, os: string }
  versions: Record<string, string>
  /** Which CPU each process was pinned to. */
  placement: Record<string, string>
  settings: Record<string, string | number | boolean>
  /** Arms that could not run, and why. */
  skipped: Record<string, string>
  durationSec: number
}

export interface Results {
  meta: Meta
  workloads: Workload[]
  cells: Cell[]
  summaries: Summary[]
  ratios: Ratio[]
}
