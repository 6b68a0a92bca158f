// Kafka protocol calls that neither client's admin API offers as needed: CreateTopics with validate_only or replica
// assignments, ListPartitionReassignments, and configs of the cluster-wide broker resource (named ""; @platformatic's
// Admin routes a broker resource to the broker its name numbers, and "" to a broker 0 that need not exist).
// @platformatic/kafka's protocol API is reached through its semi-internal kGetBootstrapConnection / kGetApi, kept to
// this one function. kGetApi looks the API up by name and answers the highest version the broker supports, so the
// request's and response's types are the caller's to state (a version whose shapes the later ones keep).
import { kGetApi, kGetBootstrapConnection, type API, type Admin, type Connection } from '@platformatic/kafka'
import { fromCallback } from './callback'

/** Calls the protocol API `name` on any broker: for requests any broker answers, or forwards to the controller (KRaft). */
export async function onAnyBroker<Args extends unknown[], Response> (admin: Admin, name: string, ...args: Args): Promise<Response> {
  const connection = await fromCallback<Connection>((done) => { admin[kGetBootstrapConnection](done) })
  const api = await fromCallback<API<Args, Response>>((done) => { admin[kGetApi]<Args, Response>(name, done) })
  return await api.async(connection, ...args)
}
