export * from './constants';
export { FrameDecoder, encodeFrame } from './frame';
export { SealedSession } from './seal';
export * from './handshake';
export { type Message, encodeMessage, requestLine, decodeMessages, fragmentReply } from './messages';
export { SealedWriter, REPLY_FRAGMENT_CHARS } from './sealed-writer';
