// One accepted voice session: the first event, the agent acknowledgement, audio in (binary
// PCM16 frames or JSON input_audio_buffer.append with base64), transcript-like events out at
// a realistic pace. Event shapes are the project's shared interface (brief, docs/target.md).

import type WebSocket from 'ws';
import type { UserIdentity } from './auth/verify.ts';

export interface VoiceConfig {
  /** PCM16 mono sample rate of incoming audio. */
  sampleRate: number;
  /** Milliseconds of audio per transcript event. */
  utteranceMs: number;
  /** Delay between an utterance's last audio and its transcript ("recognition latency"). */
  transcriptDelayMs: number;
  /** Transcripts queued per session at most; beyond that audio is counted but coalesced. */
  maxPendingTranscripts: number;
  /**
   * Answers queued for a client that does not read them beyond this many bytes: the session
   * stops reading from that client until they drain (backpressure, as a real server's
   * blocking send gives), so a client that never reads cannot grow the target's memory.
   */
  maxBufferedBytes: number;
}

export interface VoiceCounters {
  received: number;
  sent: number;
  audioBytes: number;
  transcripts: number;
  errors: number;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class VoiceSession {
  private audioBytesPending = 0;
  private utterances = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly bytesPerUtterance: number;

  constructor(
    private readonly ws: WebSocket,
    readonly sessionId: string,
    readonly user: UserIdentity,
    private readonly cfg: VoiceConfig,
    private readonly counters: VoiceCounters,
  ) {
    this.bytesPerUtterance = Math.max(2, Math.round((cfg.sampleRate * 2 * cfg.utteranceMs) / 1000));
  }

  start(): void {
    this.send({
      type: 'session.created',
      session_id: this.sessionId,
      user_id: this.user.id,
      user: { id: this.user.id, email: this.user.email, display_name: this.user.display_name },
    });
    this.ws.on('message', (data, isBinary) => this.onMessage(data as Buffer | Buffer[] | ArrayBuffer, isBinary));
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private send(obj: object): void {
    if (this.ws.readyState !== 1) return;
    this.counters.sent++;
    this.ws.send(JSON.stringify(obj), this.sent);
    if (!this.ws.isPaused && this.ws.bufferedAmount > this.cfg.maxBufferedBytes) this.ws.pause();
  }

  /** After each answer is handed to the kernel: read again once the backlog is down to half. */
  private readonly sent = (): void => {
    if (this.ws.isPaused && this.ws.readyState === 1 && this.ws.bufferedAmount <= this.cfg.maxBufferedBytes / 2) this.ws.resume();
  };

  private error(code: string, message: string): void {
    this.counters.errors++;
    this.send({ type: 'error', code, message });
  }

  private onMessage(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    this.counters.received++;
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      this.audio(buf.length);
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(buf.toString('utf8'));
    } catch {
      this.error('invalid_json', 'text frames must be JSON events');
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.error('invalid_event', 'an event is a JSON object with a "type"');
      return;
    }
    const ev = msg as Record<string, unknown>;
    switch (ev.type) {
      case 'agent':
        if (typeof ev.agent_id !== 'string' || ev.agent_id === '' || ev.agent_id.length > 64) {
          this.error('invalid_agent', 'agent_id must be a non-empty string of at most 64 characters');
          return;
        }
        this.send({ type: 'agent.selected', agent_id: ev.agent_id, session_id: this.sessionId, user_id: this.user.id });
        return;
      case 'input_audio_buffer.append': {
        const audio = ev.audio;
        if (typeof audio !== 'string' || audio.length % 4 !== 0 || !BASE64_RE.test(audio)) {
          this.error('invalid_audio', 'input_audio_buffer.append needs base64 PCM16 in "audio"');
          return;
        }
        this.audio(Math.floor((audio.length * 3) / 4) - (audio.endsWith('==') ? 2 : audio.endsWith('=') ? 1 : 0));
        return;
      }
      case 'input_audio_buffer.commit':
        if (this.audioBytesPending > 0) this.utterance(this.audioBytesPending);
        this.audioBytesPending = 0;
        return;
      case 'ping':
        this.send({ type: 'pong' });
        return;
      default:
        this.error('unknown_event', 'unknown event type');
    }
  }

  private audio(bytes: number): void {
    this.counters.audioBytes += bytes;
    this.audioBytesPending += bytes;
    while (this.audioBytesPending >= this.bytesPerUtterance) {
      this.audioBytesPending -= this.bytesPerUtterance;
      this.utterance(this.bytesPerUtterance);
    }
  }

  private utterance(bytes: number): void {
    if (this.timers.size >= this.cfg.maxPendingTranscripts) return;
    const n = ++this.utterances;
    const ms = Math.round((bytes / (this.cfg.sampleRate * 2)) * 1000);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.counters.transcripts++;
      this.send({ type: 'transcript', session_id: this.sessionId, user_id: this.user.id, text: `utterance ${n} (${ms} ms of audio)` });
    }, this.cfg.transcriptDelayMs);
    this.timers.add(t);
  }
}
