// Turning a run's cells into summaries, the ratios the issue asks for, and the files in bench/results/:
// results.md (tables), results.json (everything, raw), ratios.svg (the chart the README shows).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ArmName, Cell, Ratio, Results, Stat, Summary, Target, Workload } from './types'

function stat (values: number[]): Stat {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  const median = s.length === 0 ? 0 : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { median, min: s[0] ?? 0, max: s[s.length - 1] ?? 0 }
}

export function summarise (cells: Cell[]): Summary[] {
  const groups = new Map<string, Cell[]>()
  for (const c of cells) groups.set(`${c.arm}\u0000${c.workload}`, [...(groups.get(`${c.arm}\u0000${c.workload}`) ?? []), c])
  return [...groups.values()].map((g) => {
    const first = g[0]!
    const lat = g.filter((c) => c.latencyMs !== null).map((c) => c.latencyMs!)
    const statuses: Record<string, number> = {}
    for (const c of g) for (const [k, n] of Object.entries(c.statuses)) statuses[k] = (statuses[k] ?? 0) + n
    return {
      arm: first.arm,
      workload: first.workload,
      reps: g.length,
      recordsPerSec: stat(g.map((c) => c.recordsPerSec)),
      mbPerSec: stat(g.map((c) => c.mbPerSec)),
      p50: lat.length > 0 ? stat(lat.map((l) => l.p50)) : null,
      p99: lat.length > 0 ? stat(lat.map((l) => l.p99)) : null,
      p999: lat.length > 0 ? stat(lat.map((l) => l.p999)) : null,
      cpuSec: stat(g.map((c) => c.cpuSec)),
      recordsPerCpuSec: stat(g.map((c) => c.recordsPerCpuSec)),
      peakRssMb: stat(g.map((c) => c.peakRssMb)),
      statuses,
      correct: g.every((c) => c.correct)
    }
  })
}

export function ratios (summaries: Summary[], workloads: Workload[]): Ratio[] {
  const out: Ratio[] = []
  const get = (arm: ArmName, w: string): Summary | undefined => summaries.find((s) => s.arm === arm && s.workload === w)
  const add = (name: string, w: string, value: number | null | undefined, target?: Target, unit?: string): void => {
    if (value === undefined) return
    const r: Ratio = { name, workload: w, value, ...(unit !== undefined ? { unit } : {}) }
    if (target) {
      r.target = target
      if (value !== null) r.met = target.op === '>=' ? value >= target.value : value <= target.value
    }
    out.push(r)
  }
  const div = (a: number | undefined, b: number | undefined): number | null | undefined =>
    a === undefined || b === undefined ? undefined : b === 0 ? null : a / b
  const diff = (a: Stat | null | undefined, b: Stat | null | undefined): number | undefined =>
    a && b ? a.median - b.median : undefined
  for (const w of workloads) {
    const us = get('us', w.id)
    const ceiling = get('ceiling', w.id)
    const bridge = get('bridge', w.id)
    const perCpu = (target?: Target): void => add('us ÷ bridge, records per CPU-second', w.id, div(us?.recordsPerCpuSec.median, bridge?.recordsPerCpuSec.median), target)
    switch (w.kind) {
      case 'produce':
        add('us ÷ ceiling, records/s', w.id, div(us?.recordsPerSec.median, ceiling?.recordsPerSec.median), w.batch === 100 ? { op: '>=', value: 0.8 } : undefined)
        add('us ÷ bridge, records/s', w.id, div(us?.recordsPerSec.median, bridge?.recordsPerSec.median))
        perCpu({ op: '>=', value: 3 })
        add('us ÷ ceiling, RSS', w.id, div(us?.peakRssMb.median, ceiling?.peakRssMb.median))
        add('us ÷ bridge, RSS', w.id, div(us?.peakRssMb.median, bridge?.peakRssMb.median))
        break
      case 'open-loop':
        add('us − ceiling, added p99 latency', w.id, diff(us?.p99, ceiling?.p99), { op: '<=', value: 2 }, 'ms')
        add('bridge − ceiling, added p99 latency', w.id, diff(bridge?.p99, ceiling?.p99), undefined, 'ms')
        perCpu({ op: '>=', value: 3 })
        break
      case 'drain':
        add('us ÷ ceiling, records/s', w.id, div(us?.recordsPerSec.median, ceiling?.recordsPerSec.median), { op: '>=', value: 0.6 })
        add('us ÷ bridge, records/s', w.id, div(us?.recordsPerSec.median, bridge?.recordsPerSec.median))
        perCpu({ op: '>=', value: 3 })
        break
      case 'e2e':
        add('us − ceiling, added p99 latency', w.id, diff(us?.p99, ceiling?.p99), undefined, 'ms')
        add('bridge − ceiling, added p99 latency', w.id, diff(bridge?.p99, ceiling?.p99), undefined, 'ms')
        perCpu({ op: '>=', value: 3 })
        break
      case 'consumers-rss':
        add('us ÷ bridge, RSS', w.id, div(us?.peakRssMb.median, bridge?.peakRssMb.median), { op: '<=', value: 0.5 })
        break
    }
  }
  return out
}

// ---- Markdown ----

const num = (n: number): string => n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2)
const spread = (s: Stat): string => `${num(s.median)} (${num(s.min)}–${num(s.max)})`
const ms = (s: Stat | null): string => s === null ? '–' : num(s.median)
const ratioValue = (r: Ratio): string => r.value === null ? 'n/a' : r.unit === 'ms' ? `${r.value.toFixed(2)} ms` : `${r.value.toFixed(2)}×`
const targetText = (r: Ratio): string => r.target === undefined ? '' : `${r.target.op === '>=' ? '≥' : '≤'} ${r.target.value}${r.unit === 'ms' ? ' ms' : '×'}`
const mark = (ok: boolean | undefined): string => ok === undefined ? '' : ok ? '✅' : '❌'

export function describe (w: Workload): string {
  const parts = [`${w.valueBytes} B values`]
  if (w.batch !== undefined) parts.push(`${w.batch} record${w.batch === 1 ? '' : 's'} per POST`)
  if (w.connections !== undefined) parts.push(`${w.connections} connection${w.connections === 1 ? '' : 's'}`)
  if (w.rate !== undefined) parts.push(`${w.rate} ${w.kind === 'e2e' ? 'records' : 'requests'}/s`)
  if (w.records !== undefined) parts.push(`${w.records.toLocaleString('en-US')} records`)
  if (w.consumers !== undefined) parts.push(`${w.consumers} consumer instances`)
  return `${w.kind}: ${parts.join(', ')}`
}

export function markdown (results: Results): string {
  const { meta } = results
  const lines: string[] = []
  lines.push(`# Benchmark results (${meta.mode}), ${meta.date.slice(0, 10)}`, '')
  lines.push(`Machine: ${meta.machine.cpu}, ${meta.machine.cores} CPUs, ${meta.machine.memoryGiB} GiB, ${meta.machine.os}, Linux ${meta.machine.kernel}. Run took ${Math.round(meta.durationSec / 60)} min.`, '')
  lines.push('- Versions: ' + Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join('; '))
  lines.push('- Placement: ' + Object.entries(meta.placement).map(([k, v]) => `${k}: ${v}`).join('; '))
  lines.push('- Settings: ' + Object.entries(meta.settings).map(([k, v]) => `${k}: ${String(v)}`).join('; '))
  for (const [arm, why] of Object.entries(meta.skipped)) lines.push(`- Skipped: ${arm}: ${why}`)
  lines.push('', 'Figures are medians of the repetitions, with the spread (lowest–highest) in brackets. CPU-s is the gateway process\'s', 'CPU time (for the ceiling, the native client process, which also generates its own load).', '')
  const targeted = results.ratios.filter((r) => r.target !== undefined)
  if (targeted.length > 0) {
    lines.push('## Targets', '', '| workload | ratio | value | target | met |', '|---|---|---|---|---|')
    for (const r of targeted) lines.push(`| ${r.workload} | ${r.name} | ${ratioValue(r)} | ${targetText(r)} | ${mark(r.met)} |`)
    lines.push('')
  }
  lines.push('## All ratios', '', '| workload | ratio | value |', '|---|---|---|')
  for (const r of results.ratios) lines.push(`| ${r.workload} | ${r.name} | ${ratioValue(r)} |`)
  lines.push('', '## Figures')
  for (const w of results.workloads) {
    const rows = results.summaries.filter((s) => s.workload === w.id)
    if (rows.length === 0) continue
    lines.push('', `### ${w.id}`, '', describe(w), '')
    lines.push('| arm | records/s | MB/s | p50 ms | p99 ms | p99.9 ms | CPU-s | records/CPU-s | peak RSS MiB | statuses | correct |')
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|')
    for (const s of rows) {
      const statuses = Object.entries(s.statuses).map(([k, n]) => `${k}×${n}`).join(', ')
      lines.push(`| ${s.arm} | ${spread(s.recordsPerSec)} | ${num(s.mbPerSec.median)} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.p999)} | ${num(s.cpuSec.median)} | ${num(s.recordsPerCpuSec.median)} | ${num(s.peakRssMb.median)} | ${statuses} | ${mark(s.correct)} |`)
    }
  }
  const wrong = results.cells.filter((c) => !c.correct)
  if (wrong.length > 0) {
    lines.push('', '## Correctness failures', '')
    for (const c of wrong) lines.push(`- ${c.arm}, ${c.workload}, repetition ${c.rep}: ${c.note ?? ''}`)
  }
  return lines.join('\n') + '\n'
}

// ---- SVG chart ----

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

export function svg (results: Results): string {
  const bars = results.ratios.filter((r) => r.unit !== 'ms' && r.value !== null &&
    (r.target !== undefined || r.name === 'us ÷ ceiling, records/s' || r.name === 'us ÷ bridge, records per CPU-second'))
  const ms = results.ratios.filter((r) => r.unit === 'ms' && r.value !== null && r.name.startsWith('us'))
  const width = 960
  const left = 430
  const barArea = width - left - 90
  const rowH = 22
  const top = 56
  const max = Math.max(1.2, ...bars.map((r) => Math.max(r.value!, r.target?.value ?? 0))) * 1.05
  const x = (v: number): number => left + (v / max) * barArea
  const colour = (r: Ratio): string => r.met === undefined ? '#7a8794' : r.met ? '#2e8b57' : '#c0392b'
  const out: string[] = []
  const height = top + bars.length * rowH + 40 + (ms.length > 0 ? 40 + ms.length * rowH : 0) + 20
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="16" y="24" font-size="16" font-weight="bold">${xml(`Kosha Kafka Connector: ratios (${results.meta.mode} run, ${results.meta.date.slice(0, 10)})`)}</text>`)
  out.push(`<text x="16" y="42" fill="#555">${xml(`${results.meta.machine.cpu}, ${results.meta.machine.cores} CPUs. Bar: value; tick: target (green met, red missed, grey none); dashed line: 1×.`)}</text>`)
  bars.forEach((r, i) => {
    const y = top + i * rowH
    out.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end">${xml(`${r.workload} — ${r.name}`)}</text>`)
    out.push(`<rect x="${left}" y="${y + 3}" width="${Math.max(1, x(r.value!) - left)}" height="${rowH - 8}" fill="${colour(r)}" opacity="0.8"/>`)
    out.push(`<text x="${x(r.value!) + 4}" y="${y + 14}">${xml(ratioValue(r))}</text>`)
    if (r.target) out.push(`<line x1="${x(r.target.value)}" x2="${x(r.target.value)}" y1="${y}" y2="${y + rowH}" stroke="${colour(r)}" stroke-width="3"/>`)
  })
  const axisBottom = top + bars.length * rowH
  out.push(`<line x1="${x(1)}" x2="${x(1)}" y1="${top - 4}" y2="${axisBottom}" stroke="#333" stroke-dasharray="4 3"/>`)
  out.push(`<text x="${x(1)}" y="${axisBottom + 14}" text-anchor="middle">1×</text>`)
  if (ms.length > 0) {
    const msTop = axisBottom + 48
    const msMax = Math.max(2.5, ...ms.map((r) => Math.max(r.value!, r.target?.value ?? 0))) * 1.05
    const mx = (v: number): number => left + (Math.max(0, v) / msMax) * barArea
    out.push(`<text x="16" y="${msTop - 10}" font-weight="bold">Added p99 latency over the ceiling (ms)</text>`)
    ms.forEach((r, i) => {
      const y = msTop + i * rowH
      out.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end">${xml(`${r.workload} — ${r.name}`)}</text>`)
      out.push(`<rect x="${left}" y="${y + 3}" width="${Math.max(1, mx(r.value!) - left)}" height="${rowH - 8}" fill="${colour(r)}" opacity="0.8"/>`)
      out.push(`<text x="${mx(r.value!) + 4}" y="${y + 14}">${xml(ratioValue(r))}</text>`)
      if (r.target) out.push(`<line x1="${mx(r.target.value)}" x2="${mx(r.target.value)}" y1="${y}" y2="${y + rowH}" stroke="${colour(r)}" stroke-width="3"/>`)
    })
  }
  out.push('</svg>')
  return out.join('\n') + '\n'
}

export function writeReport (results: Results, dir: string): { markdown: string, json: string, svg: string } {
  mkdirSync(dir, { recursive: true })
  const files = { markdown: join(dir, 'results.md'), json: join(dir, 'results.json'), svg: join(dir, 'ratios.svg') }
  writeFileSync(files.markdown, markdown(results))
  writeFileSync(files.json, JSON.stringify(results, null, 2) + '\n')
  writeFileSync(files.svg, svg(results))
  return files
}
