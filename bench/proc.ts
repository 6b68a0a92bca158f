// What a process costs, read from Linux's /proc: CPU seconds and resident memory of a process and its descendants
// (a launcher script's JVM, say), and a sampler for the highest memory seen while a workload runs.
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100

function read (path: string): string | undefined {
  try { return readFileSync(path, 'utf8') } catch { return undefined }
}

/** The process and every descendant still alive. */
export function tree (pid: number): number[] {
  const all = [pid]
  for (let n = 0; n < all.length; n++) {
    const p = all[n] as number
    let tasks: string[] = []
    try { tasks = readdirSync(`/proc/${p}/task`) } catch { continue }
    for (const t of tasks) {
      for (const child of (read(`/proc/${p}/task/${t}/children`) ?? '').split(' ').filter(Boolean)) all.push(Number(child))
    }
  }
  return all
}

/** User + system CPU seconds used so far by the process and its descendants. */
export function cpuSeconds (pid: number): number {
  let ticks = 0
  for (const p of tree(pid)) {
    const stat = read(`/proc/${p}/stat`)
    if (!stat) continue
    // Fields after the command (which may hold spaces) start after the last ')'; utime and stime are 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12])
  }
  return ticks / TICKS
}

/** Resident set size of the process and its descendants, MiB. */
export function rssMb (pid: number): number {
  let kb = 0
  for (const p of tree(pid)) {
    const m = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${p}/status`) ?? '')
    if (m) kb += Number(m[1])
  }
  return kb / 1024
}

/** Samples memory every `everyMs` until stopped; answers the highest value seen. */
export function rssSampler (pid: number, everyMs = 50): { stop: () => number } {
  let peak = rssMb(pid)
  const timer = setInterval(() => { peak = Math.max(peak, rssMb(pid)) }, everyMs)
  return { stop: () => { clearInterval(timer); return Math.max(peak, rssMb(pid)) } }
}
