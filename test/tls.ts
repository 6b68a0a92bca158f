// A throw-away PKI for tests, made with openssl in a temporary directory removed when the test ends: a CA, a server
// certificate for 127.0.0.1 and localhost, a client certificate, both signed by the CA, and an unrelated CA.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export interface Pki {
  ca: string
  serverCert: string
  serverKey: string
  clientCert: string
  clientKey: string
  /** A CA that signed nothing here. */
  otherCa: string
}

interface Teardown { teardown: (fn: () => unknown) => void }

export function makePki (t: Teardown): Pki {
  const dir = mkdtempSync(path.join(tmpdir(), 'kosha-pki-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = (name: string): string => path.join(dir, name)
  const openssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }) }
  const key = (name: string): void => { openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(`${name}.key`)) }
  const ca = (name: string): void => {
    key(name)
    writeFileSync(file(`${name}.cnf`), '[req]\ndistinguished_name=dn\n[dn]\n[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n')
    openssl('req', '-x509', '-new', '-key', file(`${name}.key`), '-subj', `/CN=${name}`, '-days', '2', '-config', file(`${name}.cnf`), '-extensions', 'ca', '-out', file(`${name}.pem`))
  }
  const leaf = (name: string, cn: string, extensions: string): void => {
    key(name)
    openssl('req', '-new', '-key', file(`${name}.key`), '-subj', `/CN=${cn}`, '-out', file(`${name}.csr`))
    writeFileSync(file(`${name}.ext`), extensions)
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`))
  }
  ca('ca')
  ca('other-ca')
  leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  leaf('client', 'kosha-client', 'extendedKeyUsage=clientAuth\n')
  return {
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    otherCa: file('other-ca.pem')
  }
}
