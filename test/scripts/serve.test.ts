// scripts/serve, the production launcher: jemalloc where the system has it, glibc's allocator when asked.
// Node options pass through it, so `-e` runs a probe in place of the service.
import { execFileSync, spawnSync } from 'node:child_process'
import path from 'node:path'
import t from 'tap'

const root = path.resolve(__dirname, '..', '..')
const PROBE = 'console.log(JSON.stringify({ jemalloc: require("fs").readFileSync("/proc/self/maps", "utf8").includes("libjemalloc"), conf: process.env.MALLOC_CONF ?? null }))'

function probe (env: Record<string, string> = {}): { jemalloc: boolean, conf: string | null } {
  const out = execFileSync('sh', ['scripts/serve', '-e', PROBE], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' })
  return JSON.parse(out) as { jemalloc: boolean, conf: string | null }
}

const hasJemalloc = /libjemalloc\.so\.2 /.test(spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '')

t.test('the service runs on jemalloc, returning freed memory, where the system has it', { skip: hasJemalloc ? false : 'libjemalloc2 is not installed here (scripts/setup installs it)' }, async (t) => {
  const used = probe()
  t.equal(used.jemalloc, true, 'libjemalloc is loaded')
  t.match(used.conf, /background_thread:true/, 'a background thread returns freed pages')
  t.match(used.conf, /tcache:false/, 'no per-thread caches (each librdkafka client has threads of its own)')
  t.equal(probe({ MALLOC_CONF: 'narenas:2' }).conf, 'narenas:2', "the operator's MALLOC_CONF is kept as it is")
})

t.test('KOSHA_ALLOCATOR=system keeps glibc\'s allocator', async (t) => {
  const used = probe({ KOSHA_ALLOCATOR: 'system' })
  t.equal(used.jemalloc, false)
  t.equal(used.conf, null)
})
