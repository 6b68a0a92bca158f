// A real nginx (Debian's package; scripts/setup installs it) in front of what a test runs: an unprivileged process of
// the test's own on a free loopback port, stopped at the test's end, configured with the lines the test gives for its
// `http` and `server` blocks. Its logs stay in the directory it answers, to read when a test fails.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

/** The reason to skip a test that needs nginx, or false when it is installed. */
export const nginxSkip: string | false = spawnSync('nginx', ['-v']).error !== undefined ? 'nginx is not installed (scripts/setup installs it)' : false

export function freePort (): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

export interface Nginx { port: number, dir: string }

/** Starts nginx with these lines in its `http` block (upstreams, say) and its one `server` block; resolves once it answers. */
export async function startNginx (t: Test, config: { http?: string[], server: string[] }): Promise<Nginx> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kosha-nginx-'))
  chmodSync(dir, 0o777)
  const port = await freePort()
  const conf = path.join(dir, 'nginx.conf')
  const indent = (lines: string[] | undefined, by: string): string => (lines ?? []).map((l) => `${by}${l}`).join('\n')
  writeFileSync(conf, `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${indent(config.http, '  ')}
  server {
    listen 127.0.0.1:${port};
${indent(config.server, '    ')}
  }
}
`)
  chmodSync(conf, 0o644)
  const unprivileged = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', `${dir}/error.log`], { stdio: 'ignore', ...unprivileged })
  t.teardown(async () => {
    if (child.exitCode !== null) return
    child.kill('SIGTERM')
    await once(child, 'exit')
  })
  const deadline = Date.now() + 15_000
  while (await fetch(`http://127.0.0.1:${port}/`).then(async (r) => { await r.body?.cancel(); return false }, () => true)) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): see ${dir}/error.log`)
    if (Date.now() > deadline) throw new Error(`nginx did not answer on ${port} within 15 s: see ${dir}/error.log`)
    await sleep(100)
  }
  return { port, dir }
}
