// The live calls from WS /api/live: a snapshot on connect, then events; reconnects with
// backoff (1 s doubling to 30 s) while a page that uses it is open.
import { reactive, ref } from 'vue'
import type { Turn } from './api'

export interface LiveCall {
  call_id: string
  line: string | null
  caller: string | null
  started_at: number
  turns: Turn[]
  speaking: null | 'caller' | 'secretary'
  barge_in_at?: number | null
  transferred_to?: string | null
}

type Event =
  | { type: 'snapshot'; calls: LiveCall[] }
  | { type: 'call_started'; call: LiveCall }
  | { type: 'turn'; call_id: string; turn: Turn }
  | { type: 'speaking'; call_id: string; who: null | 'caller' | 'secretary' }
  | { type: 'barge_in'; call_id: string; at: number }
  | { type: 'transfer'; call_id: string; to: string; by: string }
  | { type: 'call_ended'; call_id: string; ended_by: string; ended_at: number }
  | { type: 'lagged'; dropped: number }

export const liveCalls = reactive(new Map<string, LiveCall>())
export const liveState = ref<'connecting' | 'open' | 'closed'>('connecting')
export const lagged = ref(0)

let socket: WebSocket | null = null
let users = 0
let retry = 1000
let timer: number | undefined

function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`
}
export { wsUrl }

function apply(ev: Event): void {
  switch (ev.type) {
    case 'snapshot':
      liveCalls.clear()
      for (const c of ev.calls) liveCalls.set(c.call_id, { ...c, turns: [...(c.turns ?? [])] })
      break
    case 'call_started':
      liveCalls.set(ev.call.call_id, { ...ev.call, turns: [...(ev.call.turns ?? [])] })
      break
    case 'turn':
      liveCalls.get(ev.call_id)?.turns.push(ev.turn)
      break
    case 'speaking': {
      const c = liveCalls.get(ev.call_id)
      if (c) c.speaking = ev.who
      break
    }
    case 'barge_in': {
      const c = liveCalls.get(ev.call_id)
      if (c) c.barge_in_at = ev.at
      break
    }
    case 'call_ended':
      liveCalls.delete(ev.call_id)
      break
    case 'lagged':
      lagged.value += ev.dropped
      break
    case 'transfer': {
      const c = liveCalls.get(ev.call_id)
      if (c) c.transferred_to = ev.to
      break
    }
  }
}

function connect(): void {
  liveState.value = 'connecting'
  const ws = new WebSocket(wsUrl('/api/live'))
  socket = ws
  ws.onopen = () => {
    retry = 1000
    liveState.value = 'open'
  }
  ws.onmessage = (msg) => {
    try {
      apply(JSON.parse(String(msg.data)) as Event)
    } catch {
      /* a frame we do not understand */
    }
  }
  ws.onclose = () => {
    if (socket !== ws) return
    socket = null
    liveState.value = 'closed'
    if (users > 0) {
      timer = window.setTimeout(connect, retry)
      retry = Math.min(retry * 2, 30000)
    }
  }
}

export function useLive(): void {
  users += 1
  if (users === 1 && socket === null) connect()
}

export function releaseLive(): void {
  users = Math.max(0, users - 1)
  if (users === 0) {
    window.clearTimeout(timer)
    const ws = socket
    socket = null
    ws?.close()
    liveState.value = 'closed'
  }
}
