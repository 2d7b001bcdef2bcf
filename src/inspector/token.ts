import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A fresh secret for one inspector: 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Whether `offered` is `token`, compared in constant time: a comparison that
 * stops at the first wrong character would tell a patient guesser how much
 * is right. Both are hashed first so that lengths never differ either.
 */
export function tokenMatches(token: string, offered: unknown): boolean {
  if (typeof offered !== "string" || offered.length > 1024) return false;
  const digest = (text: string): Buffer => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(token), digest(offered));
}
