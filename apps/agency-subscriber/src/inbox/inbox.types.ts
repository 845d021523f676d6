import type { MsgType } from '@backbone/codec';

export type AlertState = 'ACTIVE' | 'CANCELLED' | 'PURGED';

/** One alert as a desk sees it in a list: the visible version, no full content. */
export interface InboxItem {
  alertId: string;
  version: number;
  msgType: MsgType;
  state: AlertState;
  sender: string;
  senderRegion: string;
  noticeType: string;
  urgency: string;
  severity: string;
  tlp: string;
  status: string;
  sent: string;
  expires: string | null;
  headline: string | null;
  description: string | null;
  executionFlags: string[];
  noReshare: boolean;
  redactedGroups: string[];
  firstReceivedAt: string;
  updatedAt: string;
  seq: number;
  acknowledged: { version: number; at: string } | null;
}

export interface InboxVersion {
  version: number;
  msgType: MsgType;
  seq: number;
  deliveryId: string;
  receivedAt: string;
  decidedAt: string;
  policyVersion: string;
  ruleId: string;
  outcome: string;
  recall: boolean;
  replay: boolean;
  executionFlags: string[];
  noReshare: boolean;
  redactedGroups: string[];
  headline: string | null;
}

/** GET /inbox/{alertId}: the visible version with its (redacted) content and the version history. */
export interface InboxDetail extends InboxItem {
  alert: Record<string, unknown> | null;
  versions: InboxVersion[];
}

export interface InboxPage {
  items: InboxItem[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** One entry of the live feed: a stored version, identified by its inbox sequence number. */
export interface FeedEvent {
  seq: number;
  alertId: string;
  version: number;
  msgType: MsgType;
  /** The alert's state now (an old version replayed after a cancel says CANCELLED). */
  state: AlertState;
  senderRegion: string;
  noticeType: string;
  urgency: string;
  severity: string;
  tlp: string;
  headline: string | null;
  description: string | null;
  alert: Record<string, unknown> | null;
  executionFlags: string[];
  noReshare: boolean;
  redactedGroups: string[];
  recall: boolean;
  replay: boolean;
  receivedAt: string;
}

export interface InboxQuery {
  q?: string;
  noticeType?: string;
  since?: Date;
  cursor?: string;
  limit: number;
}

export type StoreOutcome =
  | { stored: true; seq: number; effect: 'NEW' | 'UPDATED' | 'CANCELLED' | 'HISTORY_ONLY' }
  | { stored: false; reason: 'DUPLICATE' | 'WRONG_RECIPIENT' };
