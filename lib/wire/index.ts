export * from './constants';
export { FrameDecoder, encodeFrame } from './frame';
export { SealedSession } from './seal';
export * from './handshake';
export { type Message, encodeMessage, decodeMessages } from './messages';
export { SealedWriter } from './sealed-writer';
