// The Helm chart (chart/kosha-kafka-connector): `helm lint --strict`, then `helm template` with the defaults and with
// the ingress, a created or an existing Secret, HTTPS and autoscaling, each render parsed and checked for what a
// user would notice: probes, the drain on shutdown, the security context, credentials only through secretKeyRef,
// the ingress's annotations (the same settings the nginx of test/routes/replicas-nginx.test.ts runs with), and that
// every variable the chart sets is one the service reads; and that the chart's README names every value. No
// cluster is needed; helm is the one the setup builds.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { chartDir, chartValues, ingressAnnotations } from './ingress'

const root = path.resolve(__dirname, '..', '..')
// A helm built by `go install` (as scripts/setup builds it) reports Kubernetes 1.20 when no cluster is asked, below
// the chart's kubeVersion: the render is done for a version the chart supports.
const KUBE_VERSION = '1.30.0'
const BROKERS = 'kafka-0.kafka:9092,kafka-1.kafka:9092'
const PASSWORD = 'Pa55-word-that-must-never-be-a-literal'

/** KOSHA_HELM, else the helm scripts/setup installs, else helm on PATH; or why there is none. */
function findHelm (): { helm: string } | { missing: string } {
  if (process.env.KOSHA_HELM) return { helm: process.env.KOSHA_HELM }
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache')
  const installed = path.join(cache, 'kosha-kafka-connector', 'helm-v3.22.0', 'helm')
  if (existsSync(installed)) return { helm: installed }
  if (spawnSync('helm', ['version'], { stdio: 'ignore' }).error === undefined) return { helm: 'helm' }
  return { missing: `helm not found (KOSHA_HELM, ${installed}, or helm on PATH): scripts/setup installs it` }
}
const found = findHelm()
const skip = 'missing' in found ? found.missing : false

// helm's own configuration and caches in a directory of this test, not the user's.
const helmHome = mkdtempSync(path.join(tmpdir(), 'kosha-helm-'))
t.teardown(() => rmSync(helmHome, { recursive: true, force: true }))

function helm (args: string[], values: object): { status: number | null, stdout: string, stderr: string } {
  if (!('helm' in found)) throw new Error(found.missing)
  const file = path.join(helmHome, `values-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(file, JSON.stringify(values)) // JSON is YAML
  const run = spawnSync(found.helm, [...args, chartDir, '--kube-version', KUBE_VERSION, '-f', file], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HELM_CONFIG_HOME: helmHome, HELM_CACHE_HOME: helmHome, HELM_DATA_HOME: helmHome }
  })
  if (run.error) throw run.error
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

interface Metadata { name: string, labels?: Record<string, string>, annotations?: Record<string, string> }
interface Manifest { apiVersion: string, kind: string, metadata: Metadata, spec?: unknown, data?: Record<string, string> }
interface EnvVar {
  name: string
  value?: string
  valueFrom?: { fieldRef?: { fieldPath: string }, secretKeyRef?: { name: string, key: string, optional?: boolean } }
}
interface Probe { httpGet: { path: string, port: string | number, scheme: string } }
interface Container {
  image: string
  ports: Array<{ name: string, containerPort: number }>
  env: EnvVar[]
  startupProbe: Probe
  livenessProbe: Probe
  readinessProbe: Probe
  lifecycle: { preStop: { exec: { command: string[] } } }
  securityContext: { readOnlyRootFilesystem: boolean, allowPrivilegeEscalation: boolean, capabilities: { drop: string[] } }
  resources: { requests: Record<string, string>, limits: Record<string, string> }
  volumeMounts: Array<{ name: string, mountPath: string, readOnly?: boolean }>
}
interface DeploymentSpec {
  replicas?: number
  selector: { matchLabels: Record<string, string> }
  template: {
    metadata: Metadata
    spec: {
      securityContext: Record<string, unknown>
      terminationGracePeriodSeconds: number
      automountServiceAccountToken: boolean
      serviceAccountName: string
      containers: Container[]
      volumes: Array<{ name: string, emptyDir?: object, secret?: { secretName: string } }>
    }
  }
}
interface IngressSpec {
  ingressClassName: string
  tls?: Array<{ secretName: string, hosts: string[] }>
  rules: Array<{ host?: string, http: { paths: Array<{ path: string, pathType: string, backend: { service: { name: string, port: { name: string } } } }> } }>
}

interface Rendered { manifests: Manifest[], text: string }

function render (values: object): Rendered {
  const run = helm(['template', 'kosha'], values)
  if (run.status !== 0) throw new Error(`helm template failed: ${run.stderr}`)
  const manifests = parseAllDocuments(run.stdout).map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null)
  return { manifests, text: run.stdout }
}

const kinds = (r: Rendered): string[] => r.manifests.map((m) => m.kind).sort()
function one (r: Rendered, kind: string): Manifest {
  const all = r.manifests.filter((m) => m.kind === kind)
  if (all.length !== 1) throw new Error(`${all.length} ${kind} rendered, not 1`)
  return all[0] as Manifest
}
const deployment = (r: Rendered): DeploymentSpec => one(r, 'Deployment').spec as DeploymentSpec
function container (r: Rendered): Container {
  const [c, ...more] = deployment(r).template.spec.containers
  if (!c || more.length > 0) throw new Error('not one container')
  return c
}
const env = (r: Rendered): Map<string, EnvVar> => new Map(container(r).env.map((e) => [e.name, e]))
/** The text of the Deployment alone, as rendered. */
const deploymentText = (r: Rendered): string => r.text.split(/^---$/m).find((d) => /^kind: Deployment$/m.test(d)) ?? ''

const base = { kafka: { brokerAddress: BROKERS } }
const everything = {
  kafka: { brokerAddress: BROKERS, stateTopic: 'team.kosha-state' },
  schemaRegistry: { url: 'http://schema-registry:8081' },
  credentials: { username: 'kosha', password: PASSWORD, apiKeys: 'key-1,key-2', basicAuthUsers: 'alice:An0ther-secret', schemaRegistryUsername: 'sr-user', schemaRegistryPassword: 'Regi5try-secret' },
  https: { enabled: true, secretName: 'kosha-https' },
  ingress: {
    enabled: true,
    hosts: [{ host: 'kosha.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }],
    tls: [{ secretName: 'kosha-tls', hosts: ['kosha.example.com'] }],
    annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' }
  },
  env: { LOG_LEVEL: 'debug', TRUST_PROXY: '10.0.0.0/8' }
}

t.test('helm lint --strict passes with the defaults and with every option on', { skip }, async (t) => {
  for (const [name, values] of [['defaults', base], ['ingress, secret, HTTPS', everything]] as const) {
    const lint = helm(['lint', '--strict'], values)
    t.equal(lint.status, 0, `${name}: lint passes`) || t.comment(lint.stdout + lint.stderr)
    t.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/, `${name}: no failure`)
  }
})

t.test('without kafka.brokerAddress the render fails and says what to set', { skip }, async (t) => {
  const run = helm(['template', 'kosha'], {})
  t.not(run.status, 0, 'helm template fails')
  t.match(run.stderr, /kafka\.brokerAddress is required: .*BROKER_ADDRESS/, 'naming the value and the variable')
})

t.test('the defaults: a Deployment of 2 replicas, a Service and a PodDisruptionBudget, nothing else', { skip }, async (t) => {
  const r = render(base)
  t.same(kinds(r), ['Deployment', 'PodDisruptionBudget', 'Service'])
  const d = deployment(r)
  t.equal(d.replicas, 2)
  const appVersion = (parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion
  t.equal(appVersion, (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version, "appVersion is the service's version")
  t.equal(container(r).image, `kosha-kafka-connector:${appVersion}`, 'the image tag defaults to appVersion')
  t.same(container(r).ports.map((p) => [p.name, p.containerPort]), [['http', 8000]], 'port 8000, named http')
  t.equal(env(r).get('BROKER_ADDRESS')?.value, BROKERS)
  t.equal(env(r).get('PORT')?.value, '8000')
  t.notOk(env(r).has('STATE_TOPIC'), "STATE_TOPIC left to the service's default")
  for (const name of ['USERNAME', 'PASSWORD', 'API_KEYS', 'BASIC_AUTH_USERS']) t.notOk(env(r).has(name), `no ${name} without credentials`)

  const service = one(r, 'Service').spec as { type: string, ports: Array<{ port: number, targetPort: string }>, selector: Record<string, string> }
  t.equal(service.type, 'ClusterIP')
  t.same(service.ports.map((p) => [p.port, p.targetPort]), [[8000, 'http']], 'the Service on 8000, to the container port http')
  t.same(service.selector, d.selector.matchLabels, 'the Service selects the pods')
  t.match(d.template.metadata.labels, d.selector.matchLabels, "the pods carry the selector's labels")
})

t.test('probes: startup and liveness on /healthz, readiness on /readyz, on the http port; HTTPS when the service serves HTTPS', { skip }, async (t) => {
  for (const [values, scheme] of [[base, 'HTTP'], [everything, 'HTTPS']] as const) {
    const c = container(render(values))
    t.same(c.startupProbe.httpGet, { path: '/healthz', port: 'http', scheme }, `startup (${scheme})`)
    t.same(c.livenessProbe.httpGet, { path: '/healthz', port: 'http', scheme }, `liveness (${scheme})`)
    t.same(c.readinessProbe.httpGet, { path: '/readyz', port: 'http', scheme }, `readiness (${scheme})`)
  }
})

t.test('shutdown: a preStop sleep, then SIGTERM with SHUTDOWN_GRACE_MS to drain, all within terminationGracePeriodSeconds', { skip }, async (t) => {
  for (const shutdown of [undefined, { graceSeconds: 100, preStopSleepSeconds: 10, marginSeconds: 2 }]) {
    const r = render(shutdown ? { ...base, shutdown } : base)
    const name = shutdown ? 'graceSeconds 100' : 'defaults'
    const [sleep, seconds, ...rest] = container(r).lifecycle.preStop.exec.command
    t.equal(sleep, '/bin/sleep', `${name}: preStop sleeps (the image has /bin/sleep)`)
    t.same(rest, [])
    const preStop = Number(seconds)
    t.ok(preStop >= 1, `${name}: for ${preStop} s`)
    const graceMs = Number(env(r).get('SHUTDOWN_GRACE_MS')?.value)
    t.equal(graceMs, (shutdown?.graceSeconds ?? 25) * 1000, `${name}: SHUTDOWN_GRACE_MS from shutdown.graceSeconds`)
    const period = deployment(r).template.spec.terminationGracePeriodSeconds
    t.ok(period > preStop + graceMs / 1000, `${name}: terminationGracePeriodSeconds ${period} > preStop ${preStop} + drain ${graceMs / 1000}`)
  }
})

t.test('the pod runs as the image\'s node user, unprivileged, on a read-only root with /tmp writable, within resources', { skip }, async (t) => {
  const r = render(base)
  const pod = deployment(r).template.spec
  t.same(pod.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } })
  t.same(container(r).securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } })
  const tmp = container(r).volumeMounts.find((m) => m.mountPath === '/tmp')
  t.ok(tmp && pod.volumes.some((v) => v.name === tmp.name && v.emptyDir !== undefined), '/tmp is an emptyDir')
  t.same(container(r).resources, { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } })
  t.equal(pod.automountServiceAccountToken, false, 'no Kubernetes API token in the pod')
})

t.test('REPLICA_URL is the pod\'s own address, from the downward API, so that the replicas reach each other', { skip }, async (t) => {
  for (const [values, scheme] of [[base, 'http'], [everything, 'https']] as const) {
    const vars = container(render(values)).env
    const podIp = vars.findIndex((e) => e.name === 'POD_IP')
    const replicaUrl = vars.findIndex((e) => e.name === 'REPLICA_URL')
    t.same(vars[podIp]?.valueFrom, { fieldRef: { fieldPath: 'status.podIP' } }, 'POD_IP from status.podIP')
    t.equal(vars[replicaUrl]?.value, `${scheme}://$(POD_IP):8000`, `REPLICA_URL ${scheme}://$(POD_IP):8000`)
    t.ok(podIp >= 0 && podIp < replicaUrl, 'POD_IP comes first (Kubernetes expands $(VAR) only from earlier variables)')
  }
})

t.test('credentials: a Secret the chart creates, read through secretKeyRef; the password never in the Deployment', { skip }, async (t) => {
  const r = render(everything)
  const secret = one(r, 'Secret')
  const name = secret.metadata.name
  const decoded = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))
  t.same(decoded, { USERNAME: 'kosha', PASSWORD, API_KEYS: 'key-1,key-2', BASIC_AUTH_USERS: 'alice:An0ther-secret', SCHEMA_REGISTRY_USERNAME: 'sr-user', SCHEMA_REGISTRY_PASSWORD: 'Regi5try-secret' }, 'the Secret holds the six, by variable name')
  for (const key of ['USERNAME', 'PASSWORD', 'API_KEYS', 'BASIC_AUTH_USERS', 'SCHEMA_REGISTRY_USERNAME', 'SCHEMA_REGISTRY_PASSWORD']) {
    const v = env(r).get(key)
    t.same(v?.valueFrom?.secretKeyRef, { name, key }, `${key} from the Secret`)
    t.equal(v?.value, undefined, `${key} is no literal`)
  }
  const text = deploymentText(r)
  t.match(text, /kind: Deployment/)
  for (const secretValue of [PASSWORD, 'An0ther-secret', 'key-1', 'Regi5try-secret']) t.notOk(text.includes(secretValue), 'no secret value in the Deployment')
  t.match(deployment(r).template.metadata.annotations, { 'checksum/credentials': /^[0-9a-f]{64}$/ }, 'a change of the Secret rolls the pods')

  const some = render({ ...base, credentials: { username: 'kosha', password: PASSWORD } })
  t.same(Object.keys(one(some, 'Secret').data ?? {}).sort(), ['PASSWORD', 'USERNAME'], 'only the credentials given')
  t.notOk(env(some).has('API_KEYS'), 'API_KEYS stays unset (HTTP authentication off)')
})

t.test('credentials from an existing Secret: none created, every key optional', { skip }, async (t) => {
  const r = render({ ...base, credentials: { existingSecret: 'team-kafka' } })
  t.notOk(kinds(r).includes('Secret'), 'the chart creates no Secret')
  for (const key of ['USERNAME', 'PASSWORD', 'API_KEYS', 'BASIC_AUTH_USERS', 'SCHEMA_REGISTRY_USERNAME', 'SCHEMA_REGISTRY_PASSWORD']) {
    t.same(env(r).get(key)?.valueFrom?.secretKeyRef, { name: 'team-kafka', key, optional: true }, `${key} from team-kafka, if it has it`)
  }
  const both = helm(['template', 'kosha'], { ...base, credentials: { existingSecret: 'team-kafka', password: PASSWORD } })
  t.not(both.status, 0, 'an existing Secret and a password in values: refused')
  t.match(both.stderr, /existingSecret is set, so .*password.* must be empty/)
})

t.test('the Schema Registry: SCHEMA_REGISTRY_URL from schemaRegistry.url (none by default); its credentials both or neither, and only with the URL', { skip }, async (t) => {
  t.notOk(env(render(base)).has('SCHEMA_REGISTRY_URL'), 'no registry by default')
  t.equal(env(render(everything)).get('SCHEMA_REGISTRY_URL')?.value, 'http://schema-registry:8081')
  const half = helm(['template', 'kosha'], { ...base, schemaRegistry: { url: 'http://r:8081' }, credentials: { schemaRegistryUsername: 'sr-user' } })
  t.not(half.status, 0, 'a registry username without its password: refused')
  t.match(half.stderr, /schemaRegistryUsername and schemaRegistryPassword go together/)
  const noUrl = helm(['template', 'kosha'], { ...base, credentials: { schemaRegistryUsername: 'sr-user', schemaRegistryPassword: 'p' } })
  t.not(noUrl.status, 0, 'registry credentials without a registry: refused')
  t.match(noUrl.stderr, /schemaRegistryUsername is set but schemaRegistry\.url is not/)
  const twice = helm(['template', 'kosha'], { ...base, env: { SCHEMA_REGISTRY_URL: 'http://r:8081' } })
  t.not(twice.status, 0)
  t.match(twice.stderr, /env\.SCHEMA_REGISTRY_URL: the chart sets SCHEMA_REGISTRY_URL itself \(set schemaRegistry\.url\)/)
})

t.test('the ingress: off by default; on, its ingress-nginx annotations come from ingress.proxy', { skip }, async (t) => {
  const r = render(everything)
  const ingress = one(r, 'Ingress')
  t.equal(ingress.apiVersion, 'networking.k8s.io/v1')
  t.same(ingress.metadata.annotations, {
    ...ingressAnnotations(),
    'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS',
    'cert-manager.io/cluster-issuer': 'letsencrypt'
  }, "the annotations test/deploy/ingress.ts derives from values.yaml (nginx's directives in the nginx test), the backend's HTTPS, and the user's")
  // What they must say, for SSE streams and long polls to stay open and bodies to be streamed.
  t.match(ingress.metadata.annotations, {
    'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
    'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
    'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
    'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    'nginx.ingress.kubernetes.io/proxy-http-version': '1.1',
    'nginx.ingress.kubernetes.io/proxy-body-size': String(chartValues().bodyLimitBytes)
  })
  t.equal(env(r).get('BODY_LIMIT')?.value, String(chartValues().bodyLimitBytes), 'BODY_LIMIT is the ingress\'s body size')
  const spec = ingress.spec as IngressSpec
  t.equal(spec.ingressClassName, 'nginx')
  t.same(spec.tls, [{ secretName: 'kosha-tls', hosts: ['kosha.example.com'] }])
  t.same(spec.rules, [{
    host: 'kosha.example.com',
    http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: one(r, 'Service').metadata.name, port: { name: 'http' } } } }] }
  }], 'every path to the Service')

  const plain = one(render({ ...base, ingress: { enabled: true } }), 'Ingress')
  t.same(plain.metadata.annotations, ingressAnnotations(), 'without HTTPS: the proxy settings alone')
  t.same((plain.spec as IngressSpec).rules.map((rule) => rule.host), [undefined], 'by default any host')

  const again = helm(['template', 'kosha'], { ...base, ingress: { enabled: true, annotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '60' } } })
  t.not(again.status, 0, 'an annotation that repeats a proxy setting is refused')
  t.match(again.stderr, /proxy-read-timeout is built from ingress\.proxy/)
})

t.test('HTTPS: the certificate and key from a TLS Secret, mounted read-only', { skip }, async (t) => {
  const r = render(everything)
  t.equal(env(r).get('HTTPS_CERT_FILE')?.value, '/etc/kosha/https/tls.crt')
  t.equal(env(r).get('HTTPS_KEY_FILE')?.value, '/etc/kosha/https/tls.key')
  const mount = container(r).volumeMounts.find((m) => m.mountPath === '/etc/kosha/https')
  t.equal(mount?.readOnly, true)
  t.same(deployment(r).template.spec.volumes.find((v) => v.name === mount?.name)?.secret?.secretName, 'kosha-https')
  const unnamed = helm(['template', 'kosha'], { ...base, https: { enabled: true } })
  t.match(unnamed.stderr, /https\.secretName is required/, 'HTTPS without a Secret is refused')
})

t.test('the PodDisruptionBudget: maxUnavailable 1, only where there can be more than one replica (or forced)', { skip }, async (t) => {
  const pdb = one(render(base), 'PodDisruptionBudget')
  t.equal(pdb.apiVersion, 'policy/v1')
  t.match(pdb.spec, { maxUnavailable: 1, selector: { matchLabels: deployment(render(base)).selector.matchLabels } })
  t.notOk(kinds(render({ ...base, replicaCount: 1 })).includes('PodDisruptionBudget'), 'none for a single replica')
  t.ok(kinds(render({ ...base, replicaCount: 1, podDisruptionBudget: { force: true } })).includes('PodDisruptionBudget'), 'unless forced')
})

t.test('autoscaling and a ServiceAccount, both off by default', { skip }, async (t) => {
  const r = render({ ...base, autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 9 }, serviceAccount: { create: true } })
  t.equal(deployment(r).replicas, undefined, 'the HPA owns the replica count')
  const hpa = one(r, 'HorizontalPodAutoscaler')
  t.equal(hpa.apiVersion, 'autoscaling/v2')
  t.match(hpa.spec, { minReplicas: 3, maxReplicas: 9, scaleTargetRef: { kind: 'Deployment', name: one(r, 'Deployment').metadata.name } })
  t.equal(deployment(r).template.spec.serviceAccountName, one(r, 'ServiceAccount').metadata.name)
})

t.test('env: any other variable, as the string the service reads; not one the chart sets itself', { skip }, async (t) => {
  const r = render({ ...base, env: { LOG_LEVEL: 'debug', SHED_MAX_RSS_BYTES: 2147483648, OTEL_TRACES_SAMPLER_ARG: 0.25, KAFKA_TLS: true } })
  t.equal(env(r).get('LOG_LEVEL')?.value, 'debug')
  t.equal(env(r).get('SHED_MAX_RSS_BYTES')?.value, '2147483648', 'a large number as an integer, not 2.147483648e+09')
  t.equal(env(r).get('OTEL_TRACES_SAMPLER_ARG')?.value, '0.25')
  t.equal(env(r).get('KAFKA_TLS')?.value, 'true')
  const twice = helm(['template', 'kosha'], { ...base, env: { BODY_LIMIT: '5000000' } })
  t.not(twice.status, 0, 'env.BODY_LIMIT is refused')
  t.match(twice.stderr, /env\.BODY_LIMIT: the chart sets BODY_LIMIT itself \(set bodyLimitBytes\)/)
})

t.test('every variable the chart sets is one the service reads (a typo fails here)', { skip }, async (t) => {
  // What reads the environment in the container: lib/config.ts (get('NAME'), env.NAME) and scripts/serve, the
  // image's command (${NAME}).
  const config = readFileSync(path.join(root, 'lib/config.ts'), 'utf8')
  const serve = readFileSync(path.join(root, 'scripts/serve'), 'utf8')
  const known = new Set([
    ...[...config.matchAll(/'([A-Z][A-Z0-9_]*)'|\benv\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] ?? m[2]),
    ...[...serve.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1])
  ])
  t.ok(known.has('BROKER_ADDRESS') && known.has('SHUTDOWN_GRACE_MS'), 'the service\'s variables are found in its sources')
  const set = new Set<string>()
  for (const values of [base, everything, { ...base, credentials: { existingSecret: 'x' } }]) {
    for (const e of container(render(values)).env) set.add(e.name)
  }
  // POD_IP is the chart's own: only the source of $(POD_IP) in REPLICA_URL.
  set.delete('POD_IP')
  t.ok(set.size >= 14, `${set.size} variables, over the three renders`)
  for (const name of [...set].sort()) t.ok(known.has(name), `${name} is read by the service`)
})

t.test('the chart\'s README names every value of values.yaml', async (t) => {
  const readme = readFileSync(path.join(chartDir, 'README.md'), 'utf8')
  // Documented as a whole (its keys are Kubernetes' own).
  const whole = new Set(['resources'])
  const leaves = (value: unknown, prefix: string): string[] =>
    value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0 && !whole.has(prefix)
      ? Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k))
      : [prefix]
  const names = leaves(chartValues(), '')
  t.ok(names.length > 40, `${names.length} values`)
  for (const name of names) t.ok(readme.includes(`\`${name}\``), `${name} is in the README`)
})
