// The console's JSON API (docs/console.md): the session cookie goes with every request, and
// the CSRF token from login or /api/me with every state-changing one.
import { reactive } from 'vue'

export type Role = 'admin' | 'receptionist'
export interface User { name: string; role: Role }

export const session = reactive<{ user: User | null; csrf: string; checked: boolean }>({
  user: null,
  csrf: '',
  checked: false,
})

export class ApiError extends Error {
  /** `body` is the parsed JSON error body, when there was one (e.g. a 422's structured detail). */
  constructor(public status: number, message: string, public body?: unknown) {
    super(message)
  }
}

type Params = Record<string, string | number | boolean | null | undefined>

export function query(params: Params): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

async function send(path: string, method: string, headers: Record<string, string>, body?: BodyInit): Promise<Response> {
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf
  const res = await fetch(`/api${path}`, { method, headers, credentials: 'same-origin', body })
  if (res.status === 401 && path !== '/login') {
    session.user = null
    session.csrf = ''
  }
  if (!res.ok) {
    let detail = res.statusText
    let parsed: unknown
    try {
      parsed = await res.json()
      const d = (parsed as { detail?: unknown } | null)?.detail
      if (typeof d === 'string') detail = d
      else if (d && typeof (d as { message?: unknown }).message === 'string') detail = (d as { message: string }).message
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, detail, parsed)
  }
  return res
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; params?: Params } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (init.body !== undefined) headers['Content-Type'] = 'application/json'
  const res = await send(`${path}${init.params ? query(init.params) : ''}`, init.method ?? 'GET', headers,
    init.body === undefined ? undefined : JSON.stringify(init.body))
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}

/** A multipart/form-data POST (file uploads); the JSON answer. */
export async function apiForm<T>(path: string, form: FormData): Promise<T> {
  const res = await send(path, 'POST', { Accept: 'application/json' }, form)
  return (await res.json()) as T
}

/** A JSON POST whose answer is a file (audio): the body as a Blob. */
export async function apiBlob(path: string, body: unknown): Promise<Blob> {
  const res = await send(path, 'POST', { 'Content-Type': 'application/json' }, JSON.stringify(body))
  return res.blob()
}

interface SessionBody { user: User; csrf_token: string }

export async function login(name: string, password: string): Promise<void> {
  const body = await api<SessionBody>('/login', { method: 'POST', body: { name, password } })
  session.user = body.user
  session.csrf = body.csrf_token
}

export async function loadMe(): Promise<void> {
  try {
    const body = await api<SessionBody>('/me')
    session.user = body.user
    session.csrf = body.csrf_token
  } catch {
    session.user = null
  } finally {
    session.checked = true
  }
}

export async function logout(): Promise<void> {
  try {
    await api<void>('/logout', { method: 'POST' })
  } finally {
    session.user = null
    session.csrf = ''
  }
}

/** Whether the backend has a route (its OpenAPI document lists it); false when unknown. */
let openapi: Promise<Set<string>> | null = null
export function hasRoute(path: string): Promise<boolean> {
  openapi ??= fetch('/api/openapi.json', { credentials: 'same-origin' })
    .then((r) => (r.ok ? r.json() : { paths: {} }))
    .then((doc) => new Set(Object.keys(doc.paths ?? {})))
    .catch(() => new Set<string>())
  return openapi.then((paths) => paths.has(path))
}

export interface Turn {
  who: 'caller' | 'secretary'
  text: string
  started_at: number | null
  ended_at: number | null
  timings?: Record<string, number> | string
}

export interface CallItem {
  call_id: string
  line: string | null
  caller_id: string | null
  language: string | null
  started_at: number
  ended_at: number | null
  ended_by: string | null
  duration_s: number | null
  turn_count?: number
  transferred_to?: string | null
  node?: string | null  // the box that took it (several boxes, one database)
}

export interface Call extends CallItem { turns: Turn[] }

export interface Page<T> { items: T[]; total?: number; limit: number; offset: number }

export interface Message {
  id: number
  call_id: string | null
  created_at: number
  language: string | null
  name: string | null
  callback_number: string | null
  reason: string | null
  urgency: string
  caller_id: string | null
  handled?: boolean
  handled_by?: string | null
  /** false: the call ended before the caller confirmed the message (absent from older servers) */
  confirmed?: boolean
  /** each staff channel's outcome, once known: 'ok' or 'failed: why' ({}: none configured, or still sending) */
  notified?: Record<string, string> | null
}

/** A persona file (GET/PUT /api/persona/{name}): its text, its data as JSON, and a version for PUT. */
export interface PersonaDoc {
  name: string
  yaml: string
  persona: Record<string, unknown>
  version: string
}

export interface FieldError { field: string; message: string }

/** The field errors of a 422: ours ({detail: {message, errors}}) or FastAPI's ({detail: [{loc, msg}]}). */
export function fieldErrors(e: unknown): FieldError[] {
  if (!(e instanceof ApiError) || e.status !== 422) return []
  const detail = (e.body as { detail?: unknown } | undefined)?.detail
  const list = Array.isArray(detail) ? detail : (detail as { errors?: unknown } | undefined)?.errors
  if (!Array.isArray(list)) return []
  return list.map((x: Record<string, unknown>) => {
    if (typeof x?.field === 'string') return { field: x.field, message: String(x.message ?? '') }
    const loc = Array.isArray(x?.loc) ? x.loc.filter((p) => p !== 'body').join('.') : ''
    return { field: loc, message: String(x?.msg ?? x?.message ?? '') }
  })
}

/** GET /api/dashboard: today's counts in the viewer's zone, and reply latency hour by hour. */
export interface LatencySummary { replies: number; p50_ms: number | null; p95_ms: number | null }
export interface Dashboard {
  day: string
  tz: string
  calls: number
  answered: number
  transferred: number
  unended: number
  in_progress: number | null
  messages: number
  latency: LatencySummary
  hours: (LatencySummary & { from: number })[]
  engines: EngineHealth | null
}
/** Since the app started, from its own metrics (no checks run). */
export interface EngineHealth {
  ok: boolean
  errors: Record<string, number>
  calls_refused: number
  recogniser_queue: number
  records_spooled: number
  draining: boolean
}

/** An account of the console (GET /api/users). */
export interface ConsoleUser { name: string; role: Role; created_at: number | string | null }

/** One line of the audit log (GET /api/audit), newest first. */
export interface AuditEntry {
  id: number
  at: number
  who: string | null
  what: string
  details: Record<string, unknown> | string | null
}

/** GET /api/health: what `secretary doctor` checks, run now. */
export interface HealthCheck { name: string; status: 'ok' | 'warn' | 'fail'; detail: string; fix: string | null }
export interface Health { checked_at: number; ok: boolean; summary: string; checks: HealthCheck[] }

/** One `llm.providers` entry as the config has it, with `label` and `key_set` added by GET. */
export type LlmProvider = Record<string, unknown> & { key_set?: boolean | null; label?: string }

/** GET/PUT /api/settings/llm. */
export interface LlmSettings {
  configured: boolean
  providers: LlmProvider[]
  secrets_file: string | null
  filler_after_s: number | null
  version: string
  restart_needed?: boolean | null
}

/** POST /api/settings/llm/{index}/test. */
export interface LlmTest {
  ok: boolean
  provider: string
  first_token_ms: number | null
  total_ms: number | null
  reply: string | null
  error: string | null
}

/** GET /api/voices: the cloned voices' reference clips and the voice each language (and line) uses. */
export interface VoiceChoiceValue { engine: string; voice: string }
export interface ClonedVoice {
  name: string
  created: number | string | null
  clips: number
  total_duration_s: number | null
  error?: string | null
}
export interface LineVoice { language: string | null; voice: VoiceChoiceValue | null }
export interface Voices {
  voices_dir: string
  cloned: ClonedVoice[]
  in_use: Record<string, VoiceChoiceValue>
  fallback: Record<string, VoiceChoiceValue>
  engines: string[]
  lines?: Record<string, LineVoice>
  /** choices in the config file that the running app does not use yet, by row key ('lang:ru', 'line:100') */
  next_start?: Record<string, VoiceChoiceValue | null>
}

/** POST /api/voices: each clip's measurements and problems (by its file name). */
export interface ClipCheck {
  file: string
  ok: boolean
  problems: string[]
  notes?: string[]
  duration_s: number
  sample_rate: number
  channels: number
  rms_dbfs: number
  peak_dbfs: number
  clipped_fraction: number
  silence_fraction: number
}
export interface VoiceCheck { name: string; ok: boolean; problems: string[]; total_duration_s: number; clips: ClipCheck[] }

/** POST /api/chat: one turn of a text conversation with the secretary. */
export interface ChatReply {
  conversation_id: string
  persona: string
  language: string
  reply: string
  intent: string | null
  end_call: boolean
  transfer: string | null
  message: (Record<string, unknown> & { stored_id?: number }) | null
}
