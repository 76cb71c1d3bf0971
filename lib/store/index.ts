/** The store's public face: the user store, its record types, and password hashing. */
export * from './user-store';
export { hashPassword, verifyPassword } from './passwords';
