import type { Session } from './api.tsx';

// The desk's live feed over Server-Sent Events. EventSource cannot send an Authorization header
// (and the token must never go in a URL), so the stream is read with fetch and parsed here.
// After a dropped connection it reconnects with Last-Event-ID, so nothing stored meanwhile is missed.

export interface FeedEvent {
  seq: number;
  alertId: string;
  version: number;
  msgType: string;
  state: string;
  noticeType: string;
  senderRegion: string;
  urgency: string;
  headline: string | null;
  receivedAt: string;
  redactedGroups: string[];
  executionFlags: string[];
  noReshare: boolean;
}

export type FeedStatus = 'connecting' | 'live' | 'reconnecting';

export function openFeed(session: Session, onEvent: (e: FeedEvent) => void, onStatus: (s: FeedStatus) => void): () => void {
  let lastId = 0;
  let stopped = false;
  let controller: AbortController | null = null;
  let retryMs = 2000;

  const run = async (): Promise<void> => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch(`/api/agencies/${session.agency}/stream`, {
          headers: { authorization: `Bearer ${session.token}`, accept: 'text/event-stream', 'last-event-id': String(lastId) },
          signal: controller.signal,
        });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onStatus('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let data = '';
            for (const line of frame.split('\n')) {
              if (line.startsWith('id:')) lastId = Number(line.slice(3).trim()) || lastId;
              else if (line.startsWith('data:')) data += line.slice(5).trim();
              else if (line.startsWith('retry:')) retryMs = Number(line.slice(6).trim()) || retryMs;
            }
            if (data) onEvent(JSON.parse(data) as FeedEvent);
          }
        }
      } catch {
        // Dropped or refused: fall through to reconnect unless stopped.
      }
      if (stopped) return;
      onStatus('reconnecting');
      await new Promise((r) => setTimeout(r, retryMs));
    }
  };
  onStatus('connecting');
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
