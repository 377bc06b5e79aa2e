// Package credential makes and checks the secrets Tollgate hands out:
// password hashes (argon2id, RFC 9106, parameters recorded with the hash in
// the PHC string format) and high-entropy random tokens, which are stored
// only as their SHA-256 hash (a slow hash adds nothing to 256 random bits).
// Every comparison is constant-time.
package credential
