// Turns a benchmark run's cells into summaries and ratios, and writes them out as Markdown, JSON and an SVG chart.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ArmName, Cell, Ratio, Results, Stat, Summary, Target, Workload } from './types'

// ---------------------------------------------------------------- summaries

function median (sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2)
  if (sorted.length % 2 === 1) return sorted[mid] ?? 0
  return ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

function stat (values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b)
  return { median: median(sorted), min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 }
}

function latencyStat (cells: Cell[], key: 'p50' | 'p99' | 'p999'): Stat | null {
  const values = cells.flatMap((c) => (c.latencyMs === null ? [] : [c.latencyMs[key]]))
  return values.length === 0 ? null : stat(values)
}

function sumStatuses (cells: Cell[]): Record<string, number> {
  const total: Record<string, number> = {}
  for (const c of cells) {
    for (const [status, n] of Object.entries(c.statuses)) total[status] = (total[status] ?? 0) + n
  }
  return total
}

function summary (cells: Cell[], arm: ArmName, workload: string): Summary {
  const of = (pick: (c: Cell) => number): Stat => stat(cells.map(pick))
  return {
    arm,
    workload,
    reps: cells.length,
    recordsPerSec: of((c) => c.recordsPerSec),
    mbPerSec: of((c) => c.mbPerSec),
    p50: latencyStat(cells, 'p50'),
    p99: latencyStat(cells, 'p99'),
    p999: latencyStat(cells, 'p999'),
    cpuSec: of((c) => c.cpuSec),
    recordsPerCpuSec: of((c) => c.recordsPerCpuSec),
    peakRssMb: of((c) => c.peakRssMb),
    statuses: sumStatuses(cells),
    correct: cells.every((c) => c.correct)
  }
}

/** One summary per (arm, workload), in the order the pairs first appear among the cells. */
export function summarise (cells: Cell[]): Summary[] {
  const groups = new Map<string, Cell[]>()
  for (const c of cells) {
    const key = `${c.arm}\u0000${c.workload}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [c])
    else group.push(c)
  }
  return [...groups.values()].map((group) => summary(group, group[0]!.arm, group[0]!.workload))
}

// ---------------------------------------------------------------- ratios

type Measure = 'records/s' | 'records per CPU-second' | 'RSS' | 'added p99 latency'

/** `denWorkload`: the workload whose figures the denominator's arm has, when it is not this one (the ceiling drains; only the service streams). */
interface RatioSpec { num: ArmName, den: ArmName, measure: Measure, target?: Target, denWorkload?: string }

const atLeast = (value: number): Target => ({ op: '>=', value })
const atMost = (value: number): Target => ({ op: '<=', value })

/** Every comparison with a peer gateway (the bridge) is made with each of them, the same target for each. */
const PEERS: ArmName[] = ['bridge', 'karapace']

function specs (w: Workload): RatioSpec[] {
  const withPeer = (spec: RatioSpec, peer: ArmName): RatioSpec =>
    ({ ...spec, ...(spec.num === 'bridge' ? { num: peer } : {}), ...(spec.den === 'bridge' ? { den: peer } : {}) })
  return bridgeSpecs(w).flatMap((spec) => spec.num === 'bridge' || spec.den === 'bridge' ? PEERS.map((peer) => withPeer(spec, peer)) : [spec])
}

/** The comparisons and targets of issue #11, written against the bridge; specs() repeats them for every peer. */
function bridgeSpecs (w: Workload): RatioSpec[] {
  const perCpu: RatioSpec = { num: 'us', den: 'bridge', measure: 'records per CPU-second', target: atLeast(3) }
  const smallOrKib = w.valueBytes === 100 || w.valueBytes === 1024
  switch (w.kind) {
    case 'produce':
      return [
        { num: 'us', den: 'ceiling', measure: 'records/s', target: w.batch === 100 && w.valueBytes === 100 && w.connections === 8 ? atLeast(0.8) : undefined },
        { num: 'us', den: 'bridge', measure: 'records/s' },
        perCpu,
        { num: 'us', den: 'ceiling', measure: 'RSS' },
        { num: 'us', den: 'bridge', measure: 'RSS' }
      ]
    case 'open-loop':
      return [
        { num: 'us', den: 'ceiling', measure: 'added p99 latency', target: atMost(2) },
        { num: 'bridge', den: 'ceiling', measure: 'added p99 latency' },
        perCpu
      ]
    case 'drain':
      return [
        { num: 'us', den: 'ceiling', measure: 'records/s', target: smallOrKib ? atLeast(0.8) : undefined },
        { num: 'us', den: 'bridge', measure: 'records/s' },
        { ...perCpu, target: atLeast(1.5) }
      ]
    case 'e2e':
      return [{ num: 'us', den: 'ceiling', measure: 'added p99 latency' }, { ...perCpu, target: undefined }]
    case 'stream-drain':
      // Only the service streams: against the ceiling's drain of the same records.
      return [{ num: 'us', den: 'ceiling', measure: 'records/s', target: atLeast(0.9), denWorkload: w.id.replace(/^stream-/, '') }]
    case 'produce-ndjson':
      // Only the service streams produce; its figures stand beside the 100-record produce workloads'.
      return []
    case 'consumers-poll':
      return [
        { num: 'us', den: 'bridge', measure: 'records/s' },
        { ...perCpu, target: undefined },
        { num: 'us', den: 'bridge', measure: 'RSS' }
      ]
    case 'consumers-rss':
      return [{ num: 'us', den: 'bridge', measure: 'RSS', target: atMost(0.5) }]
  }
}

function medianOf (s: Summary, measure: Measure): number | null {
  switch (measure) {
    case 'records/s': return s.recordsPerSec.median
    case 'records per CPU-second': return s.recordsPerCpuSec.median
    case 'RSS': return s.peakRssMb.median
    case 'added p99 latency': return s.p99?.median ?? null
  }
}

function judged (ratio: Ratio, target: Target | undefined): Ratio {
  if (target === undefined) return ratio
  if (ratio.value === null) return { ...ratio, target }
  const met = target.op === '>=' ? ratio.value >= target.value : ratio.value <= target.value
  return { ...ratio, target, met }
}

function ratio (spec: RatioSpec, workload: string, num: Summary | undefined, den: Summary | undefined): Ratio | null {
  if (num === undefined || den === undefined) return null
  // A run that lost records or failed says nothing about speed: its ratios are n/a.
  if (!num.correct || !den.correct) {
    return judged({ name: `${spec.num} ${spec.measure === 'added p99 latency' ? '−' : '÷'} ${spec.den}, ${spec.measure}`, workload, value: null, ...(spec.measure === 'added p99 latency' ? { unit: 'ms' } : {}) }, spec.target)
  }
  const a = medianOf(num, spec.measure)
  const b = medianOf(den, spec.measure)
  if (a === null || b === null) return null
  if (spec.measure === 'added p99 latency') {
    return judged({ name: `${spec.num} − ${spec.den}, ${spec.measure}`, workload, value: a - b, unit: 'ms' }, spec.target)
  }
  return judged({ name: `${spec.num} ÷ ${spec.den}, ${spec.measure}`, workload, value: b === 0 ? null : a / b }, spec.target)
}

/** The comparisons the issue asks for, from the medians; a ratio is left out when either arm is missing. */
export function ratios (summaries: Summary[], workloads: Workload[]): Ratio[] {
  const out: Ratio[] = []
  for (const w of workloads) {
    const find = (arm: ArmName): Summary | undefined => summaries.find((s) => s.workload === w.id && s.arm === arm)
    for (const spec of specs(w)) {
      const den = spec.denWorkload === undefined ? find(spec.den) : summaries.find((s) => s.workload === spec.denWorkload && s.arm === spec.den)
      const r = ratio(spec, w.id, find(spec.num), den)
      if (r !== null) out.push(r)
    }
  }
  return out
}

// ---------------------------------------------------------------- formatting

function thousands (x: number): string {
  return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** Whole numbers with separators from 100 up, two significant decimals below. */
function num (x: number): string {
  const abs = Math.abs(x)
  if (x === 0) return '0'
  if (abs >= 100) return thousands(x)
  if (abs >= 10) return x.toFixed(1)
  if (abs >= 1) return x.toFixed(2)
  return x.toPrecision(2)
}

function spread (s: Stat): string {
  return s.min === s.max ? '' : ` (${num(s.min)}–${num(s.max)})`
}

function ratioValue (r: Ratio): string {
  if (r.value === null) return 'n/a'
  return r.unit === 'ms' ? `${r.value.toFixed(2)} ms` : `${r.value.toFixed(2)}×`
}

function targetText (target: Target | undefined, unit: string | undefined): string {
  if (target === undefined) return '–'
  return `${target.op === '>=' ? '≥' : '≤'} ${target.value}${unit === 'ms' ? ' ms' : '×'}`
}

function metText (r: Ratio): string {
  if (r.met === undefined) return '–'
  return r.met ? '✅' : '❌'
}

function statusMix (statuses: Record<string, number>): string {
  return Object.entries(statuses).sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}×${n}`).join(', ')
}

/** "2026-11-25T07:00:00.000Z" as "2026-11-25 07:00 UTC"; anything else as it is. */
function when (date: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(date)
  return m === null ? date : `${m[1]} ${m[2]} UTC`
}

function bytes (n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`
}

function describe (w: Workload): string {
  const parts = [w.kind, `${bytes(w.valueBytes)} values`]
  if (w.batch !== undefined) parts.push(`batch ${w.batch}`)
  if (w.connections !== undefined) parts.push(`${w.connections} connections`)
  if (w.rate !== undefined) parts.push(`${num(w.rate)} ${w.kind === 'open-loop' ? 'requests' : 'records'}/s`)
  if (w.records !== undefined) parts.push(`${num(w.records)} records`)
  if (w.consumers !== undefined) parts.push(`${w.consumers} consumers`)
  return parts.join(', ')
}

// ---------------------------------------------------------------- markdown

function cell (text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\n/g, ' ')
}

function table (head: string[], rows: string[][]): string[] {
  const line = (cells: string[]): string => `| ${cells.map(cell).join(' | ')} |`
  return [line(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(line), '']
}

function bullets (entries: Record<string, string | number | boolean>): string[] {
  const keys = Object.keys(entries)
  if (keys.length === 0) return ['- (none)', '']
  return [...keys.map((k) => `- ${k}: ${String(entries[k])}`), '']
}

function setupSection (results: Results): string[] {
  const { machine, versions, placement, settings, durationSec } = results.meta
  return [
    '## Setup', '',
    '### Machine', '',
    `- CPU: ${machine.cpu} (${machine.cores} cores)`,
    `- Memory: ${machine.memoryGiB} GiB`,
    `- OS: ${machine.os}, kernel ${machine.kernel}`,
    `- Run took ${num(durationSec)} s`, '',
    '### Versions', '', ...bullets(versions),
    '### Placement', '', ...bullets(placement),
    '### Settings', '', ...bullets(settings)
  ]
}

function skippedSection (skipped: Record<string, string>): string[] {
  if (Object.keys(skipped).length === 0) return []
  return ['## Skipped arms', '', ...bullets(skipped)]
}

function ratioSections (list: Ratio[]): string[] {
  const row = (r: Ratio): string[] => [r.name, r.workload, ratioValue(r), targetText(r.target, r.unit), metText(r)]
  const head = ['Ratio', 'Workload', 'Value', 'Target', 'Met']
  const targeted = list.filter((r) => r.target !== undefined)
  return [
    '## Targets', '',
    ...(targeted.length === 0 ? ['No targeted ratio could be computed.', ''] : table(head, targeted.map(row))),
    '## All ratios', '',
    ...(list.length === 0 ? ['No ratio could be computed.', ''] : table(head, list.map(row)))
  ]
}

function latencyText (s: Stat | null): string {
  return s === null ? '–' : num(s.median)
}

function armRow (s: Summary): string[] {
  return [
    s.arm,
    `${num(s.recordsPerSec.median)}${spread(s.recordsPerSec)}`,
    num(s.mbPerSec.median),
    latencyText(s.p50),
    latencyText(s.p99),
    latencyText(s.p999),
    num(s.cpuSec.median),
    num(s.recordsPerCpuSec.median),
    num(s.peakRssMb.median),
    statusMix(s.statuses),
    s.correct ? '✅' : '❌'
  ]
}

function armsOf (w: Workload, summaries: Summary[]): Summary[] {
  const mine = summaries.filter((s) => s.workload === w.id)
  const rank = (arm: ArmName): number => {
    const i = w.arms.indexOf(arm)
    return i === -1 ? w.arms.length : i
  }
  return mine.sort((a, b) => rank(a.arm) - rank(b.arm))
}

function workloadSection (w: Workload, results: Results): string[] {
  const head = ['Arm', 'records/s (min–max)', 'MB/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU-s', 'rec/CPU-s', 'RSS MiB', 'Statuses', 'OK']
  const rows = armsOf(w, results.summaries).map(armRow)
  const notes = results.cells.filter((c) => c.workload === w.id && c.note !== undefined && c.note !== '')
  return [
    `### ${cell(w.id)} — ${describe(w)}`, '',
    ...(rows.length === 0 ? ['No arm ran this workload.', ''] : table(head, rows)),
    ...(notes.length === 0 ? [] : [...notes.map((c) => `- ${c.arm}, rep ${c.rep}: ${c.note ?? ''}`), ''])
  ]
}

/** The whole run as a readable Markdown report. */
export function markdown (results: Results): string {
  const { date, mode } = results.meta
  return [
    `# Benchmark results — ${when(date)} (${mode})`, '',
    'Figures are medians of the repetitions; records/s shows the spread (lowest–highest) in brackets. CPU-s is the',
    'gateway process\'s CPU time (for the ceiling, the native client\'s process). Ratios compare medians.', '',
    ...setupSection(results),
    ...skippedSection(results.meta.skipped),
    ...ratioSections(results.ratios),
    '## Workloads', '',
    ...results.workloads.flatMap((w) => workloadSection(w, results))
  ].join('\n')
}

// ---------------------------------------------------------------- svg

const WIDTH = 900
const LABEL_RIGHT = 390
const PLOT_LEFT = 400
const PLOT_RIGHT = 820
const ROW = 24
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'
const GREEN = '#2e7d32'
const RED = '#c62828'
const GREY = '#8a8a8a'
const MAX_LABEL = 64

interface Scale {
  x: (v: number) => number
  ticks: number[]
  tick: (t: number) => string
  /** Where bars start: 1× for ratios, 0 for milliseconds. */
  base: number
}

interface Panel { title: string, unit: string, scale: (bars: Ratio[]) => Scale, reference?: { value: number, label: string }, bars: Ratio[] }

function xml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

function colour (r: Ratio): string {
  if (r.met === undefined) return GREY
  return r.met ? GREEN : RED
}

function extent (bars: Ratio[], always: number[]): number[] {
  return [...always, ...bars.flatMap((r) => [r.value, r.target?.value ?? null]).filter((v): v is number => v !== null)]
}

const across = (share: number): number => PLOT_LEFT + share * (PLOT_RIGHT - PLOT_LEFT)

/** Milliseconds: a linear axis from 0 (or below, for negative differences) in 1-2-5 steps. */
function linearScale (bars: Ratio[]): Scale {
  const values = extent(bars, [0, 1])
  const raw = (Math.max(...values) - Math.min(...values)) / 5
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power
  const lo = Math.floor(Math.min(...values) / step) * step
  const hi = Math.ceil(Math.max(...values) / step) * step
  const ticks: number[] = []
  for (let i = 0; lo + i * step <= hi + step / 2; i++) ticks.push(lo + i * step)
  const decimals = Math.max(0, -Math.floor(Math.log10(step)))
  return { x: (v) => across((v - lo) / (hi - lo)), ticks, tick: (t) => t.toFixed(decimals), base: 0 }
}

function steps125 (lo: number, hi: number): number[] {
  const out: number[] = []
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++) {
    for (const m of [1, 2, 5]) out.push(Number((m * 10 ** e).toPrecision(1)))
  }
  return out
}

/** Ratios: a logarithmic axis around 1×, so 0.76× next to a 0.8× target stays readable beside a 25× bar. */
function logScale (bars: Ratio[]): Scale {
  const values = extent(bars, [0.5, 2]).filter((v) => v > 0)
  const min = Math.min(...values)
  const max = Math.max(...values)
  const grid = steps125(min, max)
  const lo = Math.max(...grid.filter((g) => g <= min))
  const hi = Math.min(...grid.filter((g) => g >= max))
  const decades = Math.log10(hi) - Math.log10(lo)
  const ticks = grid.filter((g) => g >= lo && g <= hi && (decades <= 3 || Number.isInteger(Math.log10(g))))
  const x = (v: number): number => across((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / decades)
  return { x, ticks, tick: (t) => String(t), base: 1 }
}

function text (x: number, y: number, body: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${xml(body)}</text>`
}

function line (x1: number, y1: number, x2: number, y2: number, attrs: string): string {
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" ${attrs}/>`
}

function label (r: Ratio): string {
  const full = `${r.workload} — ${r.name}`
  return full.length > MAX_LABEL ? `${full.slice(0, MAX_LABEL - 1)}…` : full
}

/** One bar from the scale's base to the value, the value just past whichever is further right: bar or target. */
function barRow (r: Ratio, top: number, scale: Scale, unit: string): string[] {
  const mid = top + ROW / 2
  const base = scale.x(scale.base)
  const targetX = r.target === undefined ? base : scale.x(r.target.value)
  const out = [`<g><title>${xml(`${r.workload} — ${r.name}: ${ratioValue(r)}`)}</title>`,
    text(LABEL_RIGHT, mid + 4, label(r), 'text-anchor="end" font-size="11" fill="#222"')]
  if (r.value === null) {
    out.push(text(Math.max(base, targetX) + 5, mid + 4, 'n/a', 'font-size="11" fill="#555"'))
  } else {
    const end = scale.x(r.value)
    out.push(`<rect x="${Math.min(base, end).toFixed(1)}" y="${(top + 5).toFixed(1)}" width="${Math.max(1, Math.abs(end - base)).toFixed(1)}" height="${ROW - 10}" fill="${colour(r)}" fill-opacity="0.55"/>`)
    out.push(text(Math.max(base, end, targetX) + 5, mid + 4, `${r.value.toFixed(2)}${unit}`, 'font-size="11" fill="#222"'))
  }
  if (r.target !== undefined) out.push(line(targetX, top + 1, targetX, top + ROW - 1, `stroke="${colour(r)}" stroke-width="3"`))
  out.push('</g>')
  return out
}

function panelSvg (panel: Panel, top: number): { body: string[], height: number } {
  const scale = panel.scale(panel.bars)
  const rowsTop = top + 30
  const rowsBottom = rowsTop + panel.bars.length * ROW
  const body = [text(10, top + 16, panel.title, 'font-size="14" font-weight="bold" fill="#222"')]
  for (const t of scale.ticks) {
    body.push(line(scale.x(t), rowsTop, scale.x(t), rowsBottom, `stroke="${t === scale.base ? '#999' : '#e4e4e4'}" stroke-width="1"`))
    body.push(text(scale.x(t), rowsBottom + 14, `${scale.tick(t)}${panel.unit}`, 'text-anchor="middle" font-size="10" fill="#555"'))
  }
  panel.bars.forEach((r, i) => body.push(...barRow(r, rowsTop + i * ROW, scale, panel.unit)))
  if (panel.reference !== undefined) {
    const rx = scale.x(panel.reference.value)
    body.push(line(rx, rowsTop - 4, rx, rowsBottom, 'stroke="#333" stroke-width="1.5" stroke-dasharray="4 3"'))
    body.push(text(rx, rowsTop - 7, panel.reference.label, 'text-anchor="middle" font-size="10" fill="#333"'))
  }
  return { body, height: rowsBottom + 24 - top }
}

function legend (top: number): string[] {
  const items: Array<[string, string]> = [[GREEN, 'target met'], [RED, 'target missed'], [GREY, 'no target']]
  const out: string[] = []
  items.forEach(([fill, name], i) => {
    const left = 10 + i * 130
    out.push(`<rect x="${left}" y="${top}" width="14" height="10" fill="${fill}" fill-opacity="0.55"/>`)
    out.push(text(left + 20, top + 9, name, 'font-size="11" fill="#333"'))
  })
  out.push(line(410, top - 1, 410, top + 11, `stroke="${GREY}" stroke-width="3"`))
  out.push(text(418, top + 9, 'target (coloured by met / missed)', 'font-size="11" fill="#333"'))
  return out
}

function panels (list: Ratio[]): Panel[] {
  const main = new Set(['us ÷ ceiling, records/s', ...PEERS.map((peer) => `us ÷ ${peer}, records per CPU-second`)])
  const ratioBars = list.filter((r) => r.unit !== 'ms' && (r.target !== undefined || main.has(r.name)))
  const msBars = list.filter((r) => r.unit === 'ms')
  const all: Panel[] = [
    { title: 'Ratios of medians (log scale; bars start at 1×)', unit: '×', scale: logScale, reference: { value: 1, label: '1.0×' }, bars: ratioBars },
    { title: 'Added p99 latency, difference of medians (ms)', unit: ' ms', scale: linearScale, bars: msBars }
  ]
  return all.filter((p) => p.bars.length > 0)
}

/** A self-contained SVG bar chart of the main ratios, with their targets. */
export function svg (results: Results): string {
  const { date, mode, machine } = results.meta
  const body = [
    text(10, 24, `Benchmark ratios — ${when(date)} (${mode})`, 'font-size="16" font-weight="bold" fill="#111"'),
    text(10, 42, `${machine.cpu}, ${machine.cores} cores`, 'font-size="12" fill="#444"'),
    ...legend(54)
  ]
  let top = 76
  const shown = panels(results.ratios)
  if (shown.length === 0) {
    body.push(text(10, top + 16, 'No ratio could be computed.', 'font-size="12" fill="#444"'))
    top += 30
  }
  for (const panel of shown) {
    const drawn = panelSvg(panel, top)
    body.push(...drawn.body)
    top += drawn.height + 10
  }
  const height = Math.ceil(top)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...body,
    '</svg>',
    ''
  ].join('\n')
}

// ---------------------------------------------------------------- files

/** Writes results.md, results.json and ratios.svg into dir (created if missing) and returns their paths. */
export function writeReport (results: Results, dir: string): { markdown: string, json: string, svg: string } {
  mkdirSync(dir, { recursive: true })
  const paths = { markdown: join(dir, 'results.md'), json: join(dir, 'results.json'), svg: join(dir, 'ratios.svg') }
  writeFileSync(paths.markdown, markdown(results))
  writeFileSync(paths.json, `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(paths.svg, svg(results))
  return paths
}
