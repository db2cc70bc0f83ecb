import { FrameDecoder } from './frame.js';
import { decodeMessage, MessageType, type Message } from './messages.js';
import { LinkProtocolError } from './errors.js';
import { AppError } from '../shared/index.js';
import { cleanPeerText, NOTICE_MAX_CHARS, SHORT_TEXT_MAX_CHARS } from './text.js';

/**
 * The receiving half of a session, without side effects: bytes in, checked messages out.
 * Checks, in this order, for each frame: framing (FrameDecoder), the packet sequence number (must be
 * exactly the next one: a gap or a repeat is a protocol error, never papered over - QuickFIX/J#656),
 * the message type and JSON (decodeMessage), the direction (only main-station → gateway types) and
 * the body's shape (the fields the gateway relies on; of a Return only HBXH). The main station's free text is then made
 * safe to show (text.ts: control characters out, length capped).
 */
export class Inbound {
  private decoder = new FrameDecoder();
  private expected = 1;

  /** Bytes held of a frame not yet complete. */
  get partialBytes(): number {
    return this.decoder.buffered;
  }

  /** Body length the incomplete frame's header announced, or null. */
  get partialAnnounced(): number | null {
    return this.decoder.announced;
  }

  /** Sequence number the next incoming frame must carry. */
  get nextSeq(): number {
    return this.expected;
  }

  /**
   * Decode what one chunk completes. Messages before a fault are returned with the fault, so the
   * caller can deliver them before dropping the link.
   */
  push(chunk: Buffer): { messages: Message[]; error: Error | null } {
    const messages: Message[] = [];
    try {
      for (const frame of this.decoder.push(chunk)) {
        if (frame.seq !== this.expected) {
          const what = frame.seq < this.expected ? 'repeated' : 'gap in';
          throw new LinkProtocolError(`${what} packet sequence: expected ${this.expected}, got ${frame.seq}`);
        }
        const msg = decodeMessage(frame);
        checkShape(msg);
        cleanTexts(msg);
        this.expected += 1;
        messages.push(msg);
      }
    } catch (err) {
      return { messages, error: err instanceof Error ? err : new LinkProtocolError(String(err)) };
    }
    return { messages, error: null };
  }
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** The widest HBXH NQHB.DBF can hold: N(12,0). */
const HBXH_MAX = 999_999_999_999;

/**
 * A return whose HBXH is not a whole number from 1 to 999999999999. HBXH places the row in
 * NQHB.DBF (1, 2, 3 ... without a gap), so such a return cannot be written anywhere, and neither
 * can any return after it: only the main station can correct it. The link is dropped like for any
 * protocol error (its backoff bounds the logons); the words tell the operator to call.
 */
export class UnplaceableReturnError extends AppError {
  constructor(readonly raw: unknown) {
    super(
      'NQ542',
      `主站回报的回报序号 (HBXH) 非法: ${showHbxh(raw)}, 该回报及其后的回报均无法写入回报库; ` +
        '请致电主站技术支持更正该回报, 更正后网关自动续写 (重启无用)',
      'Call the main station: the return with this HBXH must be corrected there.',
    );
  }
}

function showHbxh(v: unknown): string {
  if (v === undefined) return '(无)';
  // The main station's value in one short line: JSON escapes control characters.
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 40 ? `${json.slice(0, 40)}…` : json;
}

function bad(msg: Message, field: string): never {
  throw new LinkProtocolError(`${MessageType[msg.type]} without a valid ${field}`);
}

/** Shape checks of the messages the gateway receives; a message of the other direction is an error. */
export function checkShape(msg: Message): void {
  const b = msg.body as unknown as Record<string, unknown>;
  switch (msg.type) {
    case MessageType.LogonAnswer:
      if (typeof b.ok !== 'boolean') bad(msg, 'ok');
      if (b.code !== undefined && !isStr(b.code)) bad(msg, 'code');
      if (b.text !== undefined && !isStr(b.text)) bad(msg, 'text');
      if (b.ok === true && !isStr(b.marketState)) bad(msg, 'marketState');
      return;
    case MessageType.OrderAnswer:
      if (!isStr(b.JYDY)) bad(msg, 'JYDY');
      if (!isStr(b.LSH)) bad(msg, 'LSH');
      if (b.status !== 'taken' && b.status !== 'duplicate') bad(msg, 'status');
      return;
    case MessageType.Return:
      // Only HBXH is judged here: every other field, of whatever type, is the return sink's to
      // write with what fits and report (dbf/return-fit.ts). Refusing the frame for them made the
      // main station resend it after every logon, and no return was written for the rest of the day.
      if (!isInt(b.HBXH) || b.HBXH < 1 || b.HBXH > HBXH_MAX) throw new UnplaceableReturnError(b.HBXH);
      return;
    case MessageType.Notice:
      if (!isStr(b.text)) bad(msg, 'text');
      return;
    case MessageType.Quit:
      if (b.reason !== undefined && !isStr(b.reason)) bad(msg, 'reason');
      return;
    case MessageType.MarketState:
      if (!isStr(b.state)) bad(msg, 'state');
      return;
    case MessageType.Heartbeat:
      return;
    case MessageType.Logon:
    case MessageType.Order:
    case MessageType.ReturnAck:
      throw new LinkProtocolError(`${MessageType[msg.type]} is sent by gateways, not by the main station`);
  }
}

/**
 * Replace the main station's free text (shown to operators, alerts and webhooks) by its safe form.
 * Returns and order answers are business data for NQHB.DBF and are checked where they are written.
 */
export function cleanTexts(msg: Message): void {
  const short = (v: string): string => cleanPeerText(v, SHORT_TEXT_MAX_CHARS);
  switch (msg.type) {
    case MessageType.Notice:
      msg.body.text = cleanPeerText(msg.body.text, NOTICE_MAX_CHARS);
      return;
    case MessageType.Quit:
      if (msg.body.reason !== undefined) msg.body.reason = short(msg.body.reason);
      return;
    case MessageType.MarketState:
      msg.body.state = short(msg.body.state);
      return;
    case MessageType.LogonAnswer: {
      const b = msg.body;
      if (b.code !== undefined) b.code = short(b.code);
      if (b.text !== undefined) b.text = short(b.text);
      if (typeof b.marketState === 'string') b.marketState = short(b.marketState);
      if (typeof b.tradingDate === 'string') b.tradingDate = short(b.tradingDate);
      return;
    }
    default:
      return;
  }
}
