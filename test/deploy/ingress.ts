// The ingress settings of the Helm chart (chart/kosha-kafka-connector/values.yaml: ingress.proxy and bodyLimitBytes),
// read from the chart itself, as the two things that apply them: the ingress-nginx annotations the chart's Ingress
// must carry (test/deploy/chart.test.ts compares them with what helm renders), and the nginx directives
// ingress-nginx turns them into (test/routes/replicas-nginx.test.ts runs a real nginx with them). So the nginx the
// tests stream SSE and long polls through is configured as the chart configures the ingress.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'

export const chartDir = path.resolve(__dirname, '..', '..', 'chart', 'kosha-kafka-connector')

/** One setting, as the chart's annotation and as the nginx directive ingress-nginx writes for it. */
export interface ProxySetting { annotation: string, value: string, directive: string }

/** values.yaml as parsed: what these settings need is checked by proxySettings, not assumed. */
export interface ChartValues { bodyLimitBytes?: unknown, ingress?: { proxy?: Record<string, unknown> } }

export function chartValues (): ChartValues {
  return parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as ChartValues
}

/** A value of the wrong type (or a renamed one) fails here, rather than writing `proxy_read_timeout undefineds`. */
function typed<T> (name: string, value: unknown, type: 'boolean' | 'number' | 'string'): T {
  const actual: string = typeof value
  if (actual !== type) throw new Error(`chart values: ${name} must be a ${type} (got ${JSON.stringify(value)})`)
  return value as T
}

const onOff = (on: boolean): string => on ? 'on' : 'off'

export function proxySettings (values: ChartValues = chartValues()): ProxySetting[] {
  const p: Record<string, unknown> = values.ingress?.proxy ?? {}
  const buffering = onOff(typed<boolean>('ingress.proxy.buffering', p.buffering, 'boolean'))
  const requestBuffering = onOff(typed<boolean>('ingress.proxy.requestBuffering', p.requestBuffering, 'boolean'))
  const read = typed<number>('ingress.proxy.readTimeoutSeconds', p.readTimeoutSeconds, 'number')
  const send = typed<number>('ingress.proxy.sendTimeoutSeconds', p.sendTimeoutSeconds, 'number')
  const version = typed<string>('ingress.proxy.httpVersion', p.httpVersion, 'string')
  const body = typed<number>('bodyLimitBytes', values.bodyLimitBytes, 'number')
  const a = 'nginx.ingress.kubernetes.io/'
  return [
    { annotation: `${a}proxy-buffering`, value: buffering, directive: `proxy_buffering ${buffering};` },
    { annotation: `${a}proxy-request-buffering`, value: requestBuffering, directive: `proxy_request_buffering ${requestBuffering};` },
    { annotation: `${a}proxy-read-timeout`, value: String(read), directive: `proxy_read_timeout ${read}s;` },
    { annotation: `${a}proxy-send-timeout`, value: String(send), directive: `proxy_send_timeout ${send}s;` },
    { annotation: `${a}proxy-http-version`, value: version, directive: `proxy_http_version ${version};` },
    // A size without a unit is bytes, for nginx and for ingress-nginx's annotation alike.
    { annotation: `${a}proxy-body-size`, value: String(body), directive: `client_max_body_size ${body};` }
  ]
}

/** The annotations the chart's Ingress carries for these settings (with https.enabled, also backend-protocol). */
export function ingressAnnotations (values: ChartValues = chartValues()): Record<string, string> {
  return Object.fromEntries(proxySettings(values).map((s) => [s.annotation, s.value]))
}

/** The same settings as lines of an nginx `location`. */
export function nginxDirectives (values: ChartValues = chartValues()): string[] {
  return proxySettings(values).map((s) => s.directive)
}
