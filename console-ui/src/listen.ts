// Listening in on a call: WS /api/live/{id}/listen sends 20 ms frames of 8 kHz s16le mono
// PCM; each frame becomes an 8000 Hz AudioBuffer, which the AudioContext resamples to its own
// rate, played back to back a little behind real time (jitter room).
import { wsUrl } from './live'

const LEAD_S = 0.12

export class Listener {
  private ctx: AudioContext
  private ws: WebSocket
  private next = 0
  /** seconds of the call's audio received so far */
  heard = 0
  onclose: (() => void) | null = null
  onframe: ((heard: number) => void) | null = null

  constructor(callId: string) {
    this.ctx = new AudioContext()
    this.ws = new WebSocket(wsUrl(`/api/live/${encodeURIComponent(callId)}/listen`))
    this.ws.binaryType = 'arraybuffer'
    this.ws.onmessage = (msg) => {
      if (msg.data instanceof ArrayBuffer) this.play(msg.data)
    }
    this.ws.onclose = () => {
      void this.ctx.close()
      this.onclose?.()
    }
  }

  private play(data: ArrayBuffer): void {
    const samples = new Int16Array(data, 0, Math.floor(data.byteLength / 2))
    if (samples.length === 0) return
    const buffer = this.ctx.createBuffer(1, samples.length, 8000)
    const channel = buffer.getChannelData(0)
    for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768
    const source = this.ctx.createBufferSource()
    source.buffer = buffer
    source.connect(this.ctx.destination)
    const now = this.ctx.currentTime
    if (this.next < now + 0.02) this.next = now + LEAD_S // start, or catch up after a gap
    source.start(this.next)
    this.next += buffer.duration
    this.heard += buffer.duration
    this.onframe?.(this.heard)
  }

  stop(): void {
    this.ws.close()
  }
}
