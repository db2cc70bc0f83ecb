import { encodeFrame, FLAG_POSS_DUP, FrameError, type Frame } from './frame.js';

/**
 * The messages of the modelled main-station protocol (docs/protocol.md). Bodies are JSON objects
 * with the field names below; field names of orders and returns are the DBF column names, so a
 * reader of the protocol and of docs/interface.md sees one vocabulary.
 */
export enum MessageType {
  Logon = 0x01,
  LogonAnswer = 0x02,
  Order = 0x03,
  OrderAnswer = 0x04,
  Return = 0x05,
  ReturnAck = 0x06,
  Heartbeat = 0x07,
  Notice = 0x08,
  Quit = 0x09,
  MarketState = 0x0a,
}

/** Gateway → main station, first frame of a session. */
export interface LogonBody {
  station: string;
  units: string[];
  /** The highest return sequence (HBXH) already in NQHB.DBF; the main station resends the rest. */
  lastReturnSeq: number;
  /** 'ekey' (hardware) or 'soft' (软加密) - the main station checks soft logons against its list. */
  auth: 'ekey' | 'soft' | 'file';
  /** The gateway's trading date, YYYYMMDD CST. */
  tradingDate: string;
  software: string;
  /** 不接受成交: the main station sends no fill returns (HBLB '2') to this session. */
  noFills?: boolean;
}

export interface LogonAnswerBody {
  ok: boolean;
  /** On refusal: a reason code and the main station's words. */
  code?: string;
  text?: string;
  tradingDate: string;
  marketState: string;
  /** Main station's clock, ms since epoch, for information. */
  serverTime: number;
}

/** One order: the NQWT.DBF fields the main station needs, plus the record number for messages. */
export interface OrderBody {
  JYDY: string;
  WTRQ: string;
  WTSJ: string;
  LSH: string;
  GDDM: string;
  ZQDM: string;
  YWLB: string;
  WTJG: number;
  WTSL: number;
  DFXW: string;
  DFGD: string;
  YDH: string;
  CDLSH: string;
  BZ: string;
  /** 1-based position in NQWT.DBF (委托第 x 笔), carried so rejections can name it. */
  recNo: number;
}

/**
 * The main station's receipt of an order. 'taken': recorded (its confirmation or rejection
 * follows as a Return). 'duplicate': a possible-duplicate resend of a serial number already
 * taken, dropped silently. The gateway may forget an order from its journal once it is answered.
 */
export interface OrderAnswerBody {
  JYDY: string;
  LSH: string;
  status: 'taken' | 'duplicate';
}

/**
 * One row for NQHB.DBF, numbered by the main station (HBXH 1, 2, 3 ... per station and day).
 * The types below are what a well-behaved main station sends. As received by the gateway, only
 * HBXH is checked (a whole number from 1 to 999999999999, or the link refuses the frame, NQ542);
 * every other field is as the main station sent it, of any JSON type or missing, and is judged
 * where the row is written (dbf/return-fit.ts: written with what fits, the raw value kept).
 */
export interface ReturnBody {
  HBXH: number;
  JYDY: string;
  HBRQ: string;
  HBSJ: string;
  LSH: string;
  HBLB: '0' | '1' | '2' | '3';
  ZQDM: string;
  GDDM: string;
  YWLB: string;
  CJBH: string;
  CJJG: number;
  CJSL: number;
  CWDM: string;
  CWXX: string;
  /** Order's position in NQWT.DBF when the main station knows it (for 主站错单通知 messages). */
  recNo?: number;
}

export interface ReturnAckBody {
  HBXH: number;
}

export interface NoticeBody {
  text: string;
}

export interface QuitBody {
  reason: string;
}

export interface MarketStateBody {
  /** e.g. 'PRE_OPEN', 'OPEN', 'BREAK', 'CLOSED' - shown to the operator as 股市状态. */
  state: string;
}

/**
 * Error codes (CWDM) of the main station's rejections, and the vendor message each maps to on the
 * gateway's screen (主站错单通知 ...). Shared by the simulator and the gateway.
 */
export const REJECT_CODES = {
  SERIAL: 'E001', // 流水号非法 (malformed or repeated serial number)
  SECURITY: 'E002', // 证券代码非法/已停牌
  BUSINESS: 'E003', // 为非法业务
  DATE: 'E004', // 日期非法
  UNIT: 'E005', // 交易单元非法 (not of this station)
} as const;

export type HeartbeatBody = Record<string, never>;

export type Message =
  | { type: MessageType.Logon; body: LogonBody }
  | { type: MessageType.LogonAnswer; body: LogonAnswerBody }
  | { type: MessageType.Order; body: OrderBody; possDup?: boolean }
  | { type: MessageType.OrderAnswer; body: OrderAnswerBody }
  | { type: MessageType.Return; body: ReturnBody }
  | { type: MessageType.ReturnAck; body: ReturnAckBody }
  | { type: MessageType.Heartbeat; body: HeartbeatBody }
  | { type: MessageType.Notice; body: NoticeBody }
  | { type: MessageType.Quit; body: QuitBody }
  | { type: MessageType.MarketState; body: MarketStateBody };

export function encodeMessage(msg: Message, seq: number): Buffer {
  const possDup = msg.type === MessageType.Order && msg.possDup === true;
  return encodeFrame({
    type: msg.type,
    seq,
    flags: possDup ? FLAG_POSS_DUP : 0,
    body: Buffer.from(JSON.stringify(msg.body), 'utf8'),
  });
}

const KNOWN = new Set<number>(Object.values(MessageType).filter((v): v is number => typeof v === 'number'));

/** Decode a frame's body. Shape checks are the receiver's job; this checks type and JSON. */
export function decodeMessage(frame: Frame): Message {
  if (!KNOWN.has(frame.type)) throw new FrameError(`unknown message type 0x${frame.type.toString(16)}`);
  let body: unknown;
  try {
    body = JSON.parse(frame.body.toString('utf8'));
  } catch {
    throw new FrameError(`message type 0x${frame.type.toString(16)} has a body that is not JSON`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new FrameError(`message type 0x${frame.type.toString(16)} has a body that is not an object`);
  }
  const msg = { type: frame.type, body } as Message;
  if (msg.type === MessageType.Order) msg.possDup = (frame.flags & FLAG_POSS_DUP) !== 0;
  return msg;
}
